// make bench: W1, W2 and W3 of the performance notes, side by side in one
// run, on every system: our engine compiled to wasm under Node, natively on
// one core and on all cores, and TensorFlow.js 4.22 on its cpu and wasm
// backends under Node. Every system runs each workload in a long-lived
// child process of its own (so that one workload's JIT state or garbage
// never slows another) that speaks the line protocol of protocol.mjs; the
// processes run one at a time, warmed up first, in interleaved rounds (the
// order of the systems rotates every round), and each system's median round
// is reported. Prints a table; writes JSON to $BENCH_OUT when set.
//
//   node web/bench/run.mjs [--rounds 5] [--seconds 2] [--ckpt]
//       [--systems go-wasm,go-native-1,...] [--workloads W1,W2,W3]
//       [--clock cpu|wall] [--native bin/playground] [--wasm bin/playground.wasm]
//
// Rates are per CPU-second of the child process (user + system time from
// /proc, as in the performance notes), which a busy machine hardly skews;
// go-native-all, the one system that uses several cores, is timed by the
// wall clock. --clock wall (or BENCH_CLOCK=wall) times every system by the
// wall clock. --ckpt also runs the checkpoint encode/decode/verify
// benchmarks of persist natively and under Node.
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const args = process.argv.slice(2);
function opt(name, def) {
  const i = args.indexOf(name);
  return i < 0 ? def : args[i + 1];
}
const rounds = Number(opt('--rounds', 5));
const seconds = Number(opt('--seconds', 2));
const clock = opt('--clock', process.env.BENCH_CLOCK || 'cpu');
const workloads = opt('--workloads', 'W1,W2,W3').split(',');
const systemNames = opt('--systems', 'go-wasm,go-native-1,go-native-all,tfjs-cpu,tfjs-wasm').split(',');
const nativeBin = path.resolve(root, opt('--native', 'bin/playground'));
const wasmBin = path.resolve(root, opt('--wasm', 'bin/playground.wasm'));
// Go's wasm_exec_node.js with the engine's SIMD128 kernels (engine/wasmsimd).
const wasmExec = path.join(root, 'engine', 'wasmsimd', 'exec_node.js');

// Warm-up per workload and system, in CPU-seconds of the process: TF.js
// needs about 5 to reach steady speed; Go needs V8 to tier the wasm up,
// natively nothing.
const warmup = { 'go-wasm': 2, 'go-native-1': 0.5, 'go-native-all': 0.5, 'tfjs-cpu': 5, 'tfjs-wasm': 5 };

// FLOPs per step: 6 × params × batch for the MLPs, 2·n³ for the matmul.
const params = (sizes) => sizes.slice(1).reduce((s, n, i) => s + n * sizes[i] + n, 0);
const flops = { W1: 6 * params([2, 16, 16, 1]) * 10, W2: 6 * params([784, 256, 128, 10]) * 64, W3: 2 * 256 ** 3 };

const commands = {
  'go-wasm': ['node', [wasmExec, wasmBin, 'bench', '--serve']],
  'go-native-1': [nativeBin, ['bench', '--serve', '--workers', '1']],
  'go-native-all': [nativeBin, ['bench', '--serve', '--workers', '0']],
  'tfjs-cpu': ['node', [path.join(here, 'tfjs.mjs'), '--serve', '--backend', 'cpu']],
  'tfjs-wasm': ['node', [path.join(here, 'tfjs.mjs'), '--serve', '--backend', 'wasm']],
};

// cpuSeconds is the user + system CPU time of a process so far (Linux).
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in USER_HZ
  } catch {
    return NaN;
  }
}

// A System is one benchmarked child process.
class System {
  constructor(name) {
    const [cmd, argv] = commands[name];
    this.name = name;
    this.proc = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], cwd: root });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
    this.proc.on('exit', (code) => { this.exited = code; });
  }

  // measure runs a workload for about secs and returns its rates.
  async measure(workload, secs) {
    const c0 = cpuSeconds(this.proc.pid);
    this.proc.stdin.write(JSON.stringify({ workload, seconds: secs }) + '\n');
    let line;
    do {
      const next = await this.lines.next();
      if (next.done) throw new Error(`${this.name} exited (${this.exited}):\n${this.stderr}`);
      line = next.value;
    } while (!line.startsWith('{'));
    const ans = JSON.parse(line);
    if (ans.error) throw new Error(`${this.name}: ${ans.error}`);
    const cpu = cpuSeconds(this.proc.pid) - c0;
    return { wall: ans.steps / ans.seconds, cpu: ans.steps / cpu, util: cpu / ans.seconds };
  }

  // warm runs a workload until the process has used cpuSecs of CPU time
  // (or three times that of wall time, on a machine too busy to give it).
  async warm(workload, cpuSecs) {
    const c0 = cpuSeconds(this.proc.pid), t0 = Date.now();
    do {
      await this.measure(workload, Math.min(1, cpuSecs));
    } while (!(cpuSeconds(this.proc.pid) - c0 >= cpuSecs) && Date.now() - t0 < 3000 * cpuSecs);
  }

  close() {
    this.proc.stdin.end();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const log = (s) => process.stderr.write(s + '\n');

for (const f of [nativeBin, wasmBin, wasmExec]) {
  if (!existsSync(f)) throw new Error(`${f} is missing (make bench builds it)`);
}
for (const n of systemNames) {
  if (!commands[n]) throw new Error(`unknown system ${n}`);
}
const started = Date.now();
log(`bench: ${systemNames.join(' ')} on ${workloads.join(' ')}: warm-up, then ${rounds} rounds of ${seconds} s each (${clock} clock, ${cpus().length} cores)`);
const procs = {}; // workload -> system -> System
for (const w of workloads) {
  for (const n of systemNames) {
    const s = new System(n);
    await s.warm(w, warmup[n]);
    (procs[w] ??= {})[n] = s;
  }
  log(`  warmed up ${w} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
const samples = {}; // workload -> system -> [{wall, cpu, util}]
for (let r = 0; r < rounds; r++) {
  for (const w of workloads) {
    for (let i = 0; i < systemNames.length; i++) {
      const n = systemNames[(i + r) % systemNames.length];
      ((samples[w] ??= {})[n] ??= []).push(await procs[w][n].measure(w, seconds));
    }
  }
  log(`  round ${r + 1}/${rounds} done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
Object.values(procs).forEach((m) => Object.values(m).forEach((s) => s.close()));

// The table, and the JSON.
const results = [];
const rows = [['workload', 'system', 'steps/s', 'GFLOP/s', 'vs tfjs-wasm', 'spread', 'cpu/wall']];
for (const w of workloads) {
  const med = {};
  for (const s of systemNames) {
    const xs = samples[w][s];
    const useCpu = clock === 'cpu' && s !== 'go-native-all' && xs.every((x) => Number.isFinite(x.cpu)); // no /proc: wall
    const rates = xs.map((x) => (useCpu ? x.cpu : x.wall));
    med[s] = { rate: median(rates), spread: (Math.max(...rates) - Math.min(...rates)) / median(rates), util: median(xs.map((x) => x.util)) };
  }
  for (const s of systemNames) {
    const m = med[s];
    const gflops = (m.rate * flops[w]) / 1e9;
    results.push({ workload: w, system: s, steps_per_s: Number(m.rate.toPrecision(6)), gflops: Number(gflops.toPrecision(4)) });
    const ratio = med['tfjs-wasm'] ? (m.rate / med['tfjs-wasm'].rate).toFixed(2) + '×' : '-';
    rows.push([w, s, m.rate.toFixed(m.rate < 100 ? 1 : 0), gflops.toFixed(2), ratio, '±' + (50 * m.spread).toFixed(0) + '%', m.util.toFixed(2)]);
  }
}
const width = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
const fmt = (r) => '| ' + r.map((v, c) => (c < 2 ? v.padEnd(width[c]) : v.padStart(width[c]))).join(' | ') + ' |';
console.log(fmt(rows[0]));
console.log('|' + width.map((n, c) => (c < 2 ? '-'.repeat(n + 2) : '-'.repeat(n + 1) + ':')).join('|') + '|');
rows.slice(1).forEach((r) => console.log(fmt(r)));
const busy = Object.values(samples).some((bySys) =>
  Object.entries(bySys).some(([n, xs]) => n !== 'go-native-all' && median(xs.map((x) => x.util)) < 0.8));
if (busy) {
  console.log('\nwarning: a single-threaded system got less than 0.8 CPU-seconds per second (cpu/wall): the machine was busy' +
    (clock === 'wall' ? ', which skews wall-clock rates.' : '; go-native-all (wall clock) is understated.'));
}
console.log(`\nmedian of ${rounds} interleaved rounds of ${seconds} s; steps per ` +
  (clock === 'cpu' ? 'CPU-second of the process (go-native-all: per wall-second)' : 'wall-second') +
  '; spread = half the range of the rounds; W1 and W2 GFLOP/s count 6 × params × batch per step, W3 2·256³ per product.');
if (process.env.BENCH_OUT) {
  writeFileSync(process.env.BENCH_OUT, JSON.stringify(results, null, 2) + '\n');
  log(`bench: wrote ${process.env.BENCH_OUT}`);
}

if (args.includes('--ckpt')) {
  // Checkpoint encode/decode/verify of the W2 training state (params + Adam
  // m and v: 705,438 floats), from persist's Go benchmarks.
  const bench = (env) => {
    const out = execFileSync('go', ['test', '-run', '^$', '-bench', '^Benchmark(Encode|Decode|Verify)$', '-benchtime', '1s', './persist'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
    const mbs = {};
    for (const m of out.matchAll(/^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns\/op\s+([\d.]+) MB\/s/gm)) {
      mbs[m[1]] = { mbs: Number(m[3]), ms: Number(m[2]) / 1e6 };
    }
    return mbs;
  };
  log('bench: checkpoint benchmarks (persist), native and wasm');
  const native = bench({});
  const wasm = bench({ GOOS: 'js', GOARCH: 'wasm', PATH: `${path.dirname(wasmExec)}:${process.env.PATH}` });
  console.log('\n| checkpoint (2.82 MB W2 state) | native MB/s | native ms | wasm MB/s | wasm ms |');
  console.log('|---|---:|---:|---:|---:|');
  for (const op of ['Encode', 'Decode', 'Verify']) {
    const n = native[op], w = wasm[op];
    const f = (x, k, d) => (x ? x[k].toFixed(d) : '-');
    console.log(`| ${op.toLowerCase()} | ${f(n, 'mbs', 0)} | ${f(n, 'ms', 2)} | ${f(w, 'mbs', 0)} | ${f(w, 'ms', 2)} |`);
  }
}
