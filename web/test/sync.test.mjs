// Sync through the real server (`playground serve`: the page and the API
// on one origin). The acceptance round trip: the page trains to 1,000 and
// pushes; the native trainer continues the server's run to 5,000 and
// pushes; the page pulls and trains to 6,000, and the state equals an
// uninterrupted native run. Then auto-push moves the server's head as the
// page trains on, and a server with a token refuses the page until it has
// the token.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { browse, fingerprintOf, nativeFingerprint, playground, servePlayground, sleep, tempDir, text, waitPausedAt } from './harness.mjs';

const PRESET = 'spiral-adam';

async function api(srv, p, token) {
  const res = await fetch(srv.url + p, { headers: token ? { Authorization: 'Bearer ' + token } : {} });
  assert.equal(res.status, 200, `GET ${p}: ${res.status}`);
  return res.json();
}

async function waitHead(srv, run, step, timeout = 30000) {
  const t0 = Date.now();
  for (;;) {
    const res = await fetch(`${srv.url}/api/runs/${run}/head`);
    if (res.status === 200) {
      const h = await res.json();
      if (h.step === step) return h.head;
    }
    if (Date.now() - t0 > timeout) throw new Error(`the server's head of ${run} never reached step ${step}`);
    await sleep(100);
  }
}

test('page → server → native → server → page, bit for bit', async (t) => {
  const { srv, ctx } = await browse(t, servePlayground());
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/?preset=${PRESET}&autostart=1&pauseAt=1000&speed=max`);
  await waitPausedAt(page, 1000);

  await page.getByTestId('push').click();
  await page.waitForFunction(() => /Pushed/.test(document.querySelector('[data-testid=sync-status]')?.textContent ?? ''));
  const runs = await api(srv, '/api/runs');
  assert.equal(runs.length, 1, JSON.stringify(runs));
  const run = runs[0].run;
  await waitHead(srv, run, 1000);
  const url = `${srv.url}/api/runs/${run}`;
  assert.match(await text(page, 'sync-url'), new RegExp(url.replace(/[.]/g, '\\.')));

  // Native: continue the server's run with all cores, pushing back.
  const out = playground('train', '--resume', url, '--steps', '5000').trim().split('\n');
  t.diagnostic(`native: ${out[out.length - 1]}`);
  await waitHead(srv, run, 5000, 1000);

  await page.getByTestId('pull').click();
  const fp5000 = await waitPausedAt(page, 5000);
  const pulled = tempDir('pg-pulled-');
  const file = playground('pull', url, '--out', pulled).trim();
  assert.equal(path.basename(path.dirname(file)), run);
  assert.equal(fp5000, fingerprintOf(file), "the page resumed at the server's head");

  await page.evaluate(() => window.pgPage.send(JSON.stringify({ type: 'settings', pauseAt: 6000 })));
  await page.getByTestId('resume').click();
  const fp6000 = await waitPausedAt(page, 6000);
  assert.equal(fp6000, nativeFingerprint(PRESET, 6000), 'page 0–1,000, native 1,000–5,000, page 5,000–6,000 = native 0–6,000');

  // Auto-push: every save goes to the server as the page trains on.
  await page.getByTestId('autopush').check();
  await page.evaluate(() => window.pgPage.send(JSON.stringify({ type: 'settings', pauseAt: 9000 })));
  await page.getByTestId('resume').click();
  const fp9000 = await waitPausedAt(page, 9000);
  const head = await waitHead(srv, run, 9000);
  const again = tempDir('pg-pulled-');
  const f9000 = playground('pull', url, '--out', again).trim();
  assert.equal(path.basename(f9000), head + '.safetensors');
  assert.equal(fingerprintOf(f9000), fp9000);
  assert.match(playground('ckpt', 'verify', ...[f9000]), /^ok /);

  // The server's runs, listed in the page.
  await page.getByTestId('server-refresh').click();
  await page.waitForSelector(`[data-testid=server-run][data-run="${run}"]`);
});

test('a server with a token: refused without it, pushed with it', async (t) => {
  const { srv, ctx } = await browse(t, servePlayground('--token', 's3cret-token'));
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/?preset=xor-momentum&autostart=1&pauseAt=300&speed=max`);
  await waitPausedAt(page, 300);
  await page.getByTestId('push').click();
  await page.waitForFunction(() => /401/.test(document.querySelector('[data-testid=log]')?.textContent ?? ''));
  assert.deepEqual(await api(srv, '/api/runs', 's3cret-token'), [], 'nothing stored without the token');

  await page.getByTestId('server-token').fill('s3cret-token');
  await page.getByTestId('server-token').dispatchEvent('change');
  await page.getByTestId('push').click();
  await page.waitForFunction(() => /Pushed/.test(document.querySelector('[data-testid=sync-status]')?.textContent ?? ''));
  const runs = await api(srv, '/api/runs', 's3cret-token');
  assert.equal(runs.length, 1);
  assert.equal(runs[0].newest_step, 300);
});

test('a server without a token: the page works as localhost, a foreign Host is refused', async (t) => {
  const { srv, ctx } = await browse(t, servePlayground());
  const local = srv.url.replace('127.0.0.1', 'localhost');
  const page = await ctx.newPage();
  await page.goto(`${local}/?preset=xor-momentum&autostart=1&pauseAt=200&speed=max`);
  await waitPausedAt(page, 200);
  await page.getByTestId('push').click();
  await page.waitForFunction(() => /Pushed/.test(document.querySelector('[data-testid=sync-status]')?.textContent ?? ''));
  const runs = await api(srv, '/api/runs');
  assert.equal(runs.length, 1);
  assert.equal(runs[0].newest_step, 200);

  // What a rebinding page would send: its own name as Host, its own Origin.
  // (Node's http, since fetch does not let a script set Host.)
  const { request } = await import('node:http');
  const send = (method, p, headers) =>
    new Promise((resolve, reject) => {
      const u = new URL(srv.url + p);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end();
    });
  const ck = `/api/runs/${runs[0].run}/checkpoints/${runs[0].newest}`;
  assert.equal(await send('GET', '/api/runs', { Host: 'evil.example.com' }), 403, 'list with a foreign Host');
  assert.equal(await send('DELETE', ck, { Host: 'evil.example.com' }), 403, 'delete with a foreign Host');
  assert.equal(await send('DELETE', ck, { Host: new URL(local).host, Origin: 'http://evil.example.com' }), 403, 'delete from a foreign Origin');
  assert.equal((await api(srv, '/api/runs')).length, 1, 'nothing deleted');
});
