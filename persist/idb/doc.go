// Package idb implements persist.Store on the browser's IndexedDB (js/wasm
// only; natively the package is empty).
//
// One database holds three object stores: "objects" maps [run, id] to
// {size, gen, head}: the checkpoint's size and its first bytes (enough for
// persist.ReadHeader, so listings never load whole checkpoints); "blobs"
// maps [run, id] to {gen, rest}: the bytes after the head; "heads" maps run
// to its head id. A Put writes all three in one readwrite transaction, so
// the checkpoint and the head move together or not at all; gen (random per
// Put) lets a reader detect a checkpoint replaced between its two reads.
package idb
