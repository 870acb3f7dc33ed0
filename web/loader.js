// The loader of the page's one wasm binary (wasm/playground), shared by the
// page (app.js) and its workers (worker.js): the same binary runs as the UI
// ("page"), the engine worker ("engine") and the writer worker ("writer").
// The page fetches and compiles it once, as early as it can, and posts the
// compiled module to the engine worker, which posts it to the writer.
'use strict';

self.pgWasm = {
  url: 'playground.wasm',

  // The cache the service worker (sw.js) serves the binary from when the
  // server is away. The binary is its largest file: rather than have the
  // service worker download it a second time, whoever downloads it keeps a
  // copy there.
  cache: 'playground-wasm',

  // compile fetches and compiles the binary: streamed where the server
  // says application/wasm, else from the whole download.
  compile() {
    const get = () => fetch(this.url).then((r) => this.keep(r));
    const whole = () =>
      get()
        .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`${this.url}: HTTP ${r.status}`))))
        .then((b) => WebAssembly.compile(b));
    if (!WebAssembly.compileStreaming) return whole();
    return WebAssembly.compileStreaming(get()).catch((err) => (err instanceof TypeError ? whole() : Promise.reject(err)));
  },

  // keep puts a copy of the binary's response r into the cache, unless it
  // is there already (or the browser refuses a cache), and returns r.
  keep(r) {
    if (!r.ok || !self.caches) return r;
    const copy = r.clone();
    const url = this.url;
    caches
      .open(this.cache)
      .then((c) => c.match(url).then((hit) => (hit ? copy.body?.cancel() : c.put(url, copy))))
      .catch(() => copy.body?.cancel().catch(() => {}));
    return r;
  },

  // run starts module as role; its promise settles when Go exits or fails
  // to start. It is the one place the binary meets its imports: any import
  // object beyond Go's (and what must see the instance before Go runs)
  // goes here, the same in every role, since the page runs the same binary
  // as the engine.
  run(module, role) {
    const go = new Go();
    go.argv = ['playground', role];
    // The engine's SIMD128 kernels (simd.js, engine/wasmsimd): their "simd"
    // imports, and attach(instance) before Go runs.
    const attach = playgroundSIMD(go);
    return WebAssembly.instantiate(module, go.importObject).then((inst) => go.run(attach(inst)));
  },
};
