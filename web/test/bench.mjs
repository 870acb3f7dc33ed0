// Browser benchmarks of the zero-loss machinery, in headless Chromium
// (make bench-browser; not part of make test):
//
//  1. training-thread pause per autosave of the digits preset's state: the
//     worker charges each save with its snapshot plus the time of each yield
//     in which the save's code ran beyond the mean yield (encode, copies to
//     WebCrypto and to the writer worker); see wasm/session accountGap;
//  2. autosave overhead at the default interval: steps/s with autosave on
//     vs off in interleaved rounds, and the summed pauses over wall time;
//  3. navigation to the first resumed step after a reload at a random
//     moment (W1 and digits), from the page's navigation start;
//  4. auto-push: digits steps/s with auto-push on vs off (autosave on in
//     both) against `playground serve`, interleaved, and each auto-push's
//     time from the save's snapshot to the server's answer;
//  5. the engine's kernels where users run them: W1, W2 and W3 of make
//     bench timed inside the engine worker (its pg.bench hook), SIMD128
//     kernels in Chromium's V8 (first, and alone with --kernels).
//
// Prints a summary; writes JSON to $BENCH_BROWSER_OUT when set.
import fs from 'node:fs';
import os from 'node:os';
import { engineWorker, launch, serve, servePlayground, sleep, step, waitPhase } from './harness.mjs';

const quick = process.argv.includes('--quick');
const q = (xs, f) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(f * s.length))];
};
const stats = (xs) => ({ n: xs.length, median: q(xs, 0.5), p90: q(xs, 0.9), max: Math.max(...xs), min: Math.min(...xs) });
const r1 = (x) => Math.round(x * 10) / 10;

const srv = await serve();
const out = {};

// 5: W1-W3 in the engine worker of a page that does not train: a warm-up,
// then interleaved rounds; the median round, by the wall clock.
{
  const { ctx } = await launch();
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/`);
  const worker = await engineWorker(page);
  const names = ['W1', 'W2', 'W3'];
  const seconds = quick ? 1 : 2;
  const runs = Object.fromEntries(names.map((w) => [w, []]));
  let simd = '';
  for (const w of names) await worker.evaluate(([w, s]) => self.pg.bench(w, s), [w, seconds]); // warm-up
  for (let r = 0; r < (quick ? 3 : 5); r++) {
    for (let i = 0; i < names.length; i++) {
      const w = names[(i + r) % names.length];
      const a = await worker.evaluate(([w, s]) => self.pg.bench(w, s), [w, seconds]);
      if (a.error) throw new Error(a.error);
      simd = a.simd;
      runs[w].push({ rate: a.steps / a.seconds, flops: a.flops });
    }
  }
  out.kernels = { simd: simd || 'off' };
  for (const w of names) {
    const rates = runs[w].map((x) => x.rate);
    const med = q(rates, 0.5);
    out.kernels[w] = { stepsPerSec: r1(med), gflops: r1((med * runs[w][0].flops) / 1e9), spreadPercent: r1((100 * (Math.max(...rates) - Math.min(...rates))) / 2 / med) };
  }
  await ctx.close();
  const k = out.kernels;
  console.log(`engine worker in Chromium (SIMD: ${k.simd}): ` + names.map((w) => `${w} ${k[w].stepsPerSec} steps/s ${k[w].gflops} GFLOP/s ±${k[w].spreadPercent}%`).join('; '));
  if (process.argv.includes('--kernels')) {
    await srv.close();
    if (process.env.BENCH_BROWSER_OUT) fs.writeFileSync(process.env.BENCH_BROWSER_OUT, JSON.stringify(out, null, 2));
    process.exit(0);
  }
}

// A fresh profile, the preset training; returns {ctx, page}.
async function fresh(preset, extra = '') {
  const { ctx } = await launch();
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/?preset=${preset}&autostart=1&debug=1${extra}`);
  await waitPhase(page, 'running', 60000);
  return { ctx, page };
}

// steps/s over a window, from the step counter.
async function rate(page, ms) {
  const s0 = await step(page);
  const t0 = Date.now();
  await sleep(ms);
  return ((await step(page)) - s0) / ((Date.now() - t0) / 1000);
}

// 1 and 2: digits, autosave on (default 1 s) and off, interleaved.
{
  const rounds = quick ? 2 : 4;
  const windowMs = quick ? 6000 : 10000;
  const on = [];
  const off = [];
  const pauses = [];
  let savedShare = [];
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? ['off', 'on'] : ['on', 'off']) {
      const { ctx, page } = await fresh('digits', mode === 'off' ? '&autosave=3600000' : '');
      await sleep(2000); // warm up; the origin save and first autosave settle
      const t0 = await page.evaluate(() => performance.now());
      const n0 = (await page.evaluate(() => window.__pgSaves.length));
      const v = await rate(page, windowMs);
      (mode === 'on' ? on : off).push(v);
      if (mode === 'on') {
        const saves = (await page.evaluate(() => window.__pgSaves)).slice(n0);
        const t1 = await page.evaluate(() => performance.now());
        pauses.push(...saves.map((s) => s.pauseMillis));
        savedShare.push(saves.reduce((a, s) => a + s.pauseMillis, 0) / (t1 - t0));
      }
      await ctx.close();
      process.stderr.write(`digits round ${r + 1} autosave ${mode}: ${Math.round(v)} steps/s\n`);
    }
  }
  const mOn = q(on, 0.5);
  const mOff = q(off, 0.5);
  out.autosavePause = { preset: 'digits', stateBytes: 634464, ms: stats(pauses) };
  out.autosaveOverhead = {
    interval: 'default: 0.5 s of training, stretched up to 2 s to keep saving under 1%',
    stepsPerSecOn: on.map(Math.round),
    stepsPerSecOff: off.map(Math.round),
    throughputLossPercent: r1(100 * (1 - mOn / mOff)),
    pauseSharePercent: r1(100 * q(savedShare, 0.5)),
  };
}

// 3: navigation -> first resumed step, reloading at random moments.
out.resume = {};
for (const preset of ['circle-sgd', 'digits']) {
  const { ctx, page } = await fresh(preset);
  const times = [];
  const replayed = [];
  const reloads = quick ? 4 : 10;
  for (let i = 0; i < reloads; i++) {
    await sleep(300 + Math.random() * 1700);
    await page.reload();
    await waitPhase(page, 'running', 60000);
    const t = await page.evaluate(() => ({ ...window.__pgTimes, r: window.__pgResumed }));
    times.push(t.resumed);
    replayed.push(t.r.replayed);
    process.stderr.write(`${preset} reload ${i + 1}: first resumed step at ${Math.round(t.resumed)} ms (worker ready ${Math.round(t.ready)} ms, replayed ${t.r.replayed} steps)\n`);
  }
  out.resume[preset] = { ms: stats(times), replayedSteps: stats(replayed) };
  await ctx.close();
}
await srv.close();

// 4: auto-push, against the real server (same origin as the page).
{
  const api = await servePlayground();
  const rounds = quick ? 2 : 4;
  const windowMs = quick ? 6000 : 10000;
  const on = [];
  const off = [];
  const upload = [];
  let pushes = 0;
  let saves = 0;
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? ['off', 'on'] : ['on', 'off']) {
      const { ctx } = await launch();
      const page = await ctx.newPage();
      await page.addInitScript((v) => localStorage.setItem('pg-autopush', v), mode === 'on' ? '1' : '0');
      await page.goto(`${api.url}/?preset=digits&autostart=1&debug=1`);
      await waitPhase(page, 'running', 60000);
      await sleep(2000);
      const n0 = await page.evaluate(() => [window.__pgSyncs.length, window.__pgSaves.length]);
      const v = await rate(page, windowMs);
      (mode === 'on' ? on : off).push(v);
      if (mode === 'on') {
        const syncs = (await page.evaluate(() => window.__pgSyncs)).slice(n0[0]).filter((x) => x.op === 'autopush');
        upload.push(...syncs.map((x) => x.millis));
        pushes += syncs.length;
        saves += (await page.evaluate(() => window.__pgSaves.length)) - n0[1];
      }
      await ctx.close();
      process.stderr.write(`digits round ${r + 1} auto-push ${mode}: ${Math.round(v)} steps/s\n`);
    }
  }
  await api.close();
  out.autoPush = {
    stepsPerSecOn: on.map(Math.round),
    stepsPerSecOff: off.map(Math.round),
    throughputLossPercent: r1(100 * (1 - q(on, 0.5) / q(off, 0.5))),
    saves,
    pushes,
    snapshotToServerMs: upload.length ? stats(upload) : null,
  };
}

const a = out.autosavePause.ms;
const o = out.autosaveOverhead;
console.log(`autosave pause (digits, ${out.autosavePause.stateBytes} B): median ${r1(a.median)} ms, p90 ${r1(a.p90)} ms, min ${r1(a.min)} ms, max ${r1(a.max)} ms over ${a.n} saves`);
console.log(`load average during the run: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (${os.cpus().length} CPUs)`);
console.log(`autosave overhead at the default interval: pauses ${o.pauseSharePercent}% of wall time; steps/s on ${o.stepsPerSecOn} vs off ${o.stepsPerSecOff} (${o.throughputLossPercent}% by throughput; noisy on a busy machine)`);
for (const [p, r] of Object.entries(out.resume)) {
  console.log(`navigation -> first resumed step (${p}): median ${Math.round(r.ms.median)} ms, p90 ${Math.round(r.ms.p90)} ms, max ${Math.round(r.ms.max)} ms (replayed median ${r.replayedSteps.median} steps)`);
}
{
  const p = out.autoPush;
  const u = p.snapshotToServerMs;
  console.log(`auto-push (digits, playground serve on loopback): steps/s on ${p.stepsPerSecOn} vs off ${p.stepsPerSecOff} (${p.throughputLossPercent}% by throughput); ${p.pushes} of ${p.saves} saves pushed` +
    (u ? `, snapshot to the server's answer median ${r1(u.median)} ms, p90 ${r1(u.p90)} ms` : ''));
}
if (process.env.BENCH_BROWSER_OUT) fs.writeFileSync(process.env.BENCH_BROWSER_OUT, JSON.stringify(out, null, 2));
