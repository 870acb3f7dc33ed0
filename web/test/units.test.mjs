// See inside the network: the network panel draws a map per unit (what it
// computes over the input plane), links by sign and size of their weight,
// a bias per unit; hovering a unit shows it in the output map, and the
// values behind a map are what `playground eval --grid` computes natively,
// bit for bit. Editing a weight while paused forks the run, and the native
// trainer continues the fork exactly as the page does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { checkpointsInDB, fingerprintOf, openFresh, playground, screenshot, serve, tempDir, text, waitPausedAt } from './harness.mjs';

let srv;
test.before(async () => {
  srv = await serve();
});
test.after(() => srv.close());

// The neuron lesson: the circle, features x and y, one hidden layer of 4
// tanh units.
const LESSON = '/?dataset=circle&features=x,y&layers=4:tanh,1:sigmoid&optimizer=sgd&lr=0.1&debug=1&autostart=1';

async function open(t, query, viewport) {
  return openFresh(t, srv.url + query, viewport);
}

// unitMap is the page's map of unit i of layer l once it shows step n
// (its values follow the view in their own event).
async function unitMap(page, l, i, n) {
  await page.waitForFunction(
    ([l, i, n]) => {
      const m = window.__pgUnitMap?.(l, i);
      return m?.step === n && m.text !== '';
    },
    [l, i, n],
    { timeout: 30000 },
  );
  return page.evaluate(([l, i]) => window.__pgUnitMap(l, i), [l, i]);
}

// pixels returns a canvas's pixels as a string, to compare.
async function pixels(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let k = 0; k < d.length; k += 4) s += d[k] + ',' + d[k + 1] + ',' + d[k + 2] + ';';
    return s;
  }, id);
}

// linkPoint is a point of a link three quarters along, where no other
// link covers it (links cross in the middle and share their ends).
async function linkPoint(page, testid) {
  await page.getByTestId(testid).scrollIntoViewIfNeeded();
  const at = await page.evaluate((id) => {
    const p = document.querySelector(`[data-testid="${id}"]`);
    const n = p.getAttribute('d').match(/-?[\d.]+/g).map(Number); // the band's corners
    const [x1, y1, x2, y2] = [n[0], (n[1] + n[7]) / 2, n[2], (n[3] + n[5]) / 2];
    const pt = new DOMPoint(x1 + 0.75 * (x2 - x1), y1 + 0.75 * (y2 - y1)).matrixTransform(p.getScreenCTM());
    return [pt.x, pt.y];
  }, testid);
  assert.equal(await page.evaluate(([x, y]) => document.elementFromPoint(x, y)?.dataset.testid, at), testid);
  return at;
}

// checkpointFile writes the page's checkpoint of run at step to a file.
async function checkpointFile(page, run, step) {
  const want = String(step).padStart(12, '0') + '-';
  const c = (await checkpointsInDB(page)).find((c) => c.run === run && c.id.startsWith(want));
  assert.ok(c, `a checkpoint of ${run} at step ${step} in IndexedDB`);
  const f = path.join(tempDir('pg-units-'), `${c.id}.safetensors`);
  fs.writeFileSync(f, Buffer.from(c.bytes, 'base64'));
  return f;
}

// tensorValue reads element i of a float32 tensor of a safetensors file.
function tensorValue(file, name, i) {
  const b = fs.readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  const hdr = JSON.parse(b.subarray(8, 8 + n).toString());
  return b.readFloatLE(8 + n + hdr[name].data_offsets[0] + 4 * i);
}

test('the neuron lesson: a map per unit, hover shows it, its values are the native ones', async (t) => {
  const { page, errors } = await open(t, LESSON + '&pauseAt=300', { width: 1280, height: 800 });
  await waitPausedAt(page, 300);
  const run = await page.getByTestId('run').getAttribute('title');
  const maps = [];
  for (const [l, i] of [[1, 0], [1, 1], [1, 2], [1, 3], [2, 0]]) {
    const m = await unitMap(page, l, i, 300);
    assert.equal(m.run, run);
    assert.equal(m.text.split('\n').length, 101, `unit ${l}:${i} has a 100×100 map (the output map's grid)`);
    maps.push({ id: `unitmap-${l}-${i}`, text: m.text, px: await pixels(page, `unitmap-${l}-${i}`) });
    assert.equal(await page.getByTestId(`unit-${l}-${i}`).count(), 1);
  }
  assert.equal(await page.locator('canvas.unitmap').count(), 2 + 4 + 1, 'inputs, 4 hidden units and the output are drawn');
  for (let a = 0; a < maps.length; a++) {
    for (let b = a + 1; b < maps.length; b++) {
      assert.notEqual(maps[a].text, maps[b].text, `${maps[a].id} and ${maps[b].id} have the same values`);
      assert.notEqual(maps[a].px, maps[b].px, `${maps[a].id} and ${maps[b].id} are drawn the same`);
    }
  }
  assert.ok(!/^(\d+,\d+,\d+;)\1*$/.test(maps[0].px), 'a unit map is not one flat color');
  assert.equal(await page.locator('[data-testid^=link-]').count(), 2 * 4 + 4);
  assert.equal(await page.locator('[data-testid^=bias-]').count(), 4 + 1);

  // Hover a unit: the big map shows it, labelled; leave: the output again.
  const output = await pixels(page, 'heatmap');
  assert.equal(await text(page, 'heat-unit'), 'output');
  await page.getByTestId('unit-1-2').hover();
  await page.waitForFunction(() => document.querySelector('[data-testid=heat-unit]').textContent === 'layer 1, unit 2');
  const hovered = await pixels(page, 'heatmap');
  assert.notEqual(hovered, output, 'hovering a unit changes the big map');
  // Keyboard focus does the same for another unit.
  await page.getByTestId('unit-1-0').focus();
  await page.waitForFunction(() => document.querySelector('[data-testid=heat-unit]').textContent === 'layer 1, unit 0');
  assert.notEqual(await pixels(page, 'heatmap'), hovered);
  await screenshot(page, 'units-neuron-hover-1280');

  // A link's and a bias's values show on hover.
  await page.mouse.move(...(await linkPoint(page, 'link-1-2-0')));
  await page.waitForFunction(() => /^weight from input x to layer 1, unit 2: -?\d/.test(document.querySelector('[data-testid=net-value]').textContent));
  const linkText = await text(page, 'net-value');
  await page.getByTestId('bias-1-3').hover();
  await page.waitForFunction(() => /^bias of layer 1, unit 3: -?\d/.test(document.querySelector('[data-testid=net-value]').textContent));

  // The keyboard opens a link's editor (paused) and Escape closes it.
  await page.getByTestId('link-1-0-1').focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('net-edit-value').waitFor();
  assert.match(await page.getByTestId('net-edit').textContent(), /Weight from input y to layer 1, unit 0/);
  await page.getByTestId('net-edit-value').press('Escape');
  await page.getByTestId('net-edit').waitFor({ state: 'detached' });

  // The values behind unit 2's map are the native ones, bit for bit.
  const file = await checkpointFile(page, run, 300);
  const native = playground('eval', '--ckpt', file, '--grid', '1:2');
  assert.equal(maps[2].text, native, 'the page map of unit 1:2 is eval --grid 1:2 of its checkpoint');
  assert.equal(Math.fround(Number(linkText.split(': ')[1])), tensorValue(file, 'layers.0.weight', 2 * 2 + 0), 'the link shows the weight');
  t.diagnostic(`unit 1:2 map: ${native.length} bytes of text, ${linkText}`);

  // Time travel shows the maps of the step travelled to: those the native
  // trainer computes from the run's first checkpoint.
  const start = await checkpointFile(page, run, 0);
  const out = tempDir('pg-units-travel-');
  const lines = playground('train', '--resume', start, '--steps', '120', '--every', '0', '--out', out).trim().split('\n');
  const scrub = page.getByTestId('scrub-step');
  await scrub.fill('120');
  await scrub.press('Enter');
  const travelled = await unitMap(page, 1, 2, 120);
  assert.equal(travelled.text, playground('eval', '--ckpt', lines[lines.length - 1], '--grid', '1:2'), 'the map at step 120 is the native one');
  assert.notEqual(travelled.text, maps[2].text);
  await page.getByTestId('scrub-live').click();
  await unitMap(page, 1, 2, 300);

  await page.mouse.move(0, 0);
  await page.waitForFunction(() => document.querySelector('[data-testid=heat-unit]').textContent !== 'layer 1, unit 2');
  await screenshot(page, 'units-neuron-1280');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByTestId('net-diagram').scrollIntoViewIfNeeded();
  await screenshot(page, 'units-neuron-390');
  // On a phone the output map is a screen away: tapping a unit floats its
  // map beside the network, the same picture as the output map's.
  assert.ok(!(await page.getByTestId('unit-zoom').isVisible()), 'the zoom shows with no unit tapped');
  await page.getByTestId('unit-1-2').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=heat-unit]').textContent === 'layer 1, unit 2');
  await page.getByTestId('unit-zoom').waitFor({ state: 'visible' });
  assert.ok(await page.getByTestId('unit-zoom').isVisible(), 'the unit map does not float on a phone');
  const same = await page.evaluate(() => {
    const px = (id) => {
      const c = document.getElementById(id);
      return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
    };
    const a = px('heatmap'), b = px('unit-zoom');
    return a.length === b.length && a.some((v) => v !== 0) && a.every((v, i) => v === b[i]);
  });
  assert.ok(same, 'the floating map is not the unit map shown above');
  await screenshot(page, 'units-neuron-390-tapped');
  await screenshot(page, 'units-neuron-390-panel', page.locator('section.network'));
  assert.deepEqual(errors, []);
});

test('editing a weight while paused forks the run; the native trainer continues the fork bit for bit', async (t) => {
  const { page, errors } = await open(t, LESSON + '&pauseAt=300', { width: 1280, height: 800 });
  await waitPausedAt(page, 300);
  const parent = await page.getByTestId('run').getAttribute('title');
  await unitMap(page, 1, 2, 300);
  await page.mouse.click(...(await linkPoint(page, 'link-1-2-1')));
  await page.getByTestId('net-edit-value').fill('0.75');
  await page.getByTestId('net-edit-apply').click();
  await page.waitForFunction((p) => {
    const r = document.querySelector('[data-testid=run]')?.getAttribute('title');
    return r && r !== p;
  }, parent);
  const child = await page.getByTestId('run').getAttribute('title');
  await waitPausedAt(page, 300);
  await page.mouse.move(...(await linkPoint(page, 'link-1-2-1')));
  await page.waitForFunction(() => document.querySelector('[data-testid=net-value]').textContent.endsWith(': 0.75'));

  // The fork's first checkpoint holds the edit, and names it and its parent.
  let file;
  for (let k = 0; k < 50 && !file; k++) {
    try {
      file = await checkpointFile(page, child, 300);
    } catch {
      await page.waitForTimeout(200);
    }
  }
  assert.ok(file, "the fork's first checkpoint is stored");
  assert.equal(tensorValue(file, 'layers.0.weight', 2 * 2 + 1), 0.75);
  const info = playground('ckpt', 'inspect', file);
  assert.match(info, /^edit:\s+layers\.0\.weight\[2,1\] = 0\.75 \(was -?\d/m);
  assert.match(info, new RegExp(`^parent:.*${parent}`, 'm'));

  // Train the fork 500 steps on the page, and natively from its file.
  await page.evaluate(() => window.pgPage.send(JSON.stringify({ type: 'settings', pauseAt: 800 })));
  await page.getByTestId('resume').click();
  const fp = await waitPausedAt(page, 800);
  const out = tempDir('pg-units-native-');
  const lines = playground('train', '--resume', file, '--steps', '800', '--every', '0', '--out', out).trim().split('\n');
  assert.equal(fingerprintOf(lines[lines.length - 1]), fp, 'native 300–800 of the fork = the page');
  t.diagnostic(`fork ${child} at 800: ${fp}`);
  assert.deepEqual(errors, []);
});

test('digits: the first hidden layer shows its weights as 28×28 images, wide layers say how many more', async (t) => {
  const { page, errors } = await open(t, '/?preset=digits&debug=1&autostart=1&pauseAt=30', { width: 1280, height: 800 });
  await waitPausedAt(page, 30, 120000);
  const run = await page.getByTestId('run').getAttribute('title');
  const m = await unitMap(page, 1, 5, 30);
  assert.equal(m.text.split('\n').length, 29, 'a 28×28 weight image');
  assert.equal(await page.locator('canvas.unitmap').count(), 8, 'the first 8 units of hidden layer 1 have maps');
  assert.deepEqual(await page.evaluate(() => [document.getElementById('unitmap-1-7').width, document.getElementById('unitmap-1-7').height]), [28, 28]);
  assert.equal(await page.locator('[data-testid^=unit-0-]').count(), 0, '784 inputs are not drawn one by one');
  assert.equal(await page.locator('[data-testid^=unit-3-]').count(), 8);
  const labels = await page.locator('.netlabel').allTextContents();
  assert.deepEqual(labels, ['784 inputs', '64 (+56 more)', '32 (+24 more)', '10 (+2 more)']);
  const file = await checkpointFile(page, run, 30);
  assert.equal(m.text, playground('eval', '--ckpt', file, '--grid', '1:5'));
  await page.getByTestId('link-2-3-4').focus();
  assert.match(await text(page, 'net-value'), /^weight from layer 1, unit 4 to layer 2, unit 3: -?\d/);
  await screenshot(page, 'units-digits-panel', page.locator('section.network'));
  assert.deepEqual(errors, []);
});
