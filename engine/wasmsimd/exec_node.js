// Runs a Go program compiled to wasm under Node, as Go's
// lib/wasm/wasm_exec_node.js does, with the engine's SIMD128 kernels
// (simd.js): `node exec_node.js prog.wasm args...`. go_js_wasm_exec, next
// to it, is the name `go test` and `go run` look for on PATH.
'use strict';

if (process.argv.length < 3) {
  console.error('usage: exec_node.js [wasm binary] [arguments]');
  process.exit(1);
}
const path = require('path');
globalThis.require = require;
globalThis.fs = require('fs');
globalThis.path = path;
globalThis.TextEncoder = require('util').TextEncoder;
globalThis.TextDecoder = require('util').TextDecoder;
globalThis.performance ??= require('perf_hooks').performance;
globalThis.crypto ??= require('crypto');

const goroot = process.env.PLAYGROUND_GOROOT || require('child_process').execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
require(path.join(goroot, 'lib', 'wasm', 'wasm_exec.js'));
require('./simd.js');

const go = new Go();
go.argv = process.argv.slice(2);
go.env = Object.assign({ TMPDIR: require('os').tmpdir() }, process.env);
go.exit = process.exit;
const attach = playgroundSIMD(go);
WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject)
  .then((result) => {
    process.on('exit', (code) => {
      // Node exits if no event handler is pending
      if (code === 0 && !go.exited) {
        // deadlock: make Go print error and stack traces
        go._pendingEvent = { id: 0 };
        go._resume();
      }
    });
    return go.run(attach(result.instance));
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
