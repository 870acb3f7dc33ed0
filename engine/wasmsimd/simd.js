// The engine's SIMD128 kernels for a Go program compiled to wasm
// (engine/wasmsimd: kernels.wat, whose assembly MODULE is; regenerate with
// `go generate ./engine/wasmsimd`).
//
// playgroundSIMD(go), for a `go = new Go()` of Go's wasm_exec.js, adds the
// "simd" imports the engine declares (//go:wasmimport simd ...) to
// go.importObject and returns attach(instance): call it with the Go
// program's instance before go.run(instance). It instantiates the kernels
// over the program's own memory (exports.mem), so they work on Go's slices
// where they lie. Where SIMD128 is missing (the module does not validate)
// available() answers 0 and the engine keeps its scalar kernels, which
// give the same bits.
'use strict';
(function () {
  const MODULE = 'AGFzbQEAAAABDgFgCn9/f39/f39/f38AAgwBA2VudgNtZW0CAAEDAgEABwgBBGdlbW0AAArAAwG9AwIIfwx7IAFBAnQhASADQQJ0IQMgBEECdCEEIAZBAnQhBiAIQQJ0IQgDQEEAIQoDQCACIg4gA2oiDyADaiIQIANqIREgBSAKaiEMIBUhFiAVIRcgFSEYIBUhGSAVIRogFSEbIBUhHCAVIR0gCSELA0AgDP0ABAAhEyAM/QAEECEUIA79CQIAIRIgFiASIBP95gH95AEhFiAXIBIgFP3mAf3kASEXIA/9CQIAIRIgGCASIBP95gH95AEhGCAZIBIgFP3mAf3kASEZIBD9CQIAIRIgGiASIBP95gH95AEhGiAbIBIgFP3mAf3kASEbIBH9CQIAIRIgHCASIBP95gH95AEhHCAdIBIgFP3mAf3kASEdIA4gBGohDiAPIARqIQ8gECAEaiEQIBEgBGohESAMIAZqIQwgC0EBayILDQALIAAgCmoiDSAW/QsEACANIBf9CwQQIA0gAWoiDSAY/QsEACANIBn9CwQQIA0gAWoiDSAa/QsEACANIBv9CwQQIA0gAWoiDSAc/QsEACANIB39CwQQIApBIGoiCiAISQ0ACyACIANBAnRqIQIgACABQQJ0aiEAIAdBBGsiBw0ACws=';
  globalThis.playgroundSIMD = function (go) {
    let k = null;
    go.importObject.simd = {
      available: () => (k ? 1 : 0),
      gemm: (c, ldc, a, ars, acs, b, ldb, m, n, p) => k.gemm(c, ldc, a, ars, acs, b, ldb, m, n, p),
    };
    return function attach(instance) {
      try {
        const bytes = Uint8Array.from(atob(MODULE), (ch) => ch.charCodeAt(0));
        if (WebAssembly.validate(bytes)) {
          const env = { mem: instance.exports.mem };
          k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env }).exports;
        }
      } catch {
        k = null;
      }
      return instance;
    };
  };
})();
