// Package archtest holds no code, only the tests of the rules the
// repository keeps (docs/ARCHITECTURE.md): the page's wasm carries no
// engine, no hand-written function runs over 80 lines, and the worker's
// loop stays small (handle at most 60 lines, its state at most 20
// fields).
package archtest
