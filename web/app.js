// The page's bootstrap: owns the engine worker (wasm/worker) and the
// zero-loss marks, then starts the UI (wasm/ui: the vugu components of ui/)
// and hands it every worker event through `pgPage`.
//
// The page, the engine worker and its writer run one wasm binary
// (wasm/playground, see loader.js): the page compiles it as it downloads
// and posts the module to the worker, which it started first thing. The
// run opens and trains before the UI starts: until the UI has rendered,
// this script paints the step counter itself, and it starts the UI (a
// second or more of the main thread on a slow machine) only once the
// first step is on screen. Events that arrive before the UI is up wait in
// pgPage.events.
//
// Zero lost steps: a dedicated worker is killed at once on unload, and its
// multi-MB IndexedDB writes die with it. This page therefore writes a tiny
// mark {run, step} into its own database every time a new step reaches the
// page and again on pagehide (a few bytes commit even then). Training is a
// pure function of (spec, seed, step), so on the next load the worker
// restores the newest valid checkpoint and replays deterministically up to
// the mark. Marks are written here, when an event arrives — before the UI
// shows its step — so the page never shows a step the mark does not cover.
//
// The sync settings (auto-push, the server's token) are the UI's, kept in
// localStorage, and go with open.
//
// Offline: the service worker registered below (sw.js) keeps the page's
// files, so a reload works while the server is away.
//
// URL options (README, "URL options"): ?preset=NAME, ?autostart=1,
// ?stopAt=N (or its older name ?pauseAt=N), ?speed=max|default|frame|N,
// ?autosave=MS, ?autosaveSteps=N, ?keep=K, and a whole spec as
// readable parameters (?dataset=spiral&layers=8:tanh,1:sigmoid&lr=0.03…;
// see wasm/protocol/specquery.go), which the worker decodes. ?debug=1 adds
// the hooks the benchmarks read: window.__pgTimes (ms since navigation
// when the worker was ready, the run running, resumed, first rendered),
// window.__pgResumed, __pgSaves, __pgSyncs, and pgPage.renders.
'use strict';

// The worker first, and the binary it waits for.
const worker = new Worker('worker.js');
const wasm = pgWasm.compile();
wasm.then(
  (module) => {
    try {
      worker.postMessage({ module });
    } catch {
      worker.postMessage({ module: null }); // a module that cannot be posted: the worker compiles its own
    }
  },
  () => worker.postMessage({ module: null }),
);

const params = new URLSearchParams(location.search);

const state = { phase: 'loading', run: '', name: '', step: null, owner: false };

// The benchmarks' hooks, with ?debug=1 only (null otherwise).
const debug = params.get('debug') === '1' ? { times: {}, saves: [], syncs: [], predicts: {} } : null;
if (debug) {
  window.__pgTimes = debug.times;
  window.__pgSaves = debug.saves;
  window.__pgSyncs = debug.syncs;
}

// --- Marks: the page's own tiny database -------------------------------

const marksDB = new Promise((resolve) => {
  let req;
  try {
    req = indexedDB.open('playground-marks', 1);
  } catch {
    return resolve(null);
  }
  req.onupgradeneeded = () => req.result.createObjectStore('marks', { keyPath: 'run' });
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => resolve(null);
});
let db = null;
marksDB.then((d) => (db = d));

function readMarks() {
  return marksDB.then(
    (d) =>
      new Promise((resolve) => {
        if (!d) return resolve([]);
        const r = d.transaction('marks').objectStore('marks').getAll();
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => resolve([]);
      }),
  );
}

// writeMark records the step the page reached, synchronously started so
// it also works inside pagehide.
let lastMark = '';
function writeMark(force) {
  if (!db || !state.owner || !state.run || state.step === null) return;
  if (state.phase !== 'running' && state.phase !== 'paused') return;
  const m = { run: state.run, step: state.step, running: state.phase === 'running', time: Date.now() };
  const key = `${m.run}/${m.step}/${m.running}`;
  if (key === lastMark && !force) return;
  lastMark = key;
  try {
    const tx = db.transaction('marks', 'readwrite');
    tx.objectStore('marks').put(m);
    if (tx.commit) tx.commit();
  } catch {
    // A closing page may refuse; the previous mark stands.
  }
}

// --- The worker --------------------------------------------------------

function post(cmd, bytes) {
  const msg = { json: typeof cmd === 'string' ? cmd : JSON.stringify(cmd) };
  if (bytes) {
    msg.bytes = bytes;
    worker.postMessage(msg, [bytes.buffer]);
  } else {
    worker.postMessage(msg);
  }
}

function autosaveParams() {
  const a = {};
  if (params.has('autosave')) a.everyMillis = Number(params.get('autosave'));
  if (params.has('autosaveSteps')) a.everySteps = Number(params.get('autosaveSteps'));
  if (params.has('keep')) a.keep = Number(params.get('keep'));
  return Object.keys(a).length ? a : undefined;
}

async function open() {
  const cmd = { type: 'open', marks: await readMarks(), autosave: autosaveParams() };
  if (params.get('preset')) cmd.preset = params.get('preset');
  if (params.get('autostart') === '1') cmd.autostart = true;
  const stopAt = params.get('stopAt') ?? params.get('pauseAt');
  if (stopAt !== null) cmd.pauseAt = Number(stopAt);
  const pace = paceParam(params.get('speed'));
  if (pace !== undefined) cmd.pace = pace;
  if (params.has('dataset')) cmd.query = location.search;
  cmd.sync = { autoPush: stored('pg-autopush') === '1', token: stored('pg-token') };
  post(cmd);
}

// paceParam reads ?speed= as the worker's pace in steps per second: max
// (full speed, 0), default (-1), frame (one step per frame, 60) or a
// number; undefined when absent or not one of those.
function paceParam(v) {
  if (v === null) return undefined;
  const named = { max: 0, full: 0, default: -1, frame: 60 };
  if (Object.hasOwn(named, v)) return named[v];
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 1e6 ? n : undefined;
}

// stored reads the UI's settings kept in localStorage ('' when unset or
// when storage is refused).
function stored(key) {
  try {
    return localStorage.getItem(key) || '';
  } catch {
    return '';
  }
}

// track follows the session for the marks and the timing hooks.
const track = {
  ready(ev) {
    if (debug) debug.times.ready = performance.now();
    storageOff = Boolean(ev.storageOff);
    open();
  },
  status(ev) {
    const s = ev.status;
    state.phase = s.phase;
    state.run = s.run || '';
    state.name = s.name || '';
    state.owner = s.owner;
    if (['running', 'paused', 'locked', 'lost'].includes(s.phase)) state.step = s.step;
    if (s.phase === 'running' || s.phase === 'paused') {
      if (debug && state.owner && s.phase === 'running' && !debug.times.running) debug.times.running = performance.now();
      writeMark();
    }
    boot.paint();
    // A run that trains shows a step first; anything else starts the UI now.
    if (s.phase !== 'loading' && s.phase !== 'replaying' && !(s.phase === 'running' && state.owner)) startUI();
  },
  progress(ev) {
    if (ev.progress.run !== state.run) return;
    state.step = ev.progress.step;
    writeMark();
    boot.paint();
  },
  resumed(ev) {
    if (debug) {
      debug.times.resumed = performance.now();
      window.__pgResumed = ev.resumed;
    }
    state.step = ev.resumed.step;
  },
  saved(ev) {
    const s = ev.saved;
    if (s.run !== state.run) return;
    if (debug) debug.saves.push({ step: s.step, kind: s.kind, millis: s.millis, pauseMillis: s.pauseMillis, size: s.size, at: performance.now() });
    if (!persistAsked && !storageOff && navigator.storage && navigator.storage.persist) {
      persistAsked = true;
      navigator.storage
        .persist()
        .then((ok) =>
          note(
            ok
              ? 'Storage is persistent: the browser will not evict these checkpoints.'
              : 'Storage is best-effort: the browser may evict it when the disk is short (bookmarking the page usually makes it persistent).',
          ),
        )
        .catch(() => {});
    }
  },
  predict(ev, msg) {
    // The drawing pad's last answer with the command it answers, both as
    // the JSON that crossed to and from the worker (exact float32s).
    if (!debug) return;
    window.__pgPad = { command: debug.predicts[ev.seq], event: msg.json };
    debug.predicts = {};
  },
  synced(ev) {
    const s = ev.synced;
    if (debug) debug.syncs.push({ op: s.op, step: s.step, bytes: s.bytes, millis: s.millis, at: performance.now() });
  },
  export(ev, msg) {
    // The file goes straight to a download; the UI only hears about it.
    const url = URL.createObjectURL(new Blob([msg.bytes], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = ev.export.filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    delete msg.bytes;
  },
};
let persistAsked = false;
let storageOff = false; // the worker trains in memory: the browser refused it storage

// --- The UI ------------------------------------------------------------

const page = (window.pgPage = {
  events: [], // worker messages the UI has not taken yet
  onEvent: null, // set by the UI: (message) => void
  send(json) {
    const c = JSON.parse(json);
    if (debug && c.type === 'predict') debug.predicts[c.seq] = json;
    if (c.type === 'takeover') {
      // The page's marks go with it, as with open.
      readMarks().then((marks) => {
        c.marks = marks;
        if (params.get('autostart') === '1') c.autostart = true;
        post(c);
      });
      return;
    }
    post(json);
  },
  // sendFile posts the command json with the file chosen in input as its
  // bytes; sendBytes with bytes (a Uint8Array).
  sendFile(json, input) {
    const f = input.files && input.files[0];
    if (!f) return;
    f.arrayBuffer().then((b) => post(JSON.parse(json), new Uint8Array(b)));
    input.value = '';
  },
  sendBytes(json, bytes) {
    post(JSON.parse(json), bytes);
  },
  copy(text) {
    if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
  },
  // setShapes writes the d, fill and aria-label of the network diagram's
  // links and biases, painted at the source with every view: in one call
  // (records split by \x1e, fields id, d, fill, label by \x1f), each
  // attribute only when it changed.
  setShapes(s) {
    for (const r of s.split('\x1e')) {
      const f = r.split('\x1f');
      const el = document.getElementById(f[0]);
      if (!el) continue; // the next render lays it out
      for (const [i, name] of [[1, 'd'], [2, 'fill'], [3, 'aria-label']]) {
        if (el.getAttribute(name) !== f[i]) el.setAttribute(name, f[i]);
      }
    }
  },
  // fillKeyed makes the children of the element with id those of markup,
  // keyed by data-id (or data-run): a child whose content is unchanged
  // stays the same element (the focus and the scroll stay; its own
  // attributes follow), a changed one is replaced, a new one inserted, a
  // gone one removed. The timeline's rows and runs are
  // painted so at every save.
  fillKeyed(id, markup) {
    const box = document.getElementById(id);
    if (!box) return;
    const t = document.createElement(box.tagName === 'TBODY' ? 'tbody' : box.tagName);
    t.innerHTML = markup;
    const key = (el) => el.dataset.id || el.dataset.run || '';
    const fresh = Array.from(t.children);
    const wanted = new Set(fresh.map(key));
    // The gone go first: a kept child is then never moved past them (a
    // move takes an element out and in again, and loses its focus).
    const have = new Map();
    for (const el of Array.from(box.children)) {
      if (wanted.has(key(el))) have.set(key(el), el);
      else el.remove();
    }
    let cur = box.firstElementChild;
    for (const w of fresh) {
      const old = have.get(key(w));
      let node = w;
      if (old && old.innerHTML === w.innerHTML) {
        // The same content: the child stays, its own attributes changed in
        // place if they differ (a row's class when the head moves), so a
        // press on its buttons holds.
        for (const a of Array.from(old.attributes)) if (!w.hasAttribute(a.name)) old.removeAttribute(a.name);
        for (const a of Array.from(w.attributes)) if (old.getAttribute(a.name) !== a.value) old.setAttribute(a.name, a.value);
        node = old;
      }
      if (old && node !== old) {
        if (cur === old) cur = old.nextElementSibling;
        old.remove();
      }
      if (cur === node) cur = cur.nextElementSibling;
      else box.insertBefore(node, cur);
    }
  },
  load: stored,
  // trySet keeps value under key ('' removes it); a full or refused
  // storage loses it.
  trySet(key, value) {
    try {
      if (value === '') localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch {
      // Full: the chart's history is the only loss; refused: nothing is kept.
    }
  },
});
// The clicks the UI takes from markup painted at the source: a checkpoint's
// mark on the chart (act "mark") and the timeline's buttons (their
// data-act, with the row's run, id and step). Picked out here, not by a Go
// listener on every click: Go called inside the browser's click may run a
// pending render there, which would undo a checkbox's toggle before its
// change event. A mark acts on the press: while a run trains the chart is
// painted anew several times a second, and the release would land on
// another element (no click).
document.addEventListener('pointerdown', (e) => {
  if (!page.onAct || e.button !== 0 || !(e.target instanceof Element)) return;
  const mark = e.target.closest('#chart [data-testid=ckpt-mark]');
  if (mark) page.onAct('mark', '', mark.dataset.id || '', mark.dataset.step || '0');
});
document.addEventListener('click', (e) => {
  if (!page.onAct || !(e.target instanceof Element)) return;
  const btn = e.target.closest('#checkpoints [data-act], #runs [data-act]');
  const row = btn && !btn.disabled && btn.closest('[data-run]');
  if (row) page.onAct(btn.dataset.act, row.dataset.run, row.dataset.id || '', row.dataset.step || '0');
});
if (debug) {
  // rendered is called (when present) after every render with its build,
  // DOM sync and paint times (ms); the benchmarks read them.
  page.renders = [];
  page.rendered = (build, sync, paint) => {
    if (!debug.times.rendered) debug.times.rendered = performance.now();
    page.renders.push([build, sync, paint]);
    if (page.renders.length > 2000) page.renders.splice(0, 1000);
  };
}

// forward hands a message to the UI, or queues it until the UI is up.
function forward(msg) {
  if (page.onEvent) {
    page.onEvent(msg);
  } else {
    page.events.push(msg);
    if (page.events.length > 2000) page.events.splice(0, 1000); // the UI failed to load
  }
}

// note puts a line of the page's own into the UI's log.
function note(message) {
  forward({ json: JSON.stringify({ type: 'page-log', message }) });
}

worker.onmessage = (e) => {
  const msg = e.data;
  let ev;
  try {
    ev = JSON.parse(msg.json);
  } catch {
    return;
  }
  const t = track[ev.type];
  if (t) t(ev, msg);
  forward(msg);
};
worker.onerror = (e) => forward({ json: JSON.stringify({ type: 'error', message: 'engine worker failed: ' + (e.message || e) }) });

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') {
    writeMark(true);
    if (state.owner) post({ type: 'hidden' });
  }
});
addEventListener('pagehide', () => writeMark(true));

// boot paints the step counter into index.html's placeholder until the UI
// has rendered, and starts the UI once a step of a training run is on
// screen (the frame after it was painted).
const boot = {
  line: document.querySelector('#app .boot'),
  label: document.createTextNode(''),
  out: null,
  paint() {
    // Once vugu has rendered into #app (the placeholder is gone), its
    // elements are the UI's.
    if (!this.line || document.querySelector('#app .boot') !== this.line) return;
    if (state.step === null || !['running', 'paused'].includes(state.phase)) return;
    if (!this.out) {
      this.out = document.createElement('output');
      this.out.dataset.testid = 'boot-step';
      this.line.replaceChildren(this.label, this.out);
    }
    this.label.data = `${state.phase === 'running' ? 'Training' : 'Paused'} ${state.name}: step `;
    this.out.textContent = String(state.step);
    // The frame after the one that shows the step: it is on screen.
    if (state.step > 0) requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(startUI, 0)));
  },
};

// The UI: the binary in the page role, on the main thread.
let uiStarted = false;
function startUI() {
  if (uiStarted) return;
  uiStarted = true;
  wasm
    .then((module) => pgWasm.run(module, 'page'))
    .catch((err) => {
      const el = document.getElementById('app');
      if (el) el.textContent = 'The page failed to load: ' + err;
    });
}
setTimeout(startUI, 3000); // the worker may never become ready: show the page anyway

// The service worker (sw.js) keeps this build of the page, so a reload
// opens it and resumes the run with the server away. Registered once the
// page has loaded, so its downloads (from the HTTP cache, mostly) never
// compete with the first step. Where the browser refuses it (a cross-site
// iframe with storage blocked, a page not served over HTTPS or from
// localhost) the page simply needs its server to load.
addEventListener('load', () => {
  if (!navigator.serviceWorker) return;
  try {
    navigator.serviceWorker.register('sw.js').catch(() => {});
  } catch {
    // refused: no offline copy
  }
});
