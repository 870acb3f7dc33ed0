// The loss chart is honest: the test loss is evaluated on a schedule of
// steps (the same on every machine), the history belongs to the run (a
// reload brings it back whole, with no line across steps never
// evaluated), and the axis holds every point drawn.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprintOf, nativeTrain, openFresh, playground, screenshot, serve, sleep, step, text, waitPausedAt, waitPhase } from './harness.mjs';

let srv;
test.before(async () => {
  srv = await serve();
});
test.after(() => srv.close());

async function open(t, query) {
  return openFresh(t, srv.url + query);
}

// curve reads a curve of the chart: the points drawn, the segments, the
// steps of each segment, and the y of each point of the newest segment.
async function curve(page, which) {
  return page.evaluate((id) => {
    const el = document.querySelector(`#chart [data-testid=${id}]`);
    if (!el) return null;
    return {
      points: Number(el.dataset.points),
      segments: Number(el.dataset.segments),
      steps: el.dataset.steps ? el.dataset.steps.split('|').map((s) => s.split(',').map(Number)) : [],
      ys: (el.getAttribute('points') || '').split(' ').filter(Boolean).map((p) => Number(p.split(',')[1])),
    };
  }, 'curve-' + which);
}

// joined is the schedule's spacing (ui.Joined): neighbours on the
// evaluation schedule are never more than a step or an eighth of the step
// apart, so a wider gap inside a segment is a line across steps never
// evaluated.
function assertSpacing(c, what) {
  for (const seg of c.steps) {
    for (let i = 1; i < seg.length; i++) {
      const gap = seg[i] - seg[i - 1];
      assert.ok(gap > 0 && gap <= Math.max(1, Math.floor(seg[i] / 8)), `${what}: a line from step ${seg[i - 1]} to ${seg[i]}`);
    }
  }
}

const spiral = '/?preset=spiral-adam&autostart=1';

test('after 10 s of spiral training the test curve has at least 200 points, in one piece', async (t) => {
  const { page, errors } = await open(t, spiral);
  await waitPhase(page, 'running', 60000);
  await sleep(10000);
  const c = await curve(page, 'test');
  const tr = await curve(page, 'train');
  t.diagnostic(`step ${await step(page)}: test curve ${c.points} points in ${c.segments} segment(s), train ${tr.points}`);
  assert.ok(c.points >= 200, `test curve has ${c.points} points`);
  assert.equal(c.segments, 1);
  assert.equal(c.steps[0][0], 1, 'the curve starts at step 1');
  assertSpacing(c, 'test');
  assert.ok(tr.points >= 200);
  assert.ok(await page.getByTestId('chart-legend').isVisible(), 'a legend');
  await screenshot(page, 'chart-spiral', page.getByTestId('chart'));
  assert.deepEqual(errors, []);
});

test('two fresh profiles paused at the same step show the same test loss, accuracy and curve', async (t) => {
  const seen = [];
  for (let i = 0; i < 2; i++) {
    const { page } = await open(t, spiral + '&pauseAt=6000');
    const fp = await waitPausedAt(page, 6000, 90000);
    // The pause's own evaluation has reached the page.
    await page.waitForFunction(() => document.querySelector('[data-testid=test-loss]')?.textContent !== '–');
    seen.push({ fp, testLoss: await text(page, 'test-loss'), accuracy: await text(page, 'accuracy'), test: await curve(page, 'test'), train: await curve(page, 'train') });
  }
  t.diagnostic(`test loss ${seen[0].testLoss}, accuracy ${seen[0].accuracy}, ${seen[0].test.points} points`);
  assert.equal(seen[1].fp, seen[0].fp);
  assert.equal(seen[1].testLoss, seen[0].testLoss);
  assert.equal(seen[1].accuracy, seen[0].accuracy);
  assert.deepEqual(seen[1].test, seen[0].test);
  assert.deepEqual(seen[1].train, seen[0].train);
  assert.match(seen[0].testLoss, /^\d+\.\d{4}$/);
  // The native trainer at the same step: the same state, the same test loss.
  const file = nativeTrain('spiral-adam', 6000);
  assert.equal(fingerprintOf(file), seen[0].fp);
  const m = playground('eval', '--ckpt', file).match(/^test\s+loss (\S+) accuracy (\S+)/m);
  assert.equal(Number(m[1]).toFixed(4), seen[0].testLoss);
  assert.equal((100 * Number(m[2])).toFixed(1) + '%', seen[0].accuracy);
});

test('a reload mid-run brings back the whole curve, with no line across the gap', async (t) => {
  const { page, errors } = await open(t, spiral);
  await waitPhase(page, 'running', 60000);
  await sleep(4000);
  const before = await curve(page, 'test');
  const shown = await step(page);
  await page.reload();
  await waitPhase(page, 'running', 60000);
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=step]')?.textContent) > 2 * n, shown, { timeout: 60000 });
  const after = await curve(page, 'test');
  t.diagnostic(`reloaded at step ${shown}: ${before.points} points before, ${after.points} after (${after.segments} segment(s))`);
  assert.equal(after.segments, 1, 'one piece across the reload');
  assertSpacing(after, 'after the reload');
  // The points from before the reload are all there, at the same steps.
  const steps = new Set(after.steps.flat());
  for (const s of before.steps.flat()) assert.ok(steps.has(s) || s > Math.max(...steps), `step ${s} lost`);
  // Across the reload: a point at most one schedule gap from the step shown.
  assert.ok(after.steps.flat().some((s) => s >= shown && s - shown <= Math.max(1, s / 8)), 'no point near the reload');
  assert.deepEqual(errors, []);
});

test('a test loss far above the training loss is drawn inside the axis', async (t) => {
  // A small noisy training set and a big net: the training loss goes to
  // 0, the test loss far above 1.
  const q = '/?dataset=spiral&samples=40&noise=0.4&test=0.5&features=x,y&layers=32:relu,32:relu,1:sigmoid&optimizer=adam&lr=0.03&seed=3&autostart=1&pauseAt=3000';
  const { page, errors } = await open(t, q);
  await waitPausedAt(page, 3000, 90000);
  await page.waitForFunction(() => document.querySelector('[data-testid=test-loss]')?.textContent !== '–');
  const testLoss = Number(await text(page, 'test-loss'));
  const loss = Number(await text(page, 'loss'));
  const te = await curve(page, 'test');
  const tr = await curve(page, 'train');
  const top = Math.min(...te.ys);
  t.diagnostic(`train loss ${loss}, test loss ${testLoss}; test curve from y ${Math.max(...te.ys)} up to ${top}`);
  assert.ok(testLoss > 5 && testLoss > 50 * loss, `test loss ${testLoss}, train ${loss}`);
  for (const y of [...te.ys, ...tr.ys]) assert.ok(y >= 10 && y <= 180, `a point at y ${y}, outside the plot`);
  assert.ok(top < 20, `the highest test loss is drawn at y ${top}, not near the top`);
  // The axis' top label is at least the highest loss drawn.
  const labels = await page.$$eval('#chart text.axis[text-anchor=end]', (ts) => ts.map((x) => Number(x.textContent)).filter((v) => !Number.isNaN(v)));
  assert.ok(Math.max(...labels) >= testLoss * 0.9, `axis labels ${labels}`);
  // The log-scale toggle keeps every point drawn.
  await page.getByTestId('log-loss').check();
  const logged = await curve(page, 'test');
  assert.equal(logged.points, te.points);
  await screenshot(page, 'chart-overfit', page.getByTestId('chart'));
  assert.deepEqual(errors, []);
});

// opaquePixels counts the painted pixels of a canvas, and distinctColors
// its colors.
async function canvasStats(page, testid) {
  return page.evaluate((id) => {
    const cv = document.querySelector(`[data-testid=${id}]`);
    const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let opaque = 0;
    const colors = new Set();
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3]) opaque++;
      colors.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
    }
    return { opaque, colors: colors.size };
  }, testid);
}

test("TensorFlow Playground's regression sets, problem type, show test data, discretize, regenerate", async (t) => {
  const { page, errors } = await open(t, '/?preset=multi-gaussian-adam&autostart=1&pauseAt=2000');
  await waitPausedAt(page, 2000, 90000);
  assert.equal(await text(page, 'problem-type'), 'regression');
  const kinds = await page.$$eval('[data-testid=dataset] option', (os) => os.map((o) => o.value));
  assert.ok(kinds.includes('plane') && kinds.includes('multi-gaussian'), `datasets ${kinds}`);
  assert.equal(await text(page, 'data-seed'), '11');
  await page.waitForFunction(() => document.querySelector('[data-testid=heatmap]').getContext('2d').getImageData(0, 0, 1, 1).data[3] > 0);
  const shown = await canvasStats(page, 'points');
  await page.getByTestId('show-test').uncheck();
  await page.waitForFunction((n) => {
    const cv = document.querySelector('[data-testid=points]');
    const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let k = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i]) k++;
    return k < n * 0.8;
  }, shown.opaque);
  const smooth = await canvasStats(page, 'heatmap');
  await page.getByTestId('discretize').check();
  await page.waitForFunction(() => {
    const px = document.querySelector('[data-testid=heatmap]').getContext('2d').getImageData(0, 0, document.querySelector('[data-testid=heatmap]').width, document.querySelector('[data-testid=heatmap]').height).data;
    const c = new Set();
    for (let i = 0; i < px.length; i += 4) c.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
    return c.size <= 2;
  });
  t.diagnostic(`points: ${shown.opaque} px with test data; heat map: ${smooth.colors} colors, discretized 2`);
  assert.ok(smooth.colors > 10);
  await screenshot(page, 'regression-discretized', page.getByTestId('heatmap-box'));
  // New data, the same weights' seed: the link carries the data seed.
  await page.getByTestId('regenerate').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=data-seed]')?.textContent !== '11');
  assert.match(await page.evaluate(() => location.search), /[?&]dataSeed=\d+/);
  assert.match(await page.evaluate(() => location.search), /[?&]seed=9(&|$)/);
  assert.deepEqual(errors, []);
});

test('a run that diverges is marked where it did', async (t) => {
  const q = '/?dataset=plane&samples=200&noise=0&test=0.5&features=x,y&layers=8:relu,1:linear&loss=mse&optimizer=sgd&lr=5&seed=1&autostart=1&pauseAt=300';
  const { page, errors } = await open(t, q);
  // The run pauses where its training loss stops being finite (before
  // pauseAt), and the chart marks where its curve did.
  await waitPhase(page, 'paused', 90000);
  const mark = page.locator('#chart [data-testid=chart-diverged]');
  await mark.waitFor();
  const at = Number(await mark.getAttribute('data-step'));
  const c = await curve(page, 'train');
  t.diagnostic(`diverged at step ${at}; ${c.points} finite training points before it`);
  assert.ok(at >= 1 && at < 300);
  assert.ok(c.steps.flat().every((s) => s <= at), 'no finite point after the divergence');
  assert.match(await mark.textContent(), /diverged at step/);
  assert.deepEqual(errors, []);
});

test("a native trainer's checkpoint brings its history: the page shows the curve it evaluated", async (t) => {
  const native = nativeTrain('spiral-adam', 3000);
  const { page, errors } = await open(t, '/?pauseAt=4000');
  await waitPhase(page, 'idle', 60000);
  await page.getByTestId('upload').setInputFiles(native);
  await waitPausedAt(page, 3000);
  // The chart is painted after the status that says paused.
  await page.waitForFunction(() => Number(document.querySelector('#chart [data-testid=curve-test]')?.dataset.points) > 0);
  const c = await curve(page, 'test');
  t.diagnostic(`${c.points} points from the native run, steps ${c.steps[0][0]} to ${c.steps[0].at(-1)}`);
  assert.equal(c.segments, 1);
  assert.equal(c.steps[0][0], 1);
  assert.equal(c.steps[0].at(-1), 2944);
  assertSpacing(c, 'native');
  const m = playground('ckpt', 'inspect', native).match(/^history:\s+(\d+) points/m);
  assert.equal(c.points, Number(m[1]));
  assert.deepEqual(errors, []);
});
