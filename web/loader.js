// The loader of the page's one wasm binary (wasm/playground), shared by the
// page (app.js) and its workers (worker.js): the same binary runs as the UI
// ("page"), the engine worker ("engine") and the writer worker ("writer").
// The page fetches and compiles it once, as early as it can, and posts the
// compiled module to the engine worker, which posts it to the writer.
'use strict';

self.pgWasm = {
  url: 'playground.wasm',

  // compile fetches and compiles the binary: streamed where the server
  // says application/wasm, else from the whole download.
  compile() {
    const whole = () =>
      fetch(this.url)
        .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`${this.url}: HTTP ${r.status}`))))
        .then((b) => WebAssembly.compile(b));
    if (!WebAssembly.compileStreaming) return whole();
    return WebAssembly.compileStreaming(fetch(this.url)).catch((err) => (err instanceof TypeError ? whole() : Promise.reject(err)));
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
