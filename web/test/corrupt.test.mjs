// A damaged newest checkpoint in IndexedDB is reported and skipped: the
// page resumes from the previous valid one (replaying up to its mark) and
// still lands on the native trainer's bits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browse, damageNewest, nativeFingerprint, screenshot, step, text, waitPausedAt, waitPhase } from './harness.mjs';

const PRESET = 'xor-momentum';

test('damaged newest checkpoint: warn and resume from the previous one', async (t) => {
  const { srv, ctx } = await browse(t);
  const page = await ctx.newPage();
  const url = `${srv.url}/?preset=${PRESET}&speed=max`;
  await page.goto(`${url}&autostart=1`);
  await waitPhase(page, 'running');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=saves]').textContent) >= 3);
  await page.getByTestId('pause').click();
  await waitPhase(page, 'paused');
  const paused = await step(page);
  await page.waitForFunction((n) => document.querySelector('[data-testid=last-save]').textContent === String(n), paused);

  const damaged = await damageNewest(page);
  t.diagnostic(`damaged ${damaged} (paused at ${paused})`);
  assert.equal(Number(damaged.split('-')[0]), paused);

  await page.goto(url); // no autostart: the run was paused, so it resumes paused
  await waitPhase(page, 'paused');
  const status = await text(page, 'status');
  const from = Number(await text(page, 'resumed-from'));
  t.diagnostic(`status: ${status}`);
  assert.match(status, /damaged/);
  assert.match(await text(page, 'log'), new RegExp(`step ${paused.toLocaleString('en-US')}.*damaged`));
  assert.ok(from < paused, `resumed from step ${from}, not from an earlier checkpoint`);
  assert.equal(Number(await text(page, 'resumed-at')), paused, 'replayed up to the mark');
  await screenshot(page, 'corrupt-warning');
  const fp = await waitPausedAt(page, paused);
  assert.equal(fp, nativeFingerprint(PRESET, paused));
});
