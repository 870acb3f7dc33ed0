// The engine's SIMD128 kernels in Chromium: the engine worker uses them
// (pg.bench says which kernel MatMul took), and digits, whose products take
// the vector path, trains to the native build's bits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browse, engineWorker, nativeFingerprint, waitPausedAt } from './harness.mjs';

test('digits with the SIMD128 kernels gives the native fingerprint', async (t) => {
  const { srv, ctx } = await browse(t);
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/?preset=digits&autostart=1&pauseAt=300`);
  const fp = await waitPausedAt(page, 300, 120000);
  const worker = await engineWorker(page);
  const { simd } = await worker.evaluate(() => self.pg.bench('W3', 0));
  t.diagnostic(`engine worker kernel: ${simd}; fingerprint at 300: ${fp}`);
  assert.equal(simd, 'wasm-simd128', 'the engine worker runs the scalar kernels: is simd.js loaded?');
  assert.equal(fp, nativeFingerprint('digits', 300));
});
