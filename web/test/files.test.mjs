// Export and import: a .safetensors downloaded from the page passes
// `playground ckpt verify` and has the page's fingerprint; a checkpoint
// from the native trainer uploaded to the page resumes with the same
// fingerprint and trains on to the native bits. Also writes the page's
// screenshots at desktop and phone sizes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { browse, fingerprintOf, launch, nativeFingerprint, nativeTrain, playground, screenshot, tempDir, text, waitPausedAt, waitPhase } from './harness.mjs';

const PRESET = 'spiral-adam';

test('download passes ckpt verify; a native upload resumes with its fingerprint', async (t) => {
  const { srv, ctx } = await browse(t);

  const page = await ctx.newPage();
  await page.goto(`${srv.url}/?preset=${PRESET}&autostart=1&pauseAt=1500&speed=max`);
  const fp = await waitPausedAt(page, 1500);
  await page.waitForFunction(() => document.querySelector('[data-testid=last-save]').textContent === '1500');
  await screenshot(page, 'desktop-paused');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
  const file = path.join(tempDir('pg-dl-'), download.suggestedFilename());
  await download.saveAs(file);
  t.diagnostic(`downloaded ${download.suggestedFilename()} (${fs.statSync(file).size} bytes)`);
  assert.match(download.suggestedFilename(), /\.safetensors$/);
  assert.match(playground('ckpt', 'verify', file), /^ok /); // exits non-zero on any defect
  assert.equal(fingerprintOf(file), fp, 'the file holds the state the page shows');
  assert.equal(fp, nativeFingerprint(PRESET, 1500));

  // A checkpoint of the native trainer continues in a fresh profile.
  const native = nativeTrain(PRESET, 3000);
  const { ctx: fresh } = await launch();
  t.after(() => fresh.close());
  const p2 = await fresh.newPage();
  await p2.setViewportSize({ width: 390, height: 844 });
  await p2.goto(`${srv.url}/?pauseAt=4000&speed=max`);
  await waitPhase(p2, 'idle');
  await screenshot(p2, 'phone-idle');
  await p2.getByTestId('upload').setInputFiles(native);
  const fp3000 = await waitPausedAt(p2, 3000);
  assert.equal(fp3000, fingerprintOf(native), 'the uploaded state resumes bit for bit');
  assert.match(await text(p2, 'log'), /Resumed at step 3,000/);
  await p2.getByTestId('resume').click();
  const fp4000 = await waitPausedAt(p2, 4000);
  await screenshot(p2, 'phone-paused');
  assert.equal(fp4000, nativeFingerprint(PRESET, 4000), 'and trains on to the native bits');
});
