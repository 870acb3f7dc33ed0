// SIGKILL the whole browser at 5 random moments: each restart resumes at or
// after the last autosave the page reported, no stored checkpoint is
// damaged, and the run still lands on the native trainer's bits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkpointsInDB, killBrowser, launch, nativeFingerprint, serve, sleep, step, text, verifyAll, waitPausedAt, waitPhase } from './harness.mjs';

const PRESET = 'spiral-adam';

test('SIGKILL of the browser at 5 random moments', async (t) => {
  const srv = await serve();
  t.after(() => srv.close());
  const url = `${srv.url}/?preset=${PRESET}&autostart=1&speed=max`;
  let { ctx, dir } = await launch();
  let page = await ctx.newPage();
  await page.goto(url);
  await waitPhase(page, 'running');
  const run = await text(page, 'run');

  for (let k = 0; k < 5; k++) {
    await sleep(300 + Math.random() * 2500);
    const lastSave = Number((await text(page, 'last-save')) || 0);
    const shown = await step(page);
    killBrowser(dir);
    await ctx.close().catch(() => {});

    ({ ctx } = await launch(dir));
    page = await ctx.newPage();
    await page.goto(url);
    await waitPhase(page, 'running');
    const resumedAt = Number(await text(page, 'resumed-at'));
    t.diagnostic(`kill ${k + 1}: showed ${shown}, last autosave ${lastSave}, resumed at ${resumedAt} from checkpoint ${await text(page, 'resumed-from')}`);
    assert.ok(resumedAt >= lastSave, `kill ${k + 1}: resumed at ${resumedAt}, before the last autosave ${lastSave}`);
    assert.equal(await text(page, 'run'), run, 'the same run resumed');
    const stored = await checkpointsInDB(page);
    assert.ok(stored.length > 0);
    verifyAll(stored); // throws on any damaged checkpoint
    assert.doesNotMatch(await text(page, 'log'), /damaged/);
  }

  const n = Math.ceil(((await step(page)) + 3000) / 1000) * 1000;
  await page.goto(`${url}&pauseAt=${n}`);
  const fp = await waitPausedAt(page, n);
  assert.equal(fp, nativeFingerprint(PRESET, n), `fingerprint at step ${n}`);
  await ctx.close();
});
