// Cross-browser smoke test: the page in Debian's Firefox ESR and in
// WebKitGTK (WebKit, Safari's engine), driven through WebDriver with no
// downloaded browser and no npm client:
//
// - Firefox ESR over WebDriver BiDi (firefox --remote-debugging-port, a
//   WebSocket; Debian has no geckodriver, and playwright-core's BiDi mode
//   needs commands ESR lacks);
// - WebKitGTK's MiniBrowser over classic WebDriver (WebKitWebDriver, plain
//   HTTP) under xvfb-run. Neither reports the page's console to us, so
//   WebKit gets a copy of web/dist whose index.html first installs a small
//   error recorder (HOOK); it sees the page and its workers' uncaught
//   errors, not a worker's console.error.
//
// The scenario, per browser, on web/dist served as harness.mjs serves it:
//   1. /?preset=spiral-adam&autostart=1&speed=max: the phase shows
//      "running", the step counter advances, no console error and no
//      uncaught exception (Firefox: the page, the engine worker and the
//      writer);
//   2. a checkpoint past step 0 is saved (last-save); a reload resumes at
//      a step no lower than the saved one (nor than the step shown before
//      the reload), and trains on;
//   3. screenshots of the page (out/screenshots/<browser>-*.png) and a
//      check that the unit maps and the loss chart have drawn; a checkbox
//      keeps its click, a checkpoint's mark on the chart selects it;
//   4. /?preset=digits&stopAt=300 (a run of its own; digits' products take
//      the engine's SIMD128 kernels) pauses at step 300 with the
//      fingerprint of the same run trained natively (bin/playground
//      train): the same bits in this browser's wasm engine as in Go on amd64.
//
// Usage (after make build): node test/cross/smoke.mjs [firefox] [webkit]
// (both by default; `make cross-browser` installs the browsers and runs
// it). FIREFOX and WEBKIT_DRIVER / MINIBROWSER override the binaries.
// Exits non-zero when a browser fails or cannot be driven.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST, SHOTS, nativeFingerprint, serve, sleep, tempDir } from '../harness.mjs';

// Node before 22 has WebSocket only behind a flag: run again with it.
if (typeof WebSocket === 'undefined') {
  const r = spawnSync(process.execPath, ['--experimental-websocket', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
const MINIBROWSER = process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const VIEW = { width: 1280, height: 800 };

// --- Firefox: WebDriver BiDi -------------------------------------------

export async function firefox() {
  const profile = tempDir('pg-ff-');
  // A quiet profile: no first-run pages, no updates, no remote settings.
  fs.writeFileSync(
    path.join(profile, 'user.js'),
    [
      ['browser.shell.checkDefaultBrowser', false],
      ['browser.startup.homepage_override.mstone', '"ignore"'],
      ['datareporting.policy.dataSubmissionEnabled', false],
      ['toolkit.telemetry.reportingpolicy.firstRun', false],
      ['app.update.disabledForTesting', true],
      ['browser.aboutwelcome.enabled', false],
      ['dom.disable_open_during_load', false],
    ]
      .map(([k, v]) => `user_pref("${k}", ${v});\n`)
      .join(''),
  );
  const proc = spawn(FIREFOX, ['--headless', '--remote-debugging-port=0', '--no-remote', '--profile', profile, `--width=${VIEW.width}`, `--height=${VIEW.height}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  groups.add(proc.pid);
  let log = '';
  const wsURL = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`firefox: no BiDi endpoint after 60 s: ${log}`)), 60000);
    proc.stderr.on('data', (d) => {
      log += d;
      const m = log.match(/WebDriver BiDi listening on (ws:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`firefox exited with ${code}: ${log}`)));
  });
  const ws = new WebSocket(wsURL + '/session');
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`firefox: cannot connect to ${wsURL}`));
  });
  let id = 0;
  const pending = new Map();
  const errors = [];
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id !== undefined && pending.has(m.id)) {
      const { resolve, reject, method } = pending.get(m.id);
      pending.delete(m.id);
      if (m.type === 'error') reject(new Error(`${method}: ${m.error}: ${m.message}`));
      else resolve(m.result);
    } else if (m.method === 'log.entryAdded') {
      // console.error and uncaught exceptions ("javascript"), in any realm
      // (the page, its workers).
      const p = m.params;
      if (p.level === 'error') errors.push(`${p.type === 'javascript' ? 'uncaught' : 'console.error'}: ${p.text}`);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const i = ++id;
      pending.set(i, { resolve, reject, method });
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  const { capabilities } = await send('session.new', { capabilities: {} });
  await send('session.subscribe', { events: ['log.entryAdded'] });
  const { contexts } = await send('browsingContext.getTree', {});
  const context = contexts[0].context;
  await send('browsingContext.setViewport', { context, viewport: VIEW });
  return {
    name: 'firefox',
    version: async () => `${capabilities.browserName} ${capabilities.browserVersion}`,
    errors,
    goto: (url) => send('browsingContext.navigate', { context, url, wait: 'complete' }),
    reload: () => send('browsingContext.reload', { context, wait: 'complete' }),
    // evaluate runs an expression (awaiting a promise) and returns its
    // value as JSON.
    async evaluate(expr) {
      const r = await send('script.evaluate', {
        expression: `Promise.resolve(${expr}).then((v) => JSON.stringify(v ?? null))`,
        target: { context },
        awaitPromise: true,
      });
      if (r.type === 'exception') throw new Error(`evaluate: ${r.exceptionDetails.text}`);
      return JSON.parse(r.result.value);
    },
    screenshot: async () => Buffer.from((await send('browsingContext.captureScreenshot', { context })).data, 'base64'),
    async close() {
      const exited = new Promise((resolve) => (proc.exitCode !== null ? resolve() : proc.on('exit', resolve)));
      try {
        await Promise.race([send('browser.close'), sleep(5000)]);
      } catch {
        // gone already
      }
      ws.close();
      await Promise.race([exited, sleep(5000)]);
      killGroup(proc);
    },
  };
}

// --- WebKitGTK: classic WebDriver over HTTP ----------------------------

export async function webkit() {
  for (const f of [WEBKIT_DRIVER, MINIBROWSER]) if (!fs.existsSync(f)) throw new Error(`webkit: ${f} is missing (apt-get install webkit2gtk-driver)`);
  const port = 20000 + Math.floor(Math.random() * 20000);
  // MiniBrowser (GTK) needs a display even for automation: xvfb-run gives
  // it one unless there is a display already.
  const cmd = process.env.DISPLAY ? [WEBKIT_DRIVER, `--port=${port}`] : ['xvfb-run', '-a', WEBKIT_DRIVER, `--port=${port}`];
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.add(proc.pid);
  // WebKit under automation does not print the page's console (MiniBrowser's
  // --enable-write-console-messages-to-stdout works only without
  // --automation) and classic WebDriver has no log: the errors are
  // collected in the page by HOOK (below), read after each step.
  let log = '';
  for (const stream of [proc.stdout, proc.stderr]) stream.on('data', (d) => (log = (log + d).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  const http = async (method, p, body) => {
    const r = await fetch(base + p, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    const j = await r.json();
    if (j.value && j.value.error) throw new Error(`${method} ${p}: ${j.value.error}: ${j.value.message}`);
    return j.value;
  };
  let session;
  for (let i = 0; ; i++) {
    try {
      session = await http('POST', '/session', {
        capabilities: {
          alwaysMatch: {
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
          },
        },
      });
      break;
    } catch (err) {
      if (i > 100 || proc.exitCode !== null) throw new Error(`webkit: no session: ${err.message}\n${log}`);
      await sleep(200);
    }
  }
  const s = `/session/${session.sessionId}`;
  await http('POST', `${s}/window/rect`, VIEW).catch(() => {});
  const errors = [];
  return {
    name: 'webkit',
    version: async () => `WebKitGTK ${session.capabilities.browserVersion}`,
    errors,
    site: hooked,
    // collect moves the errors HOOK recorded in the page into errors.
    async collect() {
      const e = await this.evaluate('(window.__smokeErrors || []).splice(0)').catch(() => []);
      errors.push(...e);
    },
    goto: (url) => http('POST', `${s}/url`, { url }),
    reload: () => http('POST', `${s}/refresh`, {}),
    async evaluate(expr) {
      const v = await http('POST', `${s}/execute/async`, {
        script: `const done = arguments[arguments.length - 1]; Promise.resolve(${expr}).then((v) => done(JSON.stringify(v ?? null)), (e) => done(JSON.stringify({ __error: String(e) })));`,
        args: [],
      });
      const r = JSON.parse(v);
      if (r && r.__error) throw new Error(`evaluate: ${r.__error}`);
      return r;
    },
    screenshot: async () => Buffer.from(await http('GET', `${s}/screenshot`), 'base64'),
    async close() {
      await Promise.race([http('DELETE', s).catch(() => {}), sleep(5000)]);
      // The driver first: xvfb-run then stops its Xvfb and exits, and
      // nothing is left for an init to reap.
      const exited = new Promise((resolve) => (proc.exitCode !== null ? resolve() : proc.on('exit', resolve)));
      for (const pid of childrenOf(proc.pid)) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
      await Promise.race([exited, sleep(5000)]);
      killGroup(proc);
    },
  };
}

// HOOK records, in the page, what WebKit does not report to the driver:
// console.error, uncaught exceptions, unhandled rejections, failed loads,
// and the errors of the page's workers (an uncaught exception in a worker
// is an error event on its Worker object). It runs first in index.html.
const HOOK = `<script>(() => {
  const errs = (window.__smokeErrors = []);
  const push = (kind, m) => errs.push(kind + ': ' + m);
  addEventListener('error', (e) => push(e.target === window ? 'uncaught' : 'failed to load', e.message || e.target.src || e.target.href), true);
  addEventListener('unhandledrejection', (e) => push('unhandled rejection', String(e.reason)));
  const error = console.error;
  console.error = (...a) => { push('console.error', a.join(' ')); error.apply(console, a); };
  const W = window.Worker;
  window.Worker = class extends W {
    constructor(...a) {
      super(...a);
      this.addEventListener('error', (e) => push('worker ' + a[0], e.message));
    }
  };
})();</script>`;

// hooked is a copy of web/dist whose index.html runs HOOK first.
function hooked() {
  const dir = tempDir('pg-dist-');
  fs.cpSync(DIST, dir, { recursive: true });
  const index = path.join(dir, 'index.html');
  fs.writeFileSync(index, fs.readFileSync(index, 'utf8').replace('<head>', '<head>\n' + HOOK));
  for (const ext of ['.br', '.gz']) fs.rmSync(index + ext, { force: true });
  return dir;
}

// childrenOf lists the processes whose parent is pid.
function childrenOf(pid) {
  const out = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces, so after its ')'.
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

// killGroup ends the process group this script started (the browser or
// driver, and xvfb-run's Xvfb). Groups still running when the script
// exits (a crash, Ctrl-C) are ended then.
const groups = new Set();
function killGroup(proc) {
  groups.delete(proc.pid);
  try {
    process.kill(-proc.pid, 'SIGTERM');
  } catch {
    // gone
  }
}
process.on('exit', () => {
  for (const pid of groups) killGroup({ pid });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// --- The scenario --------------------------------------------------------

// The page's state as the tests read it (data-testid elements).
const STATE = `(() => {
  const t = (id) => document.querySelector('[data-testid=' + id + ']')?.textContent ?? null;
  return { phase: t('phase'), step: t('step'), lastSave: t('last-save'), status: t('status'), resumedAt: t('resumed-at'), boot: t('boot-step') };
})()`;

// What has drawn: the unit maps (canvases with pixels that are not all the
// same) and the chart's curves.
const DRAWN = `(() => {
  const maps = [...document.querySelectorAll('canvas')].filter((c) => c.width > 0 && c.height > 0);
  let painted = 0;
  for (const c of maps) {
    try {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 4; i < d.length; i += 4) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) { painted++; break; }
    } catch {}
  }
  const curve = document.querySelector('[data-testid=curve-train]');
  return {
    canvases: maps.length,
    painted,
    units: document.querySelectorAll('[data-testid^=unit-]').length,
    curvePoints: Number(curve?.getAttribute('data-points') || 0),
    log: [...document.querySelectorAll('[data-testid=log] li')].map((li) => li.textContent).slice(-30),
  };
})()`;

async function waitFor(b, what, pred, timeout) {
  const end = Date.now() + timeout;
  let s;
  for (;;) {
    s = await b.evaluate(STATE);
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`${b.name}: timed out after ${timeout / 1000} s waiting for ${what}; page shows ${JSON.stringify(s)}`);
    await sleep(250);
  }
}

async function shot(b, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const f = path.join(SHOTS, `${b.name}-${name}.png`);
  fs.writeFileSync(f, await b.screenshot());
  return path.relative(process.cwd(), f);
}

async function scenario(b, url) {
  const say = (m) => console.log(`${b.name}: ${m}`);
  say(await b.version());
  const t0 = Date.now();
  await b.goto(`${url}/?preset=spiral-adam&autostart=1&speed=max`);

  // 1. Running, the counter advances.
  let s = await waitFor(b, 'phase running with a step', (s) => s.phase === 'running' && /^\d+$/.test(s.step ?? ''), 60000);
  const first = Number(s.step);
  s = await waitFor(b, 'the step to advance', (s) => /^\d+$/.test(s.step ?? '') && Number(s.step) > first + 50, 30000);
  say(`running, step ${first} -> ${s.step} (${((Date.now() - t0) / 1000).toFixed(1)} s after navigation)`);

  // 2. A checkpoint, a reload, the resume.
  // The run's first checkpoint is at step 0; wait for one made while
  // training (an autosave), so the resume is from a trained state.
  s = await waitFor(b, 'a checkpoint save past step 0 (last-save)', (s) => /^\d+$/.test(s.lastSave ?? '') && Number(s.lastSave) > 0, 60000);
  const saved = Number(s.lastSave);
  // The step the page showed last before the reload: the resume must not be
  // lower than the saved checkpoint (nor, with the page's marks, than this).
  const shown = Number((await b.evaluate(STATE)).step);
  say(`saved: "${s.lastSave}" (step ${saved}); shown before reload ${shown}`);
  await shot(b, 'before-reload');
  await b.collect?.();
  await b.reload();
  s = await waitFor(b, 'running again after the reload', (s) => s.phase === 'running' && /^\d+$/.test(s.step ?? ''), 60000);
  const resumed = Number(s.step);
  if (resumed < saved) throw new Error(`${b.name}: resumed at step ${resumed}, below the saved ${saved}`);
  if (resumed < shown) throw new Error(`${b.name}: resumed at step ${resumed}, below the ${shown} shown before the reload`);
  s = await waitFor(b, 'the step to advance after the resume', (s) => Number(s.step) > resumed + 50, 30000);
  say(`resumed at ${resumed} (resumed-at "${s.resumedAt ?? ''}") and trains on: ${s.step}`);

  // 3. Drawn: the unit maps and the chart; screenshots.
  await sleep(1500);
  const d = await b.evaluate(DRAWN);
  await b.collect?.();
  say(`drawn: ${d.painted} of ${d.canvases} canvases painted, ${d.units} units, train curve ${d.curvePoints} points`);
  say(`screenshot ${await shot(b, 'running')}`);
  if (d.painted < 2) throw new Error(`${b.name}: only ${d.painted} of ${d.canvases} canvases have a picture`);
  if (d.curvePoints < 2) throw new Error(`${b.name}: the loss chart has ${d.curvePoints} points`);
  const bad = d.log.filter((l) => /\b(fail|failed|error|panic)\b/i.test(l));
  if (bad.length) throw new Error(`${b.name}: the page's log says:\n  ${bad.join('\n  ')}`);

  // 3b. Clicks: a checkbox keeps its toggle (the page picks its painted
  // marks' clicks out in app.js); a press on a checkpoint's mark on the
  // chart selects that checkpoint.
  const CLICKS = `(() => {
    const box = document.querySelector('[data-testid=log-loss]');
    box.click();
    const mark = document.querySelector('#chart [data-testid=ckpt-mark]');
    mark?.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true, button: 0 }));
    return mark?.dataset.id ?? '';
  })()`;
  const markID = await b.evaluate(CLICKS);
  if (!markID) throw new Error(`${b.name}: the chart shows no checkpoint mark`);
  const CLICKED = `(() => ({
    logLoss: document.querySelector('[data-testid=log-loss]').checked,
    selected: document.querySelector('[data-testid=ckpt-row].selected')?.dataset.id ?? '',
  }))()`;
  let c;
  for (const end = Date.now() + 10000; ; await sleep(250)) {
    c = await b.evaluate(CLICKED);
    if ((c.logLoss && c.selected === markID) || Date.now() > end) break;
  }
  await sleep(1000);
  c = await b.evaluate(CLICKED);
  if (!c.logLoss || c.selected !== markID) throw new Error(`${b.name}: after the clicks log-loss is ${c.logLoss} and the selected checkpoint "${c.selected}", not the mark's ${markID}`);
  say(`clicks: log-loss stays checked; the mark selected ${markID}`);

  // 4. The same bits as native training.
  const preset = 'digits', n = 300;
  await b.collect?.();
  await b.goto(`${url}/?preset=${preset}&autostart=1&speed=max&stopAt=${n}`);
  const fp = `(() => document.querySelector('[data-testid=fingerprint]')?.textContent ?? '')()`;
  const end = Date.now() + 60000;
  let got;
  for (;;) {
    s = await b.evaluate(STATE);
    got = s.phase === 'paused' ? await b.evaluate(fp) : '';
    if (/^[0-9a-f]{64}$/.test(got)) break;
    if (Date.now() > end) throw new Error(`${b.name}: no fingerprint at stopAt=${n} after 60 s; page shows ${JSON.stringify(s)}`);
    await sleep(250);
  }
  const want = nativeFingerprint(preset, n);
  if (s.step !== String(n) || got !== want) throw new Error(`${b.name}: paused at step ${s.step} with fingerprint ${got}; native at ${n}: ${want}`);
  say(`${preset} stopAt=${n}: the native fingerprint ${got.slice(0, 16)}…`);
  await b.collect?.();
  if (b.errors.length) throw new Error(`${b.name}: console errors or uncaught exceptions:\n  ${b.errors.join('\n  ')}`);
  say(`ok in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

export const browsers = { firefox, webkit };

// Run only when invoked (the drivers can be imported to look around).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

async function main() {
const want = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(browsers);
let failed = 0;
for (const name of want) {
  if (!browsers[name]) {
    console.error(`unknown browser ${name} (firefox, webkit)`);
    failed++;
    continue;
  }
  let b, srv;
  try {
    b = await browsers[name]();
    srv = await serve(b.site ? b.site() : DIST);
    await scenario(b, srv.url);
  } catch (err) {
    failed++;
    console.error(`${name}: FAIL: ${err.message}`);
    if (b) {
      try {
        console.error(`${name}: screenshot ${await shot(b, 'failure')}`);
        console.error(`${name}: page log:\n  ${(await b.evaluate(DRAWN)).log.join('\n  ')}`);
      } catch {
        // the browser is gone
      }
      await b.collect?.();
      if (b.errors.length) console.error(`${name}: console errors:\n  ${b.errors.join('\n  ')}`);
    }
  } finally {
    if (b) await b.close();
    if (srv) await srv.close();
  }
}
console.log(failed ? `${failed} of ${want.length} browsers failed` : `all ${want.length} browsers passed`);
process.exit(failed ? 1 : 0);
}
