// Lesson links and the classic lessons as scripted scenarios: each opens a
// link that stops at a step at full speed (so it is fast and the same every
// time), then checks what the lesson teaches. Also: hide, lock and stopAt
// links, Play after a change continuing as a fork, Reset with the settings
// shown, divergence pausing at its step, and screenshots of an embedded
// lesson and of a phone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, commit, nativeFingerprint, openPage, screenshot, serve, sleep, tempDir, text, waitPausedAt, waitPhase } from './harness.mjs';

let srv;
test.before(async () => {
  srv = await serve();
});
test.after(() => srv.close());

const open = (t, query, viewport) => openPage(t, srv, query, viewport);

// exactly travels to step n of the paused run and returns the metrics the
// page recomputes there on the whole splits: {loss, testLoss, accuracy}.
async function exactly(page, n) {
  // The field shows the current step: another first, or no change fires.
  await commit(page, 'scrub-step', n - 1);
  await commit(page, 'scrub-step', n);
  await page.waitForFunction((n) => document.querySelector('[data-testid=scrub-at]')?.textContent === String(n) && /\d/.test(document.querySelector('[data-testid=scrub-test-loss]')?.textContent ?? ''), n, {
    timeout: 60000,
  });
  const num = async (id) => Number((await text(page, id)).replace('%', ''));
  return { loss: await num('scrub-loss'), testLoss: await num('scrub-test-loss'), accuracy: await num('scrub-accuracy') };
}

// lesson opens a spec (query parameters) that trains at full speed and
// stops at step n, and returns the page and its exact metrics at n.
async function lesson(t, spec, n) {
  const { page, errors } = await open(t, `/?${spec}&stopAt=${n}&speed=max&autostart=1`);
  await waitPausedAt(page, n, 120000);
  const m = await exactly(page, n);
  t.diagnostic(`${spec} at step ${n}: ${JSON.stringify(m)}`);
  assert.deepEqual(errors, []);
  return m;
}

const circle = 'name=custom&seed=1&dataset=circle&samples=1000&noise=0.1&test=0.5&optimizer=sgd&lr=0.03&batch=10';
const spiral = 'name=custom&seed=2&dataset=spiral&samples=1000&noise=0.1&test=0.5&optimizer=adam&lr=0.01&batch=10';

test('circle: a line cannot draw it (x, y, no hidden layer), the squares x² and y² can', async (t) => {
  const line = await lesson(t, `${circle}&features=x,y&layers=1:sigmoid`, 2000);
  assert.ok(line.accuracy <= 70, `x, y and no hidden layer reached ${line.accuracy}% test accuracy`);
  const squares = await lesson(t, `${circle}&features=x,y,x2,y2&layers=1:sigmoid`, 2000);
  assert.ok(squares.accuracy >= 95, `adding x² and y² reached only ${squares.accuracy}%`);
});

test('spiral: no hidden layer fails, the spiral preset learns it', async (t) => {
  const flat = await lesson(t, `${spiral}&features=x,y&layers=1:sigmoid`, 3000);
  assert.ok(flat.accuracy <= 65, `no hidden layer reached ${flat.accuracy}%`);
  const deep = await lesson(t, 'preset=spiral-adam', 3000);
  assert.ok(deep.accuracy >= 95, `the spiral preset reached only ${deep.accuracy}%`);
});

test('L2 regularization narrows the gap between train and test loss on a small noisy set', async (t) => {
  const xor = 'name=custom&seed=3&dataset=xor&samples=200&noise=0.5&test=0.5&features=x,y,x2,y2,xy,sinx,siny&layers=16:tanh,16:tanh,1:sigmoid&optimizer=adam&lr=0.03&batch=10';
  const none = await lesson(t, xor, 3000);
  const l2 = await lesson(t, `${xor}&reg=l2&regRate=0.01`, 3000);
  const [g0, g1] = [none.testLoss - none.loss, l2.testLoss - l2.loss];
  t.diagnostic(`train/test gap: ${g0.toFixed(3)} without, ${g1.toFixed(3)} with L2 0.01`);
  assert.ok(g0 > 0.5, `no overfitting to cure (gap ${g0})`);
  assert.ok(g1 < g0 / 2, `L2 left a gap of ${g1} (without: ${g0})`);
});

// divergingStep is the first step whose training loss `playground train`
// logs as NaN or infinite.
function divergingStep(spec) {
  const dir = tempDir('pg-diverge-');
  fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
  const r = spawnSync(BIN, ['train', '--spec', path.join(dir, 'spec.json'), '--steps', '200', '--every', '0', '--log-every', '1', '--out', dir], { encoding: 'utf8' });
  const m = r.stderr.match(/^step (\d+) loss [+-]?(Inf|NaN)/m);
  if (!m) throw new Error(`no divergence natively:\n${r.stderr.slice(0, 500)}`);
  return Number(m[1]);
}

test('learning rate 10 on regression: the run pauses at the diverging step and says why', async (t) => {
  const spec = {
    name: 'custom', seed: 6,
    dataset: { kind: 'regression', samples: 1000, noise: 0.1, test_ratio: 0.3, features: ['x', 'y'] },
    model: { layers: [{ units: 16, activation: 'tanh' }, { units: 8, activation: 'tanh' }, { units: 1, activation: 'linear' }] },
    loss: 'mse', optimizer: { kind: 'sgd', lr: 10 }, batch_size: 32,
  };
  const want = divergingStep(spec);
  const { page, errors } = await open(t, '/?name=custom&seed=6&dataset=regression&samples=1000&noise=0.1&test=0.3&features=x,y&layers=16:tanh,8:tanh,1:linear&loss=mse&optimizer=sgd&lr=10&batch=32&speed=max&autostart=1');
  await page.waitForSelector('[data-testid=diverged]', { timeout: 60000 });
  await waitPhase(page, 'paused');
  const msg = await text(page, 'diverged');
  t.diagnostic(`${msg} (natively: step ${want})`);
  assert.equal(Number(await text(page, 'step')), want, 'paused at the step whose loss diverged');
  assert.match(msg, new RegExp(`diverged at step ${want}: .*learning rate \\(10\\) is too high.*lower it`));
  assert.match(await text(page, 'status'), /diverged at step/);
  await screenshot(page, 'lesson-diverged', page);
  assert.deepEqual(errors, []);
});

// The divergence banner appears above the columns: the columns stay the
// same elements (a field being typed in keeps its text and its focus).
// vugu matches children by position; the banner used to rebuild them all.
test('the divergence banner leaves the columns and a field being typed in alone', async (t) => {
  const { page, errors } = await open(t, '/?name=custom&seed=6&dataset=regression&samples=1000&noise=0.1&test=0.3&features=x,y&layers=16:tanh,8:tanh,1:linear&loss=mse&optimizer=sgd&lr=10&batch=32&speed=max');
  await waitPhase(page, 'paused');
  await page.evaluate(() => ['main', 'section.lower', '[data-testid=lr]'].forEach((q) => (document.querySelector(q).__kept = true)));
  await page.getByTestId('resume').click();
  const seed = page.getByTestId('seed');
  await seed.click();
  await seed.press('Control+a');
  await page.keyboard.type('77');
  await page.waitForSelector('[data-testid=diverged]', { timeout: 60000 });
  await sleep(300);
  const kept = await page.evaluate(() => ['main', 'section.lower', '[data-testid=lr]'].filter((q) => !document.querySelector(q).__kept));
  assert.deepEqual(kept, [], 'replaced when the banner appeared');
  assert.equal(await seed.inputValue(), '77');
  assert.ok(await seed.evaluate((el) => el === document.activeElement), 'the seed field lost its focus');
  assert.deepEqual(errors, []);
});

test('?hide= leaves panels out, ?lock= disables a control, ?stopAt= pauses with the native bits', async (t) => {
  const { page, errors } = await open(t, '/?preset=circle-sgd&hide=checkpoints,server,compare,log&lock=lr&stopAt=1234&speed=max&autostart=1');
  const fp = await waitPausedAt(page, 1234);
  assert.equal(fp, nativeFingerprint('circle-sgd', 1234));
  for (const sel of ['.timeline', '.sync', '.compare', '.logpanel', '[data-testid=save]', '[data-testid=push]', '[data-testid=compare-start]', '[data-testid=log]']) {
    assert.equal(await page.locator(sel).count(), 0, `${sel} is rendered`);
  }
  assert.equal(await page.locator('.panel.data').count(), 1, 'the data panel stays');
  assert.equal(await page.getByTestId('lr').isDisabled(), true, 'the learning rate is locked');
  assert.equal(await page.getByTestId('lr').isVisible(), true, 'a locked control is shown');
  assert.equal(await page.getByTestId('dataset').isDisabled(), false, 'the dataset is not locked');
  assert.deepEqual(errors, []);
});

test('the Share dialog makes a lesson link that hides and locks what the teacher chose', async (t) => {
  const a = await open(t, '/?preset=circle-sgd');
  await waitPhase(a.page, 'paused');
  await a.page.getByTestId('share-open').click();
  await a.page.getByTestId('share-checkpoints').selectOption('hide');
  await a.page.getByTestId('share-log').selectOption('hide');
  await a.page.getByTestId('share-lr').selectOption('lock');
  await commit(a.page, 'share-stopat', '300');
  const link = await a.page.getByTestId('share-url').inputValue();
  t.diagnostic(link);
  const q = new URL(link).searchParams;
  assert.equal(q.get('hide'), 'checkpoints,log');
  assert.equal(q.get('lock'), 'lr');
  assert.equal(q.get('stopAt'), '300');
  const b = await open(t, new URL(link).pathname + new URL(link).search + '&autostart=1&speed=max');
  await waitPausedAt(b.page, 300);
  assert.equal(await b.page.locator('.timeline').count(), 0);
  assert.equal(await b.page.locator('.logpanel').count(), 0);
  assert.equal(await b.page.getByTestId('lr').isDisabled(), true);
  assert.deepEqual([...a.errors, ...b.errors], []);
});

// watchSteps records every value the step counter shows from now on.
async function watchSteps(page) {
  await page.evaluate(() => {
    window.__steps = [];
    const el = document.querySelector('[data-testid=step]');
    new MutationObserver(() => window.__steps.push(Number(el.textContent))).observe(el, { childList: true, characterData: true, subtree: true });
  });
}

test('Play after changing the learning rate continues as a fork; Reset starts over with the settings shown', async (t) => {
  const { page, errors } = await open(t, '/?preset=circle-sgd&stopAt=500&speed=max&autostart=1');
  await waitPausedAt(page, 500);
  const parent = (await text(page, 'run')).split(' · ')[1];
  await commit(page, 'lr', '0.1');
  assert.match(await text(page, 'edited-note'), /Play continues from step 500/);
  await watchSteps(page);
  await page.getByTestId('resume').click();
  await page.waitForFunction((p) => !document.querySelector('[data-testid=run]')?.textContent.includes(p) && Number(document.querySelector('[data-testid=step]')?.textContent) > 600, parent, { timeout: 60000 });
  await page.getByTestId('pause').click();
  await waitPhase(page, 'paused');
  const child = (await text(page, 'run')).split(' · ')[1];
  const seen = await page.evaluate(() => window.__steps);
  t.diagnostic(`steps shown after Play: ${seen.slice(0, 8).join(', ')} … (${seen.length})`);
  assert.ok(seen.length > 0 && Math.min(...seen) >= 500, `the step counter went back (min ${Math.min(...seen)})`);
  await page.waitForSelector(`[data-testid=run-row][data-run="${child}"] [data-testid=run-lineage]`);
  assert.equal(await page.locator(`[data-testid=run-row][data-run="${child}"] [data-testid=run-lineage]`).textContent(), `forked from ${parent} at step 500`);
  assert.match(await text(page, 'spec-json'), /"lr": 0.1\b/);

  // Reset after an edit: a new run at step 0 with the edited settings.
  await commit(page, 'lr', '0.05');
  await page.getByTestId('reset').click();
  await page.waitForFunction((c) => !document.querySelector('[data-testid=run]')?.textContent.includes(c) && document.querySelector('[data-testid=step]')?.textContent === '0', child, { timeout: 30000 });
  await sleep(300);
  assert.match(await text(page, 'spec-json'), /"lr": 0.05\b/, 'the new run has the settings shown');
  assert.equal(await page.getByTestId('edited').count(), 0, 'the settings shown are the run\'s');
  assert.deepEqual(errors, []);
});

test('Compare keeps the page on the run it started from, with the children listed and overlaid', async (t) => {
  const { page, errors } = await open(t, '/?preset=circle-sgd&stopAt=500&speed=max&autostart=1');
  await waitPausedAt(page, 500);
  await page.waitForSelector('[data-testid=ckpt-row][data-step="500"]');
  const parent = (await text(page, 'run')).split(' · ')[1];
  await commit(page, 'compare-values', '0.01, 0.3');
  await commit(page, 'compare-steps', '200');
  await page.getByTestId('compare-start').click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=compare-row]')].filter((r) => /loss/.test(r.textContent)).length === 2, null, { timeout: 60000 });
  await page.waitForFunction((p) => document.querySelector('[data-testid=run]')?.textContent.includes(p) && document.querySelector('[data-testid=phase]')?.textContent === 'paused', parent, { timeout: 30000 });
  assert.equal(await text(page, 'step'), '500', 'back on the parent at its step');
  const curves = await page.$$eval('[data-testid=compare-curve]', (ls) => ls.map((l) => l.getAttribute('points').split(' ').length));
  assert.equal(curves.length, 2);
  for (const n of curves) assert.ok(n >= 5, `a compared curve of ${n} points`);
  assert.deepEqual(errors, []);
});

test('screenshots: an embedded lesson at 800×600, and a phone at 390×844', async (t) => {
  const embed = await open(t, '/?preset=circle-sgd&embed=1&hide=checkpoints,server,compare,log,travel,fingerprint,spec,network&lock=dataset&stopAt=600&speed=max&autostart=1', { width: 800, height: 600 });
  await waitPhase(embed.page, 'paused', 60000);
  await embed.page.waitForFunction(() => document.querySelector('[data-testid=step]')?.textContent === '600', null, { timeout: 60000 });
  await sleep(500);
  await screenshot(embed.page, 'lesson-embed-800x600', embed.page);
  const box = await embed.page.getByTestId('heatmap-box').boundingBox();
  assert.ok(box && box.y + box.height <= 600, `the map is not on the first screen (${JSON.stringify(box)})`);
  assert.equal(await embed.page.locator('.brand').count(), 0, 'no brand bar in an iframe');
  assert.deepEqual(embed.errors, []);

  const phone = await open(t, '/?preset=circle-sgd&stopAt=800&speed=max&autostart=1', { width: 390, height: 844 });
  await waitPausedAt(phone.page, 800);
  await sleep(500);
  await screenshot(phone.page, 'lesson-phone-390x844', phone.page);
  await screenshot(phone.page, 'lesson-phone-390x844-full');
  const px = await phone.page.$$eval('[data-testid=loss-chart] text.axis', (ts) =>
    ts.map((el) => (parseFloat(getComputedStyle(el).fontSize) * el.ownerSVGElement.getBoundingClientRect().width) / el.ownerSVGElement.viewBox.baseVal.width),
  );
  t.diagnostic(`chart labels on a phone: ${px.map((p) => p.toFixed(1)).join(', ')} px`);
  assert.ok(px.length > 0 && Math.min(...px) >= 11, `chart text of ${Math.min(...px)} px`);
  // The training controls come right after the picture, not after the
  // whole output column.
  const heat = await phone.page.getByTestId('heatmap-box').boundingBox();
  const data = await phone.page.getByTestId('dataset').boundingBox();
  t.diagnostic(`map ends at ${heat.y + heat.height} px, the dataset control is at ${data.y} px`);
  assert.ok(data.y - (heat.y + heat.height) < 400, `${data.y - heat.y - heat.height} px between the map and the controls`);
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  assert.deepEqual(phone.errors, []);
});
