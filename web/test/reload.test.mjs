// Reload at 10 random moments: nothing shown is ever lost, and the run
// still lands on the native trainer's bits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browse, collectErrors, nativeFingerprint, screenshot, sleep, step, text, waitPausedAt, waitPhase } from './harness.mjs';

const PRESET = 'circle-sgd'; // W1: TensorFlow Playground's network

test('reload at 10 random moments loses no step', async (t) => {
  const { srv, ctx } = await browse(t);
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  const url = `${srv.url}/?preset=${PRESET}&autostart=1&speed=max`;
  await page.goto(url);
  await waitPhase(page, 'running');
  const run = await text(page, 'run');

  for (let i = 0; i < 10; i++) {
    // Moments from right after the resume to a few autosave intervals in.
    await sleep(i % 3 === 0 ? Math.random() * 100 : 100 + Math.random() * 1400);
    const shown = await step(page);
    await page.reload();
    await waitPhase(page, 'running');
    const resumedAt = Number(await text(page, 'resumed-at'));
    const now = await step(page);
    t.diagnostic(`reload ${i + 1}: showed ${shown}, resumed at ${resumedAt} (from checkpoint ${await text(page, 'resumed-from')}), now ${now}`);
    assert.ok(resumedAt >= shown, `reload ${i + 1}: resumed at ${resumedAt}, below the ${shown} shown before`);
    assert.ok(now >= shown);
    assert.equal(await text(page, 'run'), run, 'the same run resumed');
  }

  // Last navigation pauses at N; the page's fingerprint is the native one.
  const n = Math.ceil(((await step(page)) + 20000) / 1000) * 1000;
  await page.goto(`${url}&pauseAt=${n}`);
  const fp = await waitPausedAt(page, n);
  await screenshot(page, 'reload-paused');
  assert.equal(fp, nativeFingerprint(PRESET, n), `fingerprint at step ${n}`);
  assert.deepEqual(errors, []);
});
