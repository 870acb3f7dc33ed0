// The page embedded in another site's page: a cross-site iframe (the page
// on 127.0.0.1, the embedding page on localhost, another port), where
// Chromium refuses third-party storage: localStorage throws, indexedDB.open
// fails, Web Locks and service workers are denied. The page must still
// train (in memory) and say that checkpoints are off.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { collectErrors, launch, screenshot, servePlayground, tempDir } from './harness.mjs';

// blockingProfile is a fresh profile whose settings block third-party
// cookies and site data (chrome://settings/cookies), as many users' do and
// as Chromium does by default where third-party cookies are phased out.
function blockingProfile() {
  const dir = tempDir('pg-profile-');
  fs.mkdirSync(path.join(dir, 'Default'));
  fs.writeFileSync(path.join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 1, block_third_party_cookies: true } }));
  return dir;
}

// embedder serves, on localhost, a page that embeds src in an iframe.
async function embedder(src) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>A course</title><h1>Lesson 1</h1>
<iframe id="pg" src="${src}" width="1240" height="900"></iframe>`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://localhost:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

test('in a cross-site iframe with storage blocked, the page trains in memory and says checkpoints are off', async (t) => {
  const srv = await servePlayground();
  const { ctx } = await launch(blockingProfile());
  t.after(async () => {
    await ctx.close();
    await srv.close();
  });
  assert.match(srv.url, /^http:\/\/127\.0\.0\.1:/);
  const outer = await embedder(`${srv.url}/?preset=circle-sgd&autostart=1`);
  t.after(outer.close);
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  await page.goto(outer.url);
  const frame = await (await page.waitForSelector('#pg')).contentFrame();

  // The browser really refuses this frame its storage (as a blocked
  // third-party iframe does), so the test tests that case.
  const refused = await frame.evaluate(async () => {
    const out = {};
    try {
      localStorage.getItem('x');
      out.localStorage = 'allowed';
    } catch (e) {
      out.localStorage = e.name;
    }
    out.indexedDB = await new Promise((resolve) => {
      try {
        const r = indexedDB.open('probe');
        r.onsuccess = () => resolve('allowed');
        r.onerror = () => resolve(r.error.name);
      } catch (e) {
        resolve(e.name);
      }
    });
    return out;
  });
  t.diagnostic(`in the frame: localStorage ${refused.localStorage}, indexedDB.open ${refused.indexedDB}`);
  assert.notEqual(refused.localStorage, 'allowed', 'localStorage is refused in the cross-site frame');
  assert.notEqual(refused.indexedDB, 'allowed', 'indexedDB is refused in the cross-site frame');

  // It trains, says checkpoints are off, and never shows the load failure.
  await frame.waitForFunction(() => Number(document.querySelector('[data-testid=step]')?.textContent) > 200, null, { timeout: 90000 });
  await frame.waitForSelector('[data-testid=storage-off]');
  const notice = await frame.getByTestId('storage-off').textContent();
  assert.match(notice, /Checkpoints are off/);
  assert.match(await frame.getByTestId('status').textContent(), /checkpoints off/);
  assert.equal(await frame.getByTestId('phase').textContent(), 'running');
  const body = await frame.evaluate(() => document.body.textContent);
  assert.doesNotMatch(body, /failed to load/);
  const s1 = Number(await frame.getByTestId('step').textContent());
  await frame.waitForFunction((s) => Number(document.querySelector('[data-testid=step]')?.textContent) > s, s1, { timeout: 30000 });
  await screenshot(page, 'embed-storage-off');
  assert.deepEqual(
    errors.filter((e) => !/denied|SecurityError/i.test(e)),
    [],
  );
});
