// The page becoming hidden checkpoints at once: within 1 s a new
// checkpoint is committed in IndexedDB (autosave by time is set far off so
// only the hidden save can explain it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browse, checkpointsInDB, sleep, text, waitPhase } from './harness.mjs';

test('hidden page: a checkpoint commits within 1 s', async (t) => {
  const { srv, ctx } = await browse(t);
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/?preset=digits&autostart=1&autosave=3600000`);
  await waitPhase(page, 'running');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=saves]').textContent) >= 1); // the run's origin
  await sleep(1500);
  const before = (await checkpointsInDB(page)).map((c) => c.id);
  assert.equal(before.length, 1);

  const t0 = Date.now();
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  let added = [];
  while (Date.now() - t0 < 1000) {
    added = (await checkpointsInDB(page)).filter((c) => !before.includes(c.id));
    if (added.length) break;
    await sleep(20);
  }
  const ms = Date.now() - t0;
  t.diagnostic(`committed ${added.map((c) => c.id)} after ${ms} ms; ${await text(page, 'status')}`);
  assert.equal(added.length, 1, 'no checkpoint committed within 1 s of hiding');
  assert.ok(ms <= 1000);
});
