// The page's service worker: it keeps this build of the page (index.html
// and the content-hashed files it loads) in a cache of its own, so a
// reload opens the page and resumes the run from IndexedDB even when the
// server is away. Training needs nothing from the server.
//
// - The build (web/build) rewrites the names below to the content-hashed
//   ones, so this file changes with every deploy: the browser installs the
//   new worker, which caches the new build and, once active, deletes every
//   other build's cache.
// - The binary (playground.wasm, the one large file) is not downloaded
//   again here: the page's loader keeps a copy of the one it downloads in
//   the cache WASM (loader.js); once active, this worker drops the other
//   builds' binaries from it.
// - Pages (navigations) come from the network first, so a new deploy shows
//   at once; from the cache when the server does not answer.
// - The hashed files come from the cache first (they never change under
//   their name), else from the network.
// - The checkpoint API (/api/) is never touched: sync sees the network as
//   it is.
'use strict';

const BINARY = 'playground.wasm';
const FILES = ['wasm_exec.js', 'simd.js', 'loader.js', 'worker.js', 'app.js', 'style.css', 'vugu-render.js'];
const PAGE = './';
const CACHE = 'playground-build-' + fnv([BINARY, ...FILES].join(' '));
const WASM = 'playground-wasm'; // loader.js's cache
const scope = new URL(PAGE, self.location).pathname;

// fnv is a short hash of s (FNV-1a, 32 bits), for the cache's name.
function fnv(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

self.addEventListener('install', (e) => {
  e.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll([PAGE, ...FILES]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('playground-build-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => caches.open(WASM))
      .then((c) => c.keys().then((reqs) => Promise.all(reqs.filter((r) => !r.url.endsWith('/' + BINARY)).map((r) => c.delete(r)))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith(scope)) return;
  if (url.pathname.startsWith(scope + 'api/') || url.pathname === scope + 'api') return;
  if (req.mode === 'navigate') {
    e.respondWith(fetch(req).catch(() => caches.open(CACHE).then((c) => c.match(PAGE)).then((r) => r || Response.error())));
    return;
  }
  e.respondWith(caches.match(req, { ignoreSearch: true }).then((r) => r || fetch(req)));
});
