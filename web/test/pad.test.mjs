// The drawing pad of a digits model: a digit drawn with the mouse gets the
// class probabilities the worker computes from the state the page shows,
// bit for bit those `playground eval --input` prints for the same pixels
// from a checkpoint of that state; the keyboard draws too; the pad follows
// the run as it trains; time travel asks the travelled-to state.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { browse, collectErrors, fingerprintOf, nativeTrain, playground, screenshot, tempDir, text, waitPausedAt } from './harness.mjs';

// padAnswer waits until the pad shows the model's reading at step (of the
// time-travelled state when travel), then returns the last predict command
// and answer as they crossed to and from the worker (the ?debug=1 hook).
async function padAnswer(page, step, travel = false) {
  const want = new RegExp(`^The model at step ${step.toLocaleString('en-US')}${travel ? ' \\(time travel\\)' : ''} reads a \\d\\.$`);
  await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('[data-testid=pad-status]')?.textContent ?? ''), want.source, { timeout: 60000 });
  const pad = await page.evaluate(() => window.__pgPad);
  const input = pad.command.match(/"input":\[([^\]]*)\]/)[1].split(',');
  const outputs = pad.event.match(/"outputs":\[([^\]]*)\]/)[1].split(',');
  const ev = JSON.parse(pad.event);
  assert.equal(ev.predict.step, step);
  assert.equal(Boolean(ev.predict.travel), travel);
  return { input, outputs };
}

// evalNative runs `playground eval --ckpt file --input` on one row of
// pixels and returns the printed outputs.
function evalNative(file, input) {
  const csv = path.join(tempDir('pg-pad-'), 'pad.csv');
  fs.writeFileSync(csv, input.join(',') + '\n');
  const lines = playground('eval', '--ckpt', file, '--input', csv).trim().split('\n');
  assert.equal(lines[0], 'p0,p1,p2,p3,p4,p5,p6,p7,p8,p9');
  assert.equal(lines.length, 2);
  return lines[1].split(',');
}

// sameBits says whether two lists of float32 decimals are the same
// float32s (each is float32's shortest decimal: equal values, equal bits).
function assertSameBits(page, native, what) {
  assert.equal(page.length, native.length, what);
  const bits = (s) => new Uint32Array(new Float32Array([Number(s)]).buffer)[0];
  for (let i = 0; i < page.length; i++) {
    assert.equal(Number(page[i]), Number(native[i]), `${what}: p${i} ${page[i]} vs ${native[i]}`);
    assert.equal(bits(page[i]), bits(native[i]), `${what}: p${i} bits`);
  }
}

test('a drawn digit gets the probabilities eval --input prints, bit for bit', async (t) => {
  const { srv, ctx } = await browse(t);
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  await page.goto(`${srv.url}/?preset=digits&autostart=1&pauseAt=60&debug=1`);
  const fp = await waitPausedAt(page, 60);
  const pad = page.getByTestId('pad');
  await pad.waitFor({ state: 'visible' });
  assert.match(await text(page, 'pad-status'), /^Draw a digit/);

  // A 7: a bar and a slanted stem, in two strokes, with the mouse.
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  const at = (x, y) => [box.x + x * box.width, box.y + y * box.height];
  const stroke = async (pts) => {
    await page.mouse.move(...at(...pts[0]));
    await page.mouse.down();
    for (const p of pts.slice(1)) await page.mouse.move(...at(...p), { steps: 6 });
    await page.mouse.up();
  };
  await stroke([[0.25, 0.22], [0.72, 0.2], [0.48, 0.84]]);
  await stroke([[0.38, 0.52], [0.65, 0.52]]);
  const live = await padAnswer(page, 60);
  assert.equal(live.input.length, 784);
  const ink = live.input.map(Number);
  assert.ok(ink.every((v) => v >= 0 && v <= 1), 'pixels in [0, 1]');
  assert.ok(ink.filter((v) => v === 1).length > 20, 'the strokes are inked');
  assert.equal(ink.slice(0, 28).reduce((a, b) => a + b), 0, 'centred: the top row is blank');
  assert.equal((await page.getByTestId('pad-prob').all()).length, 10);

  // A checkpoint of the state the page shows, downloaded as users do.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
  const file = path.join(tempDir('pg-pad-dl-'), download.suggestedFilename());
  await download.saveAs(file);
  assert.equal(fingerprintOf(file), fp, 'the file holds the state the page shows');
  const native = evalNative(file, live.input);
  assertSameBits(live.outputs, native, 'live state');
  t.diagnostic(`step 60 reads ${await text(page, 'pad-status')}; p = ${native.join(' ')}`);
  // The bars show the same numbers, rounded.
  const shown = await page.getByTestId('pad-prob').locator('.pct').allTextContents();
  assert.deepEqual(shown, native.map((s) => (Number(s) * 100).toFixed(1) + '%'));
  await screenshot(page, 'pad', page.getByTestId('pad-panel'));

  // The keyboard: clear, then toggle pixels along a column (a 1).
  await pad.focus();
  await page.keyboard.press('Delete');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=pad-prob]').length === 0);
  for (let i = 0; i < 14; i++) await page.keyboard.press('ArrowRight');
  for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowDown');
  for (let i = 0; i < 16; i++) {
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowDown');
  }
  const keyed = await padAnswer(page, 60);
  assertSameBits(keyed.outputs, evalNative(file, keyed.input), 'keyboard drawing');

  // Live: as the run trains on, the pad follows it (the worker answers
  // from the current state), up to the next pause.
  await page.evaluate(() => window.pgPage.send(JSON.stringify({ type: 'settings', pauseAt: 160 })));
  await page.getByTestId('resume').click();
  const later = await padAnswer(page, 160);
  assertSameBits(later.outputs, evalNative(nativeTrain('digits', 160), later.input), 'after training on');

  // Time travel: the travelled-to state's guess, as a native checkpoint
  // of that step gives it.
  await page.getByTestId('scrub-step').fill('25');
  await page.getByTestId('scrub-step').press('Enter');
  const past = await padAnswer(page, 25, true);
  assert.deepEqual(past.input, keyed.input);
  assertSameBits(past.outputs, evalNative(nativeTrain('digits', 25), past.input), 'time travel');
  await page.getByTestId('scrub-live').click();
  await padAnswer(page, 160);
  assert.deepEqual(errors, []);
});
