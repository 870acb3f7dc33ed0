// The server goes away: the page still opens (its service worker keeps
// the build), resumes the run from IndexedDB, says once that the server is
// unreachable and backs off; when the server is back on the same port and
// store, auto-push resumes by itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DIST, browse, collectErrors, screenshot, serve, servePlayground, servePlaygroundAt, sleep, step, tempDir, text, waitPhase } from './harness.mjs';

// head is the server's head of run: {head, step}, or null.
async function head(url, run) {
  try {
    const res = await fetch(`${url}/api/runs/${run}/head`);
    return res.status === 200 ? await res.json() : null;
  } catch {
    return null;
  }
}

async function waitHead(url, run, above, timeout) {
  for (const t0 = Date.now(); Date.now() - t0 < timeout; await sleep(200)) {
    const h = await head(url, run);
    if (h && h.step > above) return h;
  }
  throw new Error(`the server's head of ${run} never passed step ${above}`);
}

const logLines = (page) => page.$$eval('[data-testid=log] li', (lis) => lis.map((li) => li.textContent));

test('reload with the server away: the page opens and resumes; auto-push backs off, then resumes by itself', async (t) => {
  const { srv: first, ctx } = await browse(t, servePlayground());
  let srv = first;
  t.after(() => srv.close());
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  await page.goto(`${srv.url}/?preset=circle-sgd&autostart=1`);
  await waitPhase(page, 'running');
  await page.getByTestId('autopush').check();
  const shownRun = await text(page, 'run');
  const run = shownRun.split(' · ').pop();
  const pushed = await waitHead(srv.url, run, 0, 60000);
  t.diagnostic(`auto-pushed: the server's head at step ${pushed.step}`);
  // The service worker has cached the build and controls the page.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  // The server goes away; a reload opens the page all the same.
  await srv.close();
  assert.equal(await head(srv.url, run), null, 'the server is down');
  const shown = await step(page);
  await page.reload();
  await waitPhase(page, 'running', 60000);
  const resumedAt = Number(await text(page, 'resumed-at'));
  t.diagnostic(`server away: showed ${shown} before the reload, resumed at ${resumedAt}`);
  assert.ok(resumedAt >= shown, `resumed at ${resumedAt}, below the ${shown} shown before`);
  assert.equal(await text(page, 'run'), shownRun, 'the same run resumed');

  // Unreachable: said once, whatever the attempts (1 s, 2 s, 4 s… apart).
  await page.waitForFunction(() => /unreachable/.test(document.querySelector('[data-testid=sync-status]')?.textContent ?? ''), null, { timeout: 30000 });
  await sleep(8000);
  const sync = await text(page, 'sync-status');
  assert.match(sync, /Server unreachable, retrying/);
  assert.doesNotMatch(sync, /Auto-pushed/);
  const down = (await logLines(page)).filter((l) => /unreachable/i.test(l));
  t.diagnostic(`while away: ${JSON.stringify(down)}`);
  assert.equal(down.length, 1, 'one log line says the server is unreachable');
  await screenshot(page, 'offline-unreachable');
  const stepAway = await step(page);

  // The server is back (same port, same store): auto-push resumes by itself.
  srv = await servePlaygroundAt(new URL(first.url).host, first.data);
  const back = await waitHead(srv.url, run, pushed.step, 120000);
  t.diagnostic(`back: the server's head at step ${back.step} (was ${pushed.step}; the page was at ${stepAway} while it was away)`);
  assert.ok(back.step > pushed.step);
  await page.waitForFunction(() => /Auto-pushed/.test(document.querySelector('[data-testid=sync-status]')?.textContent ?? ''), null, { timeout: 30000 });
  const lines = await logLines(page);
  assert.equal(lines.filter((l) => /unreachable/i.test(l)).length, 1, 'still one unreachable line');
  assert.equal(lines.filter((l) => /auto-push resumed/.test(l)).length, 1, 'one line says auto-push resumed');
  assert.deepEqual(
    errors.filter((e) => !/Failed to (fetch|load resource)|ERR_CONNECTION_REFUSED|sw\.js/.test(e)),
    [],
  );
});

// caches lists the page's caches and the paths each holds.
const cached = (page) =>
  page.evaluate(async () => {
    const out = {};
    for (const k of await caches.keys()) {
      out[k] = (await (await caches.open(k)).keys()).map((r) => new URL(r.url).pathname).sort();
    }
    return out;
  });

test('a new deploy replaces the service worker and its cache', async (t) => {
  // A copy of the build to deploy over.
  const dir = tempDir('pg-deploy-');
  fs.cpSync(DIST, dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (/^(index\.html|sw\.js)\.(br|gz)$/.test(f)) fs.rmSync(path.join(dir, f));
  const { srv, ctx } = await browse(t, serve(dir));
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/?preset=circle-sgd`);
  await page.evaluate(() => navigator.serviceWorker.ready);
  const wasm = '/' + fs.readdirSync(dir).find((f) => /^playground\.[0-9a-f]{10}\.wasm$/.test(f));
  // The loader keeps its download once the binary has arrived, which may
  // be after the service worker is ready.
  let first = await cached(page);
  for (let i = 0; i < 150 && !first['playground-wasm']?.length; i++) {
    await sleep(200);
    first = await cached(page);
  }
  const builds = (c) => Object.keys(c).filter((k) => k.startsWith('playground-build-'));
  const [oldCache] = builds(first);
  assert.equal(builds(first).length, 1, JSON.stringify(first));
  const oldStyle = fs.readdirSync(dir).find((f) => /^style\.[0-9a-f]{10}\.css$/.test(f));
  assert.ok(first[oldCache].includes('/' + oldStyle), `the cache holds ${oldStyle}: ${first[oldCache]}`);
  assert.deepEqual(first['playground-wasm'], [wasm], 'the page kept its one binary');

  // Deploy: a changed stylesheet under a new hashed name.
  const newStyle = 'style.' + 'ab'.repeat(5) + '.css';
  fs.writeFileSync(path.join(dir, newStyle), fs.readFileSync(path.join(dir, oldStyle), 'utf8') + '\n/* deploy 2 */\n');
  for (const f of fs.readdirSync(dir)) if (f.startsWith(oldStyle)) fs.rmSync(path.join(dir, f));
  for (const f of ['index.html', 'sw.js']) {
    const p = path.join(dir, f);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replaceAll(oldStyle, newStyle));
  }
  await page.reload();
  let now = {};
  for (const t0 = Date.now(); Date.now() - t0 < 30000; await sleep(200)) {
    now = await cached(page);
    if (builds(now).length === 1 && !(oldCache in now)) break;
  }
  t.diagnostic(`caches: before ${oldCache}, after ${Object.keys(now)}`);
  const keys = builds(now);
  assert.equal(keys.length, 1, `one cache after the deploy: ${keys}`);
  assert.deepEqual(now['playground-wasm'], [wasm], 'the binary, unchanged, stays');
  assert.notEqual(keys[0], oldCache, 'the deploy has a cache of its own');
  assert.ok(now[keys[0]].includes('/' + newStyle), `the new cache holds ${newStyle}`);
  assert.ok(!now[keys[0]].includes('/' + oldStyle), `the new cache dropped ${oldStyle}`);
  const sheet = await page.evaluate(() => [...document.styleSheets].map((s) => s.href).join(' '));
  assert.match(sheet, new RegExp(newStyle.replace(/\./g, '\\.')), 'the page loads the new stylesheet');
});
