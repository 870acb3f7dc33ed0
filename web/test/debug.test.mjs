// The benchmarks' hooks exist with ?debug=1 only; the page trains the same
// without them (and the UI renders: it calls pgPage.rendered only when the
// page defines it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openFresh, serve, waitPhase } from './harness.mjs';

let srv;
test.before(async () => {
  srv = await serve();
});
test.after(() => srv.close());

async function hooks(t, query) {
  const { page, errors } = await openFresh(t, srv.url + query);
  await waitPhase(page, 'running', 60000);
  // The UI is up and has rendered the run.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=step]')?.textContent?.replace(/,/g, '')) > 0, null, { timeout: 60000 });
  const got = await page.evaluate(() => ({
    times: window.__pgTimes,
    saves: Array.isArray(window.__pgSaves),
    syncs: Array.isArray(window.__pgSyncs),
    rendered: typeof window.pgPage.rendered,
    renders: window.pgPage.renders?.length,
  }));
  assert.deepEqual(errors, []);
  return got;
}

test('no hooks without ?debug=1', async (t) => {
  const h = await hooks(t, '/?preset=circle-sgd&autostart=1');
  assert.deepEqual(h, { times: undefined, saves: false, syncs: false, rendered: 'undefined', renders: undefined });
});

test('the hooks with ?debug=1', async (t) => {
  const h = await hooks(t, '/?preset=circle-sgd&autostart=1&debug=1');
  assert.ok(h.times.ready > 0 && h.times.running >= h.times.ready && h.times.rendered > 0, JSON.stringify(h.times));
  assert.ok(h.saves && h.syncs, JSON.stringify(h));
  assert.equal(h.rendered, 'function');
  assert.ok(h.renders > 0, `renders ${h.renders}`);
});
