// The teaching page (ui/, vugu): poking at the settings trains what they
// say, the checkpoint timeline forks and pins, time travel recomputes any
// past step exactly, runs compare, and a link reproduces a run. Each
// scenario starts from a fresh profile.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  checkpointsInDB,
  collectErrors,
  commit,
  fingerprintOf,
  launch,
  nativeFingerprint,
  openPage,
  playground,
  screenshot,
  serve,
  sleep,
  step,
  tempDir,
  text,
  waitPausedAt,
  waitPhase,
} from './harness.mjs';

let srv;
test.before(async () => {
  srv = await serve();
});
test.after(() => srv.close());

// open starts a fresh profile on a page of the playground.
const open = (t, query, viewport) => openPage(t, srv, query, viewport);

async function waitStep(page, n, timeout = 60000) {
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=step]')?.textContent) >= n, n, { timeout });
}

// pixelDiff counts the pixels that differ between two PNG screenshots
// (decoded by the browser).
async function pixelDiff(page, a, b) {
  return page.evaluate(
    async ([a, b]) => {
      const load = async (b64) => {
        const bmp = await createImageBitmap(await (await fetch('data:image/png;base64,' + b64)).blob());
        const c = new OffscreenCanvas(bmp.width, bmp.height);
        const g = c.getContext('2d');
        g.drawImage(bmp, 0, 0);
        return g.getImageData(0, 0, bmp.width, bmp.height).data;
      };
      const [x, y] = [await load(a), await load(b)];
      if (x.length !== y.length) return -1;
      let n = 0;
      for (let i = 0; i < x.length; i += 4) {
        if (Math.abs(x[i] - y[i]) + Math.abs(x[i + 1] - y[i + 1]) + Math.abs(x[i + 2] - y[i + 2]) > 24) n++;
      }
      return n;
    },
    [a.toString('base64'), b.toString('base64')],
  );
}

// rows returns the checkpoint rows of the active run: {id, step, kind}.
async function rows(page) {
  return page.$$eval('[data-testid=ckpt-row]', (trs) => trs.map((tr) => ({ id: tr.dataset.id, step: Number(tr.dataset.step), kind: tr.dataset.kind })));
}

function nativeSpecFingerprint(spec, steps) {
  const dir = tempDir('pg-spec-');
  fs.writeFileSync(path.join(dir, 'spec.json'), spec);
  const out = playground('train', '--spec', path.join(dir, 'spec.json'), '--steps', String(steps), '--every', '0', '--out', dir);
  const lines = out.trim().split('\n');
  return fingerprintOf(lines[lines.length - 1]);
}

test('pick a dataset, change layers and learning rate, train: the loss falls and the boundary forms', async (t) => {
  const { page, errors } = await open(t, '/?preset=circle-sgd&speed=max');
  await waitPhase(page, 'paused');
  await page.getByTestId('dataset').selectOption('spiral');
  await page.getByTestId('layer-add').click();
  await page.getByTestId('feature-sinx').check();
  await commit(page, 'lr', '0.01');
  await page.getByTestId('optimizer').selectOption('adam');
  await commit(page, 'lr', '0.01');
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('dataset'), 'spiral');
  assert.equal(q.get('lr'), '0.01');
  assert.equal(q.get('layers'), '16:tanh,16:tanh,16:tanh,1:sigmoid');
  assert.match(await text(page, 'edited'), /Settings changed/);

  await page.getByTestId('resume').click(); // Play: the new settings as a new run
  await waitPhase(page, 'running');
  await page.waitForFunction(() => /^\d/.test(document.querySelector('[data-testid=loss]')?.textContent ?? ''));
  const heat = page.getByTestId('heatmap-box');
  const before = await heat.screenshot();
  await waitStep(page, (await step(page)) + 6000);
  await sleep(600);
  const after = await heat.screenshot();
  const diff = await pixelDiff(page, before, after);
  t.diagnostic(`heat map: ${diff} pixels changed`);
  assert.ok(diff > 500, `the heat map barely changed (${diff} pixels)`);
  // The loss shown falls: the chart's training curve, from its first
  // points (step 0 on) to its last (y grows downwards), and the number.
  const ys = (await page.getByTestId('curve-train').getAttribute('points')).split(' ').map((p) => Number(p.split(',')[1]));
  assert.ok(ys.length > 20, 'the loss chart has a curve');
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const [early, late] = [mean(ys.slice(0, 5)), mean(ys.slice(-5))];
  t.diagnostic(`loss curve: y ${early.toFixed(1)} → ${late.toFixed(1)}; train loss shown ${await text(page, 'loss')}`);
  assert.ok(late > early + 40, `the loss curve did not fall (y ${early} → ${late})`);
  assert.ok(Number(await text(page, 'loss')) < 0.3, 'the train loss shown fell from ~0.69');
  assert.match(await text(page, 'run'), /^custom · custom-/);

  await screenshot(page, 'ui-1280x800');
  await page.setViewportSize({ width: 390, height: 844 });
  await sleep(400);
  await screenshot(page, 'ui-390x844');
  await screenshot(page, 'ui-390x844-screen', page); // what a phone shows first
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  assert.deepEqual(errors, []);
});

test('digits: sample images with predicted labels', async (t) => {
  const { page, errors } = await open(t, '/?preset=digits&autostart=1');
  await waitPhase(page, 'running');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=digit-pred]').length === 12);
  await waitStep(page, 300);
  await sleep(500);
  assert.equal(await page.getByTestId('heatmap-box').isHidden(), true);
  await screenshot(page, 'ui-digits-1280x800');
  assert.deepEqual(errors, []);
});

// A checkbox's click must not enter the page's Go before its change event:
// Go entered inside the browser's click may run a pending render there,
// which set the box back before the change event read it (a click on
// auto-push right after the start was lost about one time in ten). The
// test counts the page's entries into Go (wasm_exec's _resume) between
// the click and the change event.
test("a checkbox's click enters Go only at its change event", async (t) => {
  const { ctx } = await launch();
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  await page.addInitScript(() => {
    let Go;
    Object.defineProperty(globalThis, 'Go', {
      configurable: true,
      get: () => Go,
      set(C) {
        Go = C;
        const resume = C.prototype._resume;
        C.prototype._resume = function (...args) {
          globalThis.__goEntries = (globalThis.__goEntries ?? 0) + 1;
          return resume.apply(this, args);
        };
      },
    });
    globalThis.__inClick = [];
    let at = -1;
    addEventListener('click', () => (at = globalThis.__goEntries ?? 0), true);
    addEventListener('change', (e) => {
      if (e.target.type === 'checkbox' && at >= 0) globalThis.__inClick.push([e.target.dataset.testid, (globalThis.__goEntries ?? 0) - at]);
      at = -1;
    }, true);
  });
  await page.goto(`${srv.url}/?preset=circle-sgd&autostart=1`);
  await waitPhase(page, 'running');
  assert.ok(await page.evaluate(() => globalThis.__goEntries > 0), 'the count of entries into Go works');
  await page.getByTestId('autopush').check();
  await page.getByTestId('log-loss').check();
  await page.getByTestId('log-loss').uncheck();
  const got = await page.evaluate(() => globalThis.__inClick);
  t.diagnostic(`entries into Go between click and change: ${JSON.stringify(got)}`);
  assert.deepEqual(got, [['autopush', 0], ['log-loss', 0], ['log-loss', 0]]);
  assert.deepEqual(errors, []);
});

// A number typed key by key stays as typed: the page re-renders while a
// field is edited, and writing a number input's value back broke typing
// ("0." reads as "" there, and writing "" cleared it: "0.05" became 50).
test('a learning rate typed key by key is the one the draft takes', async (t) => {
  const { page, errors } = await open(t, '/?preset=circle-sgd&autostart=1');
  await waitPhase(page, 'running');
  const lr = page.getByTestId('lr');
  await lr.click();
  await lr.press('Control+a');
  await lr.press('Backspace');
  await page.keyboard.type('0.05', { delay: 60 });
  assert.equal(await lr.inputValue(), '0.05', 'the field while typing');
  await lr.press('Tab');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('lr') === '0.05', null, { timeout: 10000 });
  await sleep(500); // renders go on while training
  assert.equal(await lr.inputValue(), '0.05', 'the field after the change');
  assert.deepEqual(errors, []);
});

test('pin survives retention; fork continues a checkpoint with a new learning rate', async (t) => {
  // Autosave every 150 ms of training, keeping two.
  const { page, errors } = await open(t, '/?preset=circle-sgd&autostart=1&autosave=150&keep=2&speed=max');
  await waitPhase(page, 'running');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=ckpt-row][data-kind=autosave]').length >= 2);
  const parentRun = (await text(page, 'run')).split(' · ')[1];
  await page.getByTestId('pause').click();
  await waitPhase(page, 'paused');
  // The pause's own save (and the retention after it) has landed, so the
  // rows read next are the ones kept.
  await page.waitForFunction(() => document.querySelector('[data-testid=last-save]')?.textContent === document.querySelector('[data-testid=step]')?.textContent);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=ckpt-row][data-kind=autosave]').length >= 2);
  const victim = (await rows(page)).filter((r) => r.kind === 'autosave').at(-1); // the oldest autosave kept
  const row = page.locator(`[data-testid=ckpt-row][data-id="${victim.id}"]`);
  await row.getByTestId('ckpt-pin').click();
  await page.waitForSelector(`[data-testid=ckpt-row][data-id="${victim.id}"][data-kind=pinned]`);
  const others = (await rows(page)).filter((r) => r.kind === 'autosave').map((r) => r.id);
  // Several autosaves later, retention has deleted every other autosave
  // of that time, never the pinned one.
  await page.getByTestId('resume').click();
  await page.waitForFunction(
    (gone) => {
      const ids = [...document.querySelectorAll('[data-testid=ckpt-row]')].map((r) => r.dataset.id);
      return gone.every((id) => !ids.includes(id)) && document.querySelectorAll('[data-testid=ckpt-row][data-kind=autosave]').length === 2;
    },
    others,
    { timeout: 30000 },
  );
  await page.getByTestId('pause').click();
  await waitPhase(page, 'paused');
  const stored = await checkpointsInDB(page);
  assert.ok(stored.some((c) => c.id === victim.id), 'the pinned checkpoint is in IndexedDB');
  assert.ok(!stored.some((c) => others.includes(c.id)), 'unpinned autosaves of its time were deleted');
  assert.ok(await row.isVisible(), 'the pinned checkpoint is listed');

  // Fork from the pinned checkpoint with another learning rate.
  await commit(page, 'lr', '0.1');
  await row.getByTestId('ckpt-fork').click();
  await page.waitForFunction((p) => !(document.querySelector('[data-testid=run]')?.textContent ?? '').includes(p), parentRun);
  await waitPhase(page, 'paused');
  assert.equal(await step(page), victim.step, 'the fork starts at the parent checkpoint step');
  const child = (await text(page, 'run')).split(' · ')[1];
  const lineage = page.locator(`[data-testid=run-row][data-run="${child}"] [data-testid=run-lineage]`);
  await lineage.waitFor();
  assert.equal(await lineage.textContent(), `forked from ${parentRun} at step ${victim.step.toLocaleString('en-US')}`);
  const first = (await rows(page)).at(-1);
  assert.equal(first.step, victim.step, "the child's first checkpoint is at the parent's step");
  assert.equal(JSON.parse(await text(page, 'spec-json')).optimizer.lr, 0.1);
  await page.getByTestId('resume').click();
  await waitStep(page, victim.step + 500);
  const childCkpts = (await checkpointsInDB(page)).filter((c) => c.run === child);
  assert.ok(childCkpts.length >= 1);
  assert.deepEqual(errors, []);
});

test('time travel to a step between two checkpoints gives the native fingerprint', async (t) => {
  // Checkpoints at every 1,000 steps; the run trains on to 20,000 while
  // the page shows step 2,345.
  const { page, errors } = await open(t, '/?preset=circle-sgd&autostart=1&autosave=600000&autosaveSteps=1000&keep=100&pauseAt=20000&speed=max');
  await waitPhase(page, 'running');
  await waitStep(page, 3000);
  await page.waitForSelector('[data-testid=ckpt-row][data-step="3000"]');
  await commit(page, 'scrub-step', '2345');
  await page.waitForFunction(() => document.querySelector('[data-testid=scrub-at]')?.textContent === '2345', null, { timeout: 30000 });
  const fp = await text(page, 'scrub-fingerprint');
  assert.equal(fp, nativeFingerprint('circle-sgd', 2345));
  assert.match(await text(page, 'scrub-status'), /replayed 345 steps from its checkpoint at step 2,000/);
  const heat = page.getByTestId('heatmap-box');
  await sleep(300);
  const at2345 = await heat.screenshot();
  await screenshot(page, 'ui-time-travel');
  // The slider too: drag back to where the boundary was still forming.
  await page.getByTestId('scrub').evaluate((el) => {
    el.value = '60';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.waitForFunction(() => document.querySelector('[data-testid=scrub-at]')?.textContent === '60', null, { timeout: 30000 });
  assert.equal(await text(page, 'scrub-fingerprint'), nativeFingerprint('circle-sgd', 60));
  await sleep(300);
  const diff = await pixelDiff(page, at2345, await heat.screenshot());
  t.diagnostic(`heat map at step 60 vs 2,345: ${diff} pixels differ`);
  assert.ok(diff > 500, 'the heat map shows the past step');
  // The live run went on undisturbed.
  assert.equal(await waitPausedAt(page, 20000), nativeFingerprint('circle-sgd', 20000));
  await page.getByTestId('scrub-live').click();
  assert.deepEqual(errors, []);
});

// startCompare trains circle-sgd to step 2,000 in a fresh profile, then
// compares three learning rates from there, steps each.
async function startCompare(t, steps) {
  const { page, errors } = await open(t, '/?preset=circle-sgd&autostart=1&pauseAt=2000&speed=max');
  await waitPausedAt(page, 2000);
  await page.waitForSelector('[data-testid=ckpt-row][data-step="2000"]');
  const parentRun = (await text(page, 'run')).split(' · ')[1];
  await commit(page, 'compare-values', '0.003, 0.03, 0.3');
  await commit(page, 'compare-steps', String(steps));
  await page.getByTestId('compare-start').click();
  return { page, errors, parentRun };
}

// compareDone waits until the three children are trained, then checks
// their curves (three, of distinct runs, drawn) and lineage; it returns
// the curves.
async function compareDone(t, page, parentRun, timeout) {
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=compare-row]')].filter((r) => /loss/.test(r.textContent)).length === 3, null, {
    timeout,
  });
  const curves = await page.$$eval('[data-testid=compare-curve]', (ls) => ls.map((l) => ({ run: l.dataset.run, n: l.getAttribute('points').split(' ').length })));
  t.diagnostic(JSON.stringify(curves));
  assert.equal(curves.length, 3);
  assert.equal(new Set(curves.map((c) => c.run)).size, 3);
  for (const c of curves) assert.ok(c.n >= 10, `curve of ${c.run} has ${c.n} points`);
  for (const c of curves) {
    const lineage = await page.locator(`[data-testid=run-row][data-run="${c.run}"] [data-testid=run-lineage]`).textContent();
    assert.equal(lineage, `forked from ${parentRun} at step 2,000`);
  }
  return curves;
}

test('three forks with different learning rates overlay three curves', async (t) => {
  const { page, errors, parentRun } = await startCompare(t, 400);
  await compareDone(t, page, parentRun, 60000);
  await screenshot(page, 'ui-compare');
  assert.deepEqual(errors, []);
});

// rows are the compare panel's rows: the child's run and its state text.
async function compareRows(page) {
  return page.$$eval('[data-testid=compare-row]', (rs) => rs.map((r) => ({ run: r.dataset.run, state: r.querySelector('.state').textContent })));
}

test('a reload in the middle of a 3-way comparison finishes it, with three curves', async (t) => {
  const { page, errors, parentRun } = await startCompare(t, 40000);
  // The second child is training: reload now.
  await page
    .waitForFunction(
      () => {
        const rs = [...document.querySelectorAll('[data-testid=compare-row] .state')].map((s) => s.textContent);
        return rs.length === 3 && /loss/.test(rs[0]) && rs[1] === 'training…';
      },
      null,
      { timeout: 120000 },
    )
    .catch(async (err) => {
      t.diagnostic(JSON.stringify(await compareRows(page)));
      throw err;
    });
  const before = await compareRows(page);
  t.diagnostic('before the reload: ' + JSON.stringify(before));
  assert.equal(before[2].run, '', 'the third child was not forked yet');
  await page.reload();
  const curves = await compareDone(t, page, parentRun, 120000);
  const after = await compareRows(page);
  t.diagnostic('after the reload: ' + JSON.stringify(after));
  assert.equal(after[0].run, before[0].run, 'the first child is the one trained before the reload');
  assert.equal(after[1].run, before[1].run, 'the second child went on');
  assert.deepEqual(
    curves.map((c) => c.run),
    after.map((r) => r.run),
  );
  assert.equal(await page.getByTestId('compare-start').isDisabled(), false, 'the comparison is over');
  await screenshot(page, 'ui-compare-reload');
  assert.deepEqual(errors, []);
});

test('a link copied from the URL reproduces the run in a fresh profile', async (t) => {
  const a = await open(t, '/?preset=xor-momentum');
  await waitPhase(a.page, 'paused');
  await a.page.getByTestId('dataset').selectOption('gauss');
  await commit(a.page, 'noise', '0.2'); // a range: set by keyboard-free fill
  await commit(a.page, 'lr', '0.05');
  await commit(a.page, 'seed', '7');
  await a.page.getByTestId('feature-xy').check();
  await a.page.getByTestId('share').click();
  const link = await a.page.getByTestId('share-link').inputValue();
  assert.equal(link, a.page.url(), 'the page URL is the shared link');
  const spec = await text(a.page, 'spec-json');
  assert.equal(JSON.parse(spec).seed, 7);

  const b = await open(t, new URL(link).pathname + new URL(link).search + '&autostart=1&pauseAt=1500&speed=max');
  const fp = await waitPausedAt(b.page, 1500);
  assert.equal(await text(b.page, 'spec-json'), spec, 'the fresh profile has the same setup');
  assert.equal(fp, nativeSpecFingerprint(spec, 1500));
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
});
