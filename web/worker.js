// Engine worker bootstrap: runs the page's wasm binary (wasm/playground)
// as the engine (wasm/worker), and provides `self.pg`, the small bridge the
// Go side uses. The page posts the compiled module first ({module}, or
// {module: null}: compile it here); messages that arrive before Go installs
// its handler are queued.
//
// The same script runs a second, nested worker named "writer" (the same
// binary, in the writer role): it commits checkpoints to IndexedDB, so the
// structured clone of a multi-MB value happens off the training thread.
// The engine hands it the module it got.
'use strict';
importScripts('wasm_exec.js', 'simd.js', 'loader.js');

const pg = (self.pg = {
  role: self.name === 'writer' ? 'writer' : 'engine',
  queue: [],
  handler: null, // set by Go: (message) => void
  resume: null, // set by Go: called when a yield comes back
  lost: null, // set by Go: (lockName) => void, a lock was stolen
});
const failed =
  pg.role === 'writer'
    ? () => postMessage('failed')
    : (err) => postMessage({ json: JSON.stringify({ type: 'error', message: 'engine failed to start: ' + err }) });

let gotModule = null;
const module = new Promise((resolve) => (gotModule = resolve));
self.onmessage = (e) => {
  if (gotModule && e.data && typeof e.data === 'object' && 'module' in e.data) {
    gotModule(e.data.module || pgWasm.compile());
    gotModule = null;
    return;
  }
  pg.handler ? pg.handler(e.data) : pg.queue.push(e.data);
};
module.then((m) => pgWasm.run(m, pg.role)).catch(failed);

if (pg.role === 'engine') {
  // putRemote(request, bytes) runs a write (put or delete) in the writer
  // worker and resolves to {kind, message} (kind "" on success,
  // "unavailable" when there is no writer, or not yet: the caller then
  // writes itself).
  // The writer starts at the first write, so it does not compete with a
  // resume for the CPU. Until it is up, the engine writes itself: starting
  // the writer (Go's runtime, IndexedDB) takes ~40 ms in Chromium and
  // Firefox but 2-3 s in WebKitGTK while training keeps the cores busy, and
  // a new run's first checkpoint that waited for it left the run unsaved
  // that long: a reload then lost the run (the marks named a run never
  // stored) and started a new one at step 0. Writes stay in order: the
  // engine awaits each one before the next.
  let writer = null;
  let ready = null;
  let up = false; // the writer has said ready
  const pending = new Map();
  let nextID = 0;
  const startWriter = () => {
    try {
      writer = new Worker(self.location.href, { name: 'writer' });
    } catch {
      return Promise.resolve(false);
    }
    const p = new Promise((resolve) => {
      writer.onerror = () => resolve(false);
      writer.onmessage = (e) => {
        if (e.data === 'ready') resolve(true);
        else if (e.data === 'failed') resolve(false);
        else {
          const done = pending.get(e.data.id);
          pending.delete(e.data.id);
          if (done) done(e.data);
        }
      };
      setTimeout(() => resolve(false), 15000);
    });
    module.then((m) => writer.postMessage({ module: m }), () => {});
    return p;
  };
  pg.putRemote = (request, bytes) => {
    ready ??= startWriter().then((ok) => (up = ok));
    if (!up) return Promise.resolve({ kind: 'unavailable' });
    return new Promise((resolve) => {
      const id = ++nextID;
      pending.set(id, resolve);
      writer.postMessage({ id, request, bytes }, bytes ? [bytes.buffer] : []);
    });
  };
}

// yield lets the worker's event loop run (messages, IndexedDB, promises)
// between training slices; a MessageChannel task is not clamped like
// setTimeout's.
const channel = new MessageChannel();
channel.port1.onmessage = () => pg.resume();
pg.yield = () => channel.port2.postMessage(0);

// digest is WebCrypto's SHA-256: it copies the bytes now and hashes on
// another thread.
pg.digest = (bytes) => crypto.subtle.digest('SHA-256', bytes).then((b) => new Uint8Array(b));

// One Web Lock per run: held until unlock, or until another tab steals it
// (then pg.lost tells Go).
const held = new Map();
pg.lock = (name, steal) =>
  new Promise((resolve, reject) => {
    if (!self.navigator.locks) return resolve(true); // no Web Locks: one tab assumed
    const options = steal ? { steal: true } : { ifAvailable: true };
    navigator.locks
      .request(name, options, (lock) => {
        if (!lock) return resolve(false);
        resolve(true);
        return new Promise((release) => held.set(name, release));
      })
      .catch((err) => {
        if (err && err.name === 'AbortError' && held.has(name)) {
          held.delete(name);
          if (pg.lost) pg.lost(name);
          return;
        }
        reject(err);
      });
  });
pg.unlock = (name) => {
  const release = held.get(name);
  held.delete(name);
  if (release) release();
};

// memo keeps the engine's one small record across reloads (the plan of
// the comparison in progress) in a database of its own: memoGet resolves
// to the string kept ("" for none), memoPut(s) replaces it ("" deletes).
if (pg.role === 'engine') {
  let memoDB = null;
  const openMemo = () =>
    (memoDB ??= new Promise((resolve, reject) => {
      const req = indexedDB.open('playground-worker', 1);
      req.onupgradeneeded = () => req.result.createObjectStore('memo');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    }));
  const memoTx = (mode, f) =>
    openMemo().then(
      (db) =>
        new Promise((resolve, reject) => {
          const tx = db.transaction('memo', mode);
          const req = f(tx.objectStore('memo'));
          tx.oncomplete = () => resolve(req.result);
          tx.onerror = tx.onabort = () => reject(tx.error);
        }),
    );
  pg.memoGet = () => memoTx('readonly', (s) => s.get('memo')).then((v) => (typeof v === 'string' ? v : ''));
  pg.memoPut = (v) => memoTx('readwrite', (s) => (v ? s.put(v, 'memo') : s.delete('memo'))).then(() => true);
}
