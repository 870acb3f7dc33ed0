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
//  5. the first visit, against `playground serve` (what `make run` serves)
//     in fresh profiles: every byte the page downloads (its workers'
//     requests included), navigation -> the first training step on screen
//     with ?preset=spiral-adam&autostart=1, and after a warm reload, the
//     first resumed step on screen (targets: <= 1.4 MB, <= 1.0 s, <= 0.8 s);
//  6. the engine's kernels where users run them: W1, W2 and W3 of make
//     bench timed inside the engine worker (its pg.bench hook), SIMD128
//     kernels in Chromium's V8 (alone with --kernels).
//
// Prints a summary; writes JSON to $BENCH_BROWSER_OUT when set.
// `node test/bench.mjs --first-visit` runs only 5.
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

const out = {};
const firstOnly = process.argv.includes('--first-visit');

// A fresh profile, the preset training; returns {ctx, page}.
async function fresh(preset, extra = '') {
  const { ctx } = await launch();
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/?preset=${preset}&autostart=1&debug=1&speed=max${extra}`);
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

// painted is an init script: window.__pgPainted is the time (ms from the
// navigation) after the first frame that showed a step counter (the UI's,
// or the one app.js paints before the UI is up) with a step above 0.
function painted() {
  const seen = () => {
    for (const el of document.querySelectorAll('[data-testid=step],[data-testid=boot-step]')) {
      if (/^[1-9][\d]*$/.test(el.textContent)) return true;
    }
    return false;
  };
  const obs = new MutationObserver(() => {
    if (!seen()) return;
    obs.disconnect();
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => (window.__pgPainted = performance.now());
      ch.port2.postMessage(0);
    });
  });
  obs.observe(document, { subtree: true, childList: true, characterData: true });
}

// transferred is [path, body bytes a finished request took from the
// network]: 0 from the cache (Chromium reports a negative size then); a
// worker's script reports 0 and is counted by its Content-Length.
async function transferred(r) {
  const s = await r.sizes();
  let n = s.responseBodySize;
  if (n === 0) n = Number((await (await r.response())?.allHeaders())?.['content-length'] ?? 0);
  return [new URL(r.url()).pathname, Math.max(0, n)];
}

// 5: the first visit and a warm reload, served by `playground serve`.
async function firstVisit() {
  const api = await servePlayground();
  const first = [];
  const reload = [];
  const totals = [];
  let breakdown = null;
  for (let i = 0; i < 5; i++) {
    const { ctx } = await launch();
    const sizes = [];
    ctx.on('requestfinished', (r) => sizes.push(transferred(r)));
    const page = await ctx.newPage();
    await page.addInitScript(painted);
    await page.goto(`${api.url}/?preset=spiral-adam&autostart=1&speed=max`);
    await page.waitForFunction(() => window.__pgPainted, null, { timeout: 60000 });
    first.push(await page.evaluate(() => window.__pgPainted));
    await waitPhase(page, 'running', 60000);
    await sleep(3000); // warm: the UI is up and has rendered for a while
    const bytes = {};
    for (const [p, n] of await Promise.all(sizes)) bytes[p] = (bytes[p] || 0) + n;
    totals.push(Object.values(bytes).reduce((a, n) => a + n, 0));
    breakdown ??= bytes;
    await page.reload();
    await page.waitForFunction(() => window.__pgPainted, null, { timeout: 60000 });
    reload.push(await page.evaluate(() => window.__pgPainted));
    await ctx.close();
    process.stderr.write(`first visit ${i + 1}: ${totals[i]} B, first step on screen at ${Math.round(first[i])} ms, after a reload the first resumed step at ${Math.round(reload[i])} ms\n`);
  }
  await api.close();
  out.firstVisit = { bytes: stats(totals), breakdown, firstStepMs: stats(first), reloadStepMs: stats(reload), loadavg: os.loadavg() };
}

if (firstOnly) {
  await firstVisit();
  printFirstVisit();
  process.exit(0);
}

function printFirstVisit() {
  const f = out.firstVisit;
  const kb = (n) => (n / 1000).toFixed(1) + ' kB';
  console.log(`first visit downloads (brotli, every request of the page and its workers): median ${kb(f.bytes.median)} (target <= 1400 kB)`);
  for (const [p, n] of Object.entries(f.breakdown).sort((a, b) => b[1] - a[1])) console.log(`  ${p.padEnd(32)} ${kb(n).padStart(10)}`);
  console.log(`navigation -> first training step on screen (spiral-adam, fresh profile): median ${Math.round(f.firstStepMs.median)} ms of 5, min ${Math.round(f.firstStepMs.min)}, max ${Math.round(f.firstStepMs.max)} (target <= 1000 ms)`);
  console.log(`warm reload -> first resumed step on screen: median ${Math.round(f.reloadStepMs.median)} ms of 5, min ${Math.round(f.reloadStepMs.min)}, max ${Math.round(f.reloadStepMs.max)} (target <= 800 ms)`);
  console.log(`load average after the first visits: ${f.loadavg.map((x) => x.toFixed(1)).join(' ')} (${os.cpus().length} CPUs)`);
}

await firstVisit();
const srv = await serve();

// 6: W1-W3 in the engine worker of a page that does not train: a warm-up,
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

printFirstVisit();
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
