// The engine's SIMD128 kernels in Chromium: the engine worker uses them
// (pg.bench says which kernel MatMul took), and digits, whose products take
// the vector path, trains to the native build's bits; with the kernels
// forced off (simd.js served with SIMD128 "missing", so the engine keeps
// its scalar kernels) it trains to the same bits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browse, engineWorker, nativeFingerprint, waitPausedAt } from './harness.mjs';

for (const mode of ['on', 'off']) {
  test(`digits with the SIMD128 kernels ${mode} gives the native fingerprint`, async (t) => {
    const { srv, ctx } = await browse(t);
    if (mode === 'off') {
      await ctx.route(/\/simd\.[0-9a-f]+\.js$/, async (route) => {
        const body = (await (await route.fetch()).text()).replace('WebAssembly.validate(bytes)', 'false');
        assert.ok(body.includes('if (false)'), 'simd.js no longer validates its module where this test expects');
        await route.fulfill({ body, contentType: 'text/javascript' });
      });
    }
    const page = await ctx.newPage();
    await page.goto(`${srv.url}/?preset=digits&autostart=1&pauseAt=300`);
    const fp = await waitPausedAt(page, 300, 120000);
    const worker = await engineWorker(page);
    const { simd } = await worker.evaluate(() => self.pg.bench('W3', 0));
    t.diagnostic(`engine worker kernel: ${simd || 'scalar'}; fingerprint at 300: ${fp}`);
    if (mode === 'on') assert.equal(simd, 'wasm-simd128', 'the engine worker runs the scalar kernels: is simd.js loaded?');
    else assert.equal(simd, '', 'the engine worker runs the SIMD kernels though simd.js says SIMD128 is missing');
    assert.equal(fp, nativeFingerprint('digits', 300));
  });
}
