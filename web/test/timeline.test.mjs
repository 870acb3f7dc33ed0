// The checkpoint table follows the saves without rendering the page: its
// rows are painted at the source, each kept row the same element (a
// button keeps its focus), and its buttons and the chart's marks work.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openFresh, serve, waitPhase } from './harness.mjs';

let srv;
test.before(async () => {
  srv = await serve();
});
test.after(() => srv.close());

test('saves repaint the checkpoint table, not the page; a focused button keeps its focus', async (t) => {
  const { page, errors } = await openFresh(t, `${srv.url}/?preset=circle-sgd&autostart=1&speed=max&autosave=300&debug=1`);
  await waitPhase(page, 'running', 60000);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=ckpt-row]').length >= 3, null, { timeout: 60000 });
  // Focus the oldest row's download button (the milestone at step 0 stays).
  const oldest = page.locator('[data-testid=ckpt-row][data-step="0"] [data-testid=ckpt-download]');
  await oldest.focus();
  const renders = await page.evaluate(() => window.pgPage.renders.length);
  const saves = Number(await page.getByTestId('saves').textContent());
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=saves]').textContent) >= n + 3, saves, { timeout: 60000 });
  const got = await page.evaluate(() => ({
    renders: window.pgPage.renders.length,
    focused: document.activeElement?.closest('[data-testid=ckpt-row]')?.dataset.step,
    newest: Number(document.querySelector('[data-testid=ckpt-row]').dataset.step),
    saved: Number(document.querySelector('[data-testid=last-save]').textContent),
  }));
  t.diagnostic(JSON.stringify({ before: renders, ...got }));
  assert.equal(got.renders, renders, 'a save rendered the page');
  assert.equal(got.focused, '0', 'the focused button lost its focus');
  assert.equal(got.newest, got.saved, 'the newest row is not the last save');

  // The painted buttons work: pause, pin the oldest autosave, select it.
  await page.getByTestId('pause').click();
  await waitPhase(page, 'paused');
  // The pause's own save (and its retention) has landed: the rows stay.
  const paused = Number(await page.getByTestId('step').textContent());
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=last-save]').textContent) === n && Number(document.querySelector('[data-testid=ckpt-row]').dataset.step) === n, paused, { timeout: 30000 });
  // Paused, nothing repaints the rows: they stay the same elements.
  await page.evaluate(() => document.querySelectorAll('[data-testid=ckpt-row], [data-testid=run-row]').forEach((r) => (r.__kept = true)));
  await page.waitForTimeout(1500);
  assert.ok(await page.evaluate(() => [...document.querySelectorAll('[data-testid=ckpt-row]')].every((r) => r.__kept)), 'a paused page replaced rows');
  // A render of the page (vugu's) leaves the painted rows alone too: it
  // used to empty them, and a click whose press and release straddled a
  // render was lost.
  const before = await page.evaluate(() => window.pgPage.renders.length);
  await page.getByTestId('log-loss').check();
  await page.waitForFunction((n) => window.pgPage.renders.length > n, before, { timeout: 10000 });
  assert.ok(await page.evaluate(() => [...document.querySelectorAll('[data-testid=ckpt-row], [data-testid=run-row]')].every((r) => r.__kept)), 'a render replaced rows');
  await page.getByTestId('log-loss').uncheck();
  const row = page.locator('[data-testid=ckpt-row][data-kind=autosave]').nth(1);
  const id = await row.getAttribute('data-id');
  await row.getByTestId('ckpt-pin').click();
  await page.waitForFunction((id) => document.querySelector(`[data-testid=ckpt-row][data-id="${id}"]`)?.dataset.kind === 'pinned', id, { timeout: 30000 });
  await page.locator(`[data-testid=ckpt-row][data-id="${id}"] [data-testid=ckpt-select]`).click();
  await page.waitForFunction((id) => document.querySelector(`[data-testid=ckpt-row][data-id="${id}"]`)?.classList.contains('selected'), id, { timeout: 10000 });

  // A checkpoint's mark on the chart selects it and travels to its step.
  const mark = page.locator(`#chart [data-testid=ckpt-mark]:not([data-id="${id}"])`).first();
  const [markID, markStep] = [await mark.getAttribute('data-id'), await mark.getAttribute('data-step')];
  await mark.click();
  await page.waitForFunction((id) => document.querySelector(`[data-testid=ckpt-row][data-id="${id}"]`)?.classList.contains('selected'), markID, { timeout: 10000 });
  await page.waitForFunction((s) => document.querySelector('[data-testid=scrub-step]')?.value === s, markStep, { timeout: 10000 });
  t.diagnostic(`the mark of ${markID} selected it and showed step ${markStep}`);
  assert.deepEqual(errors, []);
});

// While the run trains the chart is painted anew several times a second:
// a press of 300 ms on a mark (its release lands on a new element) still
// selects its checkpoint and travels to its step.
test('a press on a chart mark selects its checkpoint while the run trains', async (t) => {
  const { page, errors } = await openFresh(t, `${srv.url}/?preset=circle-sgd&autostart=1&speed=max&autosave=300`);
  await waitPhase(page, 'running', 60000);
  await page.waitForFunction(() => document.querySelectorAll('#chart [data-testid=ckpt-mark]').length >= 2, null, { timeout: 60000 });
  // The newest mark: retention deletes the oldest autosaves, and the chart
  // is painted anew under the test too (a box of null: measure again).
  let id, step, box;
  for (let i = 0; i < 20 && !box; i++) {
    [id, step, box] = await page.evaluate(() => {
      const marks = document.querySelectorAll('#chart [data-testid=ckpt-mark]');
      const m = marks[marks.length - 1];
      const r = m.getBoundingClientRect();
      return [m.dataset.id, m.dataset.step, r.width > 0 ? { x: r.x, y: r.y, width: r.width, height: r.height } : null];
    });
  }
  await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.6);
  await page.mouse.down();
  await page.waitForTimeout(300);
  await page.mouse.up();
  await page.waitForFunction((id) => document.querySelector(`[data-testid=ckpt-row][data-id="${id}"]`)?.classList.contains('selected'), id, { timeout: 10000 });
  await page.waitForFunction((s) => document.querySelector('[data-testid=scrub-step]')?.value === s, step, { timeout: 10000 });
  t.diagnostic(`pressed the mark of ${id} while training: selected, showing step ${step}`);
  assert.deepEqual(errors, []);
});

// fillKeyed keeps a kept row the same element when rows come and go
// around it: a save adds a row at the top while retention deletes one
// above the focused row (the focused row used to be moved, and lost its
// focus), and the old head row loses its class in place (it used to be
// replaced, and a press on its buttons was lost).
test('fillKeyed: a kept row stays the same element, with its focus, when others come and go', async (t) => {
  const { page, errors } = await openFresh(t, `${srv.url}/?preset=circle-sgd`);
  await page.waitForFunction(() => window.pgPage && document.getElementById('checkpoints'));
  const got = await page.evaluate(() => {
    const row = (id) => `<tr data-id="${id}"${id === 'd' ? ' class="head"' : ''}><td><button>${id}</button></td></tr>`;
    const fill = (ids) => window.pgPage.fillKeyed('checkpoints', ids.map(row).join(''));
    fill(['c', 'b', 'a', '0']);
    document.querySelector('#checkpoints [data-id="c"]').className = 'head'; // c was the head
    const box = document.getElementById('checkpoints');
    const kept = [...box.children];
    box.querySelector('[data-id="0"] button').focus();
    fill(['d', 'c', 'b', '0']); // a new save, the new head; retention took a
    const now = [...box.children];
    return {
      order: now.map((r) => r.dataset.id).join(','),
      same: ['c', 'b', '0'].filter((id) => now.find((r) => r.dataset.id === id) === kept.find((r) => r.dataset.id === id)),
      focused: document.activeElement?.closest('tr')?.dataset.id ?? null,
      heads: [...box.querySelectorAll('.head')].map((r) => r.dataset.id).join(','),
    };
  });
  t.diagnostic(JSON.stringify(got));
  assert.deepEqual(got, { order: 'd,c,b,0', same: ['c', 'b', '0'], focused: '0', heads: 'd' });
  assert.deepEqual(errors, []);
});
