// Shared helpers of the browser tests: a static server for web/dist, a
// headless Chromium with a fresh profile, the native binary, and direct
// reads of the page's IndexedDB.
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = process.env.PLAYGROUND_DIST || path.join(ROOT, 'web/dist');
export const BIN = process.env.PLAYGROUND_BIN || path.join(ROOT, 'bin/playground');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = path.join(ROOT, 'out/screenshots');

// Temporary folders (profiles, native runs) are removed when the test
// process exits.
const temps = [];
process.on('exit', () => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});
export function tempDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

// serve serves dir as the real server will: index.html at /, application/wasm,
// .br/.gz siblings by Accept-Encoding, hashed names cached forever.
export async function serve(dir = DIST) {
  if (!fs.existsSync(path.join(dir, 'index.html'))) throw new Error(`${dir} has no index.html: run make web`);
  const server = http.createServer((req, res) => {
    let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (p === '/') p = '/index.html';
    const file = path.join(dir, path.normalize(p));
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const ae = req.headers['accept-encoding'] || '';
    let body = file;
    const headers = {
      'Content-Type': types[path.extname(file)] || 'application/octet-stream',
      Vary: 'Accept-Encoding',
      'Cache-Control': /\.[0-9a-f]{10}\.[a-z]+$/.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
    };
    for (const [enc, ext] of [['br', '.br'], ['gzip', '.gz']]) {
      if (new RegExp(`\\b${enc}\\b`).test(ae) && fs.existsSync(file + ext)) {
        body = file + ext;
        headers['Content-Encoding'] = enc;
        break;
      }
    }
    headers['Content-Length'] = fs.statSync(body).size;
    res.writeHead(200, headers);
    fs.createReadStream(body).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// servePlayground starts the real server (`playground serve`: the embedded
// page and the checkpoint API) on a free port over a fresh store.
export async function servePlayground(...extra) {
  return servePlaygroundAt('127.0.0.1:0', tempDir('pg-server-'), ...extra);
}

// servePlaygroundAt starts the real server on addr over the store in data
// (a server stopped and started again: the same port, the same store).
export async function servePlaygroundAt(addr, data, ...extra) {
  const proc = spawn(BIN, ['serve', '--addr', addr, '--data', data, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => (log += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^(http:\/\/[^\s]+?)\/?\n/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`playground serve exited with ${code}: ${log}`)));
  });
  return {
    url,
    data,
    log: () => log,
    // close stops it (SIGKILL: a crash, for make soak).
    close: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.on('exit', resolve);
        proc.kill(signal);
      }),
  };
}

export const chromeArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// launch starts Chromium on profile dir (a fresh one by default).
export async function launch(dir) {
  dir ??= tempDir('pg-profile-');
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: chromeArgs,
    acceptDownloads: true,
    viewport: { width: 1280, height: 800 },
  });
  return { ctx, dir };
}

// browse is a test's server (web/dist by default, or what server resolves
// to) and browser, both closed after test t.
export async function browse(t, server = serve()) {
  const srv = await server;
  const { ctx } = await launch();
  t.after(async () => {
    await ctx.close();
    await srv.close();
  });
  return { srv, ctx };
}

// openFresh opens url in a fresh profile (closed after test t), at
// viewport if given, and collects the page's errors.
export async function openFresh(t, url, viewport) {
  const { ctx } = await launch();
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const errors = collectErrors(page);
  await page.goto(url);
  return { ctx, page, errors };
}

// killBrowser SIGKILLs every process of the Chromium running on profile
// dir, the browser process first: a crash, not a shutdown.
export function killBrowser(dir) {
  const pids = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!cmd.some((a) => a === `--user-data-dir=${dir}`)) continue;
    const isBrowser = !cmd.some((a) => a.startsWith('--type='));
    pids[isBrowser ? 'unshift' : 'push'](Number(pid));
  }
  if (!pids.length) throw new Error(`no Chromium runs on ${dir}`);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function text(page, testid) {
  return (await page.getByTestId(testid).textContent()) ?? '';
}

export async function step(page) {
  const t = await text(page, 'step');
  if (!/^\d+$/.test(t)) throw new Error(`step shows ${JSON.stringify(t)}, not digits`);
  return Number(t);
}

export async function waitPhase(page, phase, timeout = 30000) {
  await page.waitForFunction((p) => document.querySelector('[data-testid=phase]')?.textContent === p, phase, { timeout });
}

// waitPausedAt waits until the page is paused at step n with a fingerprint.
export async function waitPausedAt(page, n, timeout = 60000) {
  await page.waitForFunction(
    (n) =>
      document.querySelector('[data-testid=phase]')?.textContent === 'paused' &&
      document.querySelector('[data-testid=step]')?.textContent === String(n) &&
      /^[0-9a-f]{64}$/.test(document.querySelector('[data-testid=fingerprint]')?.textContent ?? ''),
    n,
    { timeout },
  );
  return text(page, 'fingerprint');
}

// engineWorker is the page's engine worker (Playwright's handle, for
// evaluate in its scope) once Go has set up its bridge (pg.bench).
export async function engineWorker(page, timeout = 60000) {
  for (const t0 = Date.now(); Date.now() - t0 < timeout; await sleep(100)) {
    for (const w of page.workers()) {
      if (/worker\.[0-9a-f]+\.js/.test(w.url()) && (await w.evaluate(() => typeof self.pg?.bench === 'function'))) return w;
    }
  }
  throw new Error('the engine worker never offered pg.bench');
}

export function playground(...args) {
  return execFileSync(BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

export function fingerprintOf(file) {
  const m = playground('ckpt', 'inspect', file).match(/^fingerprint:\s+([0-9a-f]{64})$/m);
  if (!m) throw new Error(`no fingerprint from ckpt inspect ${file}`);
  return m[1];
}

// nativeTrain trains preset to steps with the native binary and returns the
// final checkpoint's path.
export function nativeTrain(preset, steps) {
  const out = tempDir('pg-native-');
  const lines = playground('train', '--preset', preset, '--steps', String(steps), '--every', '0', '--out', out).trim().split('\n');
  return lines[lines.length - 1];
}

export function nativeFingerprint(preset, steps) {
  return fingerprintOf(nativeTrain(preset, steps));
}

// inDB runs body(tx) in the page on a transaction over persist/idb's
// object stores (mode 'readonly' or 'readwrite'); body returns a function
// whose value, once the transaction completes, is the result. body runs
// in the page: it is sent as source and closes over nothing here.
async function inDB(page, mode, body) {
  return page.evaluate(`new Promise((resolve, reject) => {
    const req = indexedDB.open('playground');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction(['objects', 'blobs'], '${mode}');
      const result = (${body})(tx);
      tx.oncomplete = () => {
        db.close();
        resolve(result());
      };
      tx.onerror = () => reject(tx.error);
    };
  })`);
}

// checkpointsInDB returns every checkpoint the page's IndexedDB holds, as
// {run, id, bytes (base64)}. It reads persist/idb's schema: the file is
// objects[key].head followed by blobs[key].rest.
export async function checkpointsInDB(page) {
  return inDB(page, 'readonly', (tx) => {
    const heads = tx.objectStore('objects').getAll();
    const keys = tx.objectStore('objects').getAllKeys();
    const rests = tx.objectStore('blobs').getAll();
    return () =>
      keys.result.map((k, i) => {
        const head = heads.result[i].head;
        const rest = rests.result[i].rest;
        const b = new Uint8Array(head.length + rest.length);
        b.set(head);
        b.set(rest, head.length);
        let s = '';
        for (let j = 0; j < b.length; j += 0x8000) s += String.fromCharCode(...b.subarray(j, j + 0x8000));
        return { run: k[0], id: k[1], bytes: btoa(s) };
      });
  });
}

// damageNewest flips one bit near the end of the newest checkpoint stored
// (in its tensor data), as a torn or rotted write would, and returns its id.
export async function damageNewest(page) {
  return inDB(page, 'readwrite', (tx) => {
    let key = null;
    tx.objectStore('blobs').openCursor(null, 'prev').onsuccess = (e) => {
      const c = e.target.result;
      key = c.key;
      const v = c.value;
      if (v.rest.length >= 8) {
        v.rest[v.rest.length - 5] ^= 0x40;
        c.update(v);
        return;
      }
      const objects = tx.objectStore('objects');
      objects.get(key).onsuccess = (e) => {
        const o = e.target.result;
        o.head[o.head.length - 5] ^= 0x40;
        objects.put(o, key);
      };
    };
    return () => key[1];
  });
}

// verifyAll writes the checkpoints to files and runs `playground ckpt
// verify` on them (throws on any defect).
export function verifyAll(ckpts) {
  const dir = tempDir('pg-verify-');
  const files = ckpts.map((c) => {
    const f = path.join(dir, `${c.run}-${c.id}.safetensors`);
    fs.writeFileSync(f, Buffer.from(c.bytes, 'base64'));
    return f;
  });
  if (files.length) playground('ckpt', 'verify', ...files);
  return files;
}

// screenshot saves out/screenshots/<name>.png: the whole page, or just
// locator (an element, or the page itself for what its viewport shows).
export async function screenshot(page, name, locator) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, name + '.png');
  return locator ? locator.screenshot({ path: file }) : page.screenshot({ path: file, fullPage: true });
}

// openPage opens query on srv in a fresh profile (closed after test t),
// at viewport if given, recording the page's errors.
export function openPage(t, srv, query, viewport) {
  return openFresh(t, srv.url + query, viewport);
}

// commit types into a field and commits it as a person does (Enter).
export async function commit(page, testid, value) {
  const el = page.getByTestId(testid);
  await el.fill(String(value));
  await el.press('Enter');
}

// collectErrors records page errors and console errors, for asserting none.
export function collectErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  return errors;
}
