// The page's two numbers: frame times on the main thread while the
// `digits` preset trains (requestAnimationFrame deltas in headless
// Chromium; target p95 ≤ 50 ms), and the compressed download size of the
// page's wasm (playground.wasm: one binary for the UI on the main thread,
// the engine worker and the writer).
//
//	node web/bench/ui.mjs [--seconds 10] [--json]      (after `make web`)
import fs from 'node:fs';
import path from 'node:path';
import { DIST, launch, serve, sleep, waitPhase } from '../test/harness.mjs';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] || 10) || 10;

function sizes() {
  const out = {};
  for (const f of fs.readdirSync(DIST)) {
    const m = f.match(/^(playground)\.[0-9a-f]{10}\.wasm$/);
    if (!m) continue;
    const size = (p) => (fs.existsSync(p) ? fs.statSync(p).size : null);
    out[m[1] + '.wasm'] = { raw: size(path.join(DIST, f)), br: size(path.join(DIST, f + '.br')), gz: size(path.join(DIST, f + '.gz')) };
  }
  return out;
}

function quantile(a, q) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const srv = await serve();
const { ctx } = await launch();
const page = await ctx.newPage();
await page.goto(srv.url + '/?preset=digits&autostart=1&debug=1'); // debug=1: pgPage.renders
await waitPhase(page, 'running', 60000);
await page.waitForFunction(() => document.querySelectorAll('[data-testid=digit-pred]').length > 0, null, { timeout: 60000 });
await sleep(2000); // past start-up
const deltas = await page.evaluate(
  (ms) =>
    new Promise((resolve) => {
      const d = [];
      let last = performance.now();
      const end = last + ms;
      const tick = (t) => {
        d.push(t - last);
        last = t;
        if (t < end) requestAnimationFrame(tick);
        else resolve(d);
      };
      requestAnimationFrame(tick);
    }),
  seconds * 1000,
);
const step = Number(await page.getByTestId('step').textContent());
const renders = await page.evaluate(() => pgPage.renders.slice(-200));
await ctx.close();
await srv.close();

const frames = deltas.slice(1);
const result = {
  preset: 'digits',
  seconds,
  frames: frames.length,
  frameMs: { p50: quantile(frames, 0.5), p95: quantile(frames, 0.95), p99: quantile(frames, 0.99), max: Math.max(...frames) },
  over50ms: frames.filter((d) => d > 50).length,
  renders: renders.length,
  renderMs: ['build', 'sync', 'paint'].map((k, i) => ({ k, p50: quantile(renders.map((r) => r[i]), 0.5), p95: quantile(renders.map((r) => r[i]), 0.95) })),
  stepReached: step,
  wasm: sizes(),
};
if (args.includes('--json')) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const f = result.frameMs;
  console.log(`frame time while digits trains (${result.frames} frames in ${seconds} s): p50 ${f.p50.toFixed(1)} ms, p95 ${f.p95.toFixed(1)} ms (target ≤ 50), p99 ${f.p99.toFixed(1)} ms, max ${f.max.toFixed(1)} ms; ${result.over50ms} frames over 50 ms`);
  console.log('render (ms): ' + result.renderMs.map((r) => `${r.k} p50 ${r.p50.toFixed(1)} p95 ${r.p95.toFixed(1)}`).join(', '));
  for (const [name, s] of Object.entries(result.wasm)) {
    console.log(`${name}: ${(s.raw / 1e6).toFixed(2)} MB raw, ${(s.br / 1e6).toFixed(3)} MB brotli, ${(s.gz / 1e6).toFixed(3)} MB gzip`);
  }
}
