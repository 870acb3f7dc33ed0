// The page: drives the engine worker (wasm/worker) over the message
// protocol of wasm/protocol, shows progress, and keeps the zero-loss mark.
//
// Zero lost steps: a dedicated worker is killed at once on unload, and its
// multi-MB IndexedDB writes die with it. This page therefore writes a tiny
// mark {run, step} into its own database every time it shows a new step
// and again on pagehide (a few bytes commit even then). Training is a pure
// function of (spec, seed, step), so on the next load the worker restores
// the newest valid checkpoint and replays deterministically up to the mark.
//
// URL hooks the tests and the full UI keep: ?preset=NAME&autostart=1,
// ?pauseAt=N, and ?autosave=MS, ?autosaveSteps=N, ?keep=K.
'use strict';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const fmt = (n) => Number(n).toLocaleString('en-US');

const state = {
  phase: 'loading',
  run: '',
  name: '',
  step: null, // last step shown
  owner: false,
  lastSave: null, // {step, time}
  saves: 0,
  resumed: null, // {step, from, replayed, time}
  warning: null, // {text, time}
  train: [], // [step, loss]
  test: [], // [step, loss]
  checkpoints: [], // for the current run
  head: '',
  persisted: false,
  damaged: new Set(), // checkpoints a resume found damaged
};

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

// writeMark records the step this page shows, synchronously started so it
// also works inside pagehide.
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

const worker = new Worker('worker.js');
let seq = 0;
function send(cmd, bytes) {
  cmd.seq = ++seq;
  const msg = { json: JSON.stringify(cmd) };
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
  if (params.has('pauseAt')) cmd.pauseAt = Number(params.get('pauseAt'));
  send(cmd);
}

const on = {
  ready(ev) {
    window.__pgTimes.ready = performance.now();
    const sel = $('preset');
    for (const name of ev.presets || []) sel.add(new Option(name, name));
    if (params.get('preset')) sel.value = params.get('preset');
    open();
  },
  status(ev) {
    const s = ev.status;
    const runChanged = s.run !== state.run;
    state.phase = s.phase;
    state.run = s.run || '';
    state.name = s.name || state.name;
    state.owner = s.owner;
    if (['running', 'paused', 'lost'].includes(s.phase)) showStep(s.step, s.epoch);
    if (s.phase === 'locked') showStep(s.step); // as last stored; the other tab is ahead
    $('fingerprint').textContent = s.phase === 'paused' ? s.fingerprint || '' : '';
    $('run').textContent = state.run ? `${state.name || ''} · ${state.run}` : '–';
    $('run').title = state.run;
    if (s.name) $('preset').value = s.name;
    const a = s.autosave || {};
    $('autosave').textContent =
      `Autosave after ${(a.everyMillis / 1000).toLocaleString('en-US')} s of training` +
      (a.everySteps ? ` or every ${fmt(a.everySteps)} steps` : '') +
      ` (later if saving would take over 1% of the time), keeping the last ${a.keep}; pinned and milestone checkpoints are kept.`;
    if (runChanged && state.run) {
      state.train = [];
      state.test = [];
      state.checkpoints = [];
      state.lastSave = null;
      if (state.owner) send({ type: 'list' });
    }
    if (s.phase === 'running' || s.phase === 'paused') {
      if (state.owner && s.phase === 'running' && !window.__pgTimes.running) window.__pgTimes.running = performance.now();
      writeMark();
    }
    if (s.phase === 'locked') log('This run is being trained in another tab.', 'warn');
    if (s.phase === 'lost') log('Another tab took over this run.', 'warn');
    render();
  },
  progress(ev) {
    const p = ev.progress;
    if (p.run !== state.run) return;
    showStep(p.step, p.epoch);
    if (p.loss != null) state.train.push([p.step, p.loss]);
    if (p.testLoss != null && (!state.test.length || state.test[state.test.length - 1][0] !== p.evalStep)) {
      state.test.push([p.evalStep, p.testLoss]);
    }
    $('loss').textContent = p.loss != null ? p.loss.toFixed(4) : '–';
    $('test-loss').textContent = p.testLoss != null ? p.testLoss.toFixed(4) : '–';
    $('accuracy').textContent = p.accuracy != null ? (100 * p.accuracy).toFixed(1) + '%' : '–';
    if (p.stepsPerSec) $('speed').textContent = fmt(Math.round(p.stepsPerSec));
    writeMark();
    drawChart();
  },
  saved(ev) {
    const s = ev.saved;
    if (s.run !== state.run) return;
    state.saves++;
    state.lastSave = { step: s.step, time: Date.now() };
    $('saves').textContent = String(state.saves);
    $('last-save').textContent = String(s.step);
    const gone = new Set(s.deleted || []);
    state.checkpoints = state.checkpoints.filter((c) => !gone.has(c.id) && c.id !== s.id);
    state.checkpoints.push(s);
    state.checkpoints.sort((a, b) => (a.id < b.id ? -1 : 1));
    state.head = s.id;
    window.__pgSaves.push({ step: s.step, kind: s.kind, millis: s.millis, pauseMillis: s.pauseMillis, size: s.size, at: performance.now() });
    if (!state.persisted && navigator.storage && navigator.storage.persist) {
      state.persisted = true;
      navigator.storage.persist().then((ok) => log(ok ? 'Storage is persistent: the browser will not evict these checkpoints.' : 'Storage is best-effort: the browser may evict it when the disk is short (bookmarking the page usually makes it persistent).'));
    }
    renderCheckpoints();
    renderStatus();
  },
  resumed(ev) {
    const r = ev.resumed;
    state.resumed = { ...r, time: Date.now() };
    for (const sk of r.skipped || []) state.damaged.add(sk.id);
    window.__pgTimes.resumed = performance.now();
    window.__pgResumed = r;
    $('resumed-at').textContent = String(r.step);
    $('resumed-from').textContent = String(r.from);
    showStep(r.step);
    log(
      r.replayed
        ? `Resumed at step ${fmt(r.step)}: restored the checkpoint at step ${fmt(r.from)} and replayed ${fmt(r.replayed)} steps (${Math.round(r.millis)} ms).`
        : `Resumed at step ${fmt(r.step)} (${Math.round(r.millis)} ms).`,
    );
    render();
  },
  runs(ev) {
    const mine = (ev.runs || []).find((r) => r.run === state.run);
    state.checkpoints = mine ? mine.checkpoints : [];
    state.head = mine ? mine.head : '';
    renderCheckpoints();
  },
  export(ev, bytes) {
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = ev.export.filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    log(`Downloaded the checkpoint at step ${fmt(ev.export.step)}.`);
  },
  warning(ev) {
    state.warning = { text: ev.message, time: Date.now() };
    log(ev.message, 'warn');
    renderStatus();
  },
  error(ev) {
    state.warning = { text: ev.message, time: Date.now() };
    log(ev.message, 'error');
    renderStatus();
  },
};

window.__pgTimes = {};
window.__pgSaves = [];
worker.onmessage = (e) => {
  let ev;
  try {
    ev = JSON.parse(e.data.json);
  } catch {
    return;
  }
  const h = on[ev.type];
  if (h) h(ev, e.data.bytes);
};
worker.onerror = (e) => on.error({ message: 'engine worker failed: ' + (e.message || e) });

function showStep(step, epoch) {
  state.step = step;
  $('step').textContent = String(step);
  if (epoch != null) $('epoch').textContent = fmt(epoch);
}

// --- Rendering -----------------------------------------------------------

function ago(t) {
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function renderStatus() {
  const parts = [];
  const r = state.resumed;
  switch (state.phase) {
    case 'loading':
      parts.push('Loading the run…');
      break;
    case 'replaying':
      parts.push('Recomputing the steps after the last checkpoint…');
      break;
    case 'idle':
      parts.push('Pick a preset and start a run.');
      break;
    case 'locked':
      parts.push('This run is being trained in another tab. This tab does not train or save it; take over to continue it here.');
      break;
    case 'lost':
      parts.push('Another tab took over this run; this tab stopped training and saving. Take it back to continue here.');
      break;
    case 'paused':
      parts.push(`Paused at step ${fmt(state.step)}.`);
    // fall through
    case 'running':
      if (r && r.run === state.run && Date.now() - r.time < 8000) {
        parts.push(r.replayed ? `resumed at step ${fmt(r.step)} (checkpoint at ${fmt(r.from)} + ${fmt(r.replayed)} replayed steps)` : `resumed at step ${fmt(r.step)}`);
      }
      if (state.lastSave) parts.push(`saved ${ago(state.lastSave.time)} ago at step ${fmt(state.lastSave.step)}`);
      else if (state.phase === 'running' && !parts.length) parts.push('training…');
      break;
  }
  const w = state.warning && Date.now() - state.warning.time < 30000 ? state.warning.text : '';
  const el = $('status');
  el.textContent = (w ? '⚠ ' + w + ' — ' : '') + parts.join(' · ');
  el.classList.toggle('warn', !!w || state.phase === 'locked' || state.phase === 'lost');
}

function render() {
  const p = state.phase;
  const mine = state.owner && (p === 'running' || p === 'paused');
  $('phase').textContent = p;
  $('pause').disabled = !(mine && p === 'running');
  $('resume').disabled = !(mine && p === 'paused');
  $('step-once').disabled = !(mine && p === 'paused');
  $('reset').disabled = !mine;
  $('save').disabled = !mine;
  $('pin').disabled = !mine;
  $('download').disabled = !mine;
  $('takeover-box').hidden = !(p === 'locked' || p === 'lost');
  $('takeover').textContent = p === 'lost' ? 'Take it back' : 'Take over here';
  renderStatus();
  renderCheckpoints();
}

function renderCheckpoints() {
  const body = $('checkpoints');
  body.textContent = '';
  for (const c of [...state.checkpoints].reverse().slice(0, 40)) {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'ckpt-row';
    tr.dataset.id = c.id;
    if (c.id === state.head) tr.className = 'head';
    const cells = [fmt(c.step), '', c.size ? (c.size / 1024).toFixed(1) + ' KB' : '', c.created ? new Date(c.created).toLocaleTimeString('en-GB') : ''];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    const bad = c.error || state.damaged.has(c.id);
    const kind = document.createElement('span');
    kind.className = 'kind ' + (bad ? 'damaged' : c.kind);
    kind.textContent = bad ? 'damaged' : c.kind;
    tr.children[1].append(kind);
    const td = document.createElement('td');
    const mk = (label, testid, cmd) => {
      const b = document.createElement('button');
      b.textContent = label;
      b.dataset.testid = testid;
      b.disabled = !!bad;
      b.onclick = () => send({ ...cmd, run: state.run, id: c.id });
      td.append(b);
    };
    mk('↓', 'ckpt-download', { type: 'export' });
    if (state.owner) {
      mk('restore', 'ckpt-restore', { type: 'restore' });
      if (c.kind !== 'pinned') mk('pin', 'ckpt-pin', { type: 'pin' });
    }
    tr.append(td);
    body.append(tr);
  }
}

function drawChart() {
  const cv = $('chart');
  const w = cv.clientWidth || cv.width;
  const h = cv.clientHeight || cv.height;
  if (cv.width !== w * devicePixelRatio) {
    cv.width = w * devicePixelRatio;
    cv.height = h * devicePixelRatio;
  }
  const g = cv.getContext('2d');
  g.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
  g.clearRect(0, 0, w, h);
  if (state.train.length > 2000) state.train = state.train.filter((_, i) => i % 2 === 0);
  const all = state.train.concat(state.test);
  if (all.length < 2) return;
  const x0 = Math.min(...all.map((p) => p[0]));
  const x1 = Math.max(...all.map((p) => p[0]));
  const y1 = Math.max(...all.map((p) => p[1])) * 1.05 || 1;
  const pad = 28;
  const X = (s) => pad + ((s - x0) / Math.max(1, x1 - x0)) * (w - pad - 8);
  const Y = (v) => h - 18 - (v / y1) * (h - 28);
  g.strokeStyle = '#e1e4ea';
  g.fillStyle = '#6a7282';
  g.font = '11px system-ui';
  g.beginPath();
  g.moveTo(pad, 8);
  g.lineTo(pad, h - 18);
  g.lineTo(w - 8, h - 18);
  g.stroke();
  g.fillText(y1.toFixed(2), 2, 14);
  g.fillText('0', 14, h - 18);
  g.fillText(fmt(x0), pad, h - 4);
  const right = fmt(x1);
  g.fillText(right, w - 8 - g.measureText(right).width, h - 4);
  const line = (pts, color) => {
    g.strokeStyle = color;
    g.lineWidth = 1.5;
    g.beginPath();
    pts.forEach((p, i) => (i ? g.lineTo(X(p[0]), Y(p[1])) : g.moveTo(X(p[0]), Y(p[1]))));
    g.stroke();
  };
  line(state.train, '#f28c28');
  line(state.test, '#2b6cb0');
  g.fillStyle = '#f28c28';
  g.fillText('train', w - 90, 16);
  g.fillStyle = '#2b6cb0';
  g.fillText('test', w - 50, 16);
  // Checkpoints as ticks on the axis.
  g.fillStyle = '#1d2330';
  for (const c of state.checkpoints) {
    if (c.step >= x0 && c.step <= x1) g.fillRect(X(c.step) - 1, h - 22, 2, 8);
  }
}

function log(text, cls) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString('en-GB')} ${text}`;
  if (cls) li.className = cls;
  const ol = $('log');
  ol.prepend(li);
  while (ol.children.length > 50) ol.lastChild.remove();
}

// --- Controls ------------------------------------------------------------

$('start').onclick = () => send({ type: 'start', preset: $('preset').value });
$('pause').onclick = () => send({ type: 'pause' });
$('resume').onclick = () => send({ type: 'resume' });
$('step-once').onclick = () => send({ type: 'step', steps: 1 });
$('reset').onclick = () => send({ type: 'reset' });
$('save').onclick = () => send({ type: 'save' });
$('pin').onclick = () => send({ type: 'save', kind: 'pinned' });
$('download').onclick = () => send({ type: 'export' });
$('takeover').onclick = async () => {
  const cmd = { type: 'takeover', marks: await readMarks() };
  if (params.get('autostart') === '1') cmd.autostart = true;
  send(cmd);
};
$('upload').onchange = async (e) => {
  const f = e.target.files[0];
  if (!f) return;
  send({ type: 'import' }, new Uint8Array(await f.arrayBuffer()));
  e.target.value = '';
};

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') {
    writeMark(true);
    if (state.owner) send({ type: 'hidden' });
  }
});
addEventListener('pagehide', () => writeMark(true));
setInterval(renderStatus, 1000);
render();
