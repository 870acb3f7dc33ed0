// Package persist is the checkpoint format and the Store interface every
// backend implements.
//
// A checkpoint is one .safetensors file: the model's tensors under the
// names PyTorch gives them (layers.0.weight, shape (out, in)), the
// optimizer's state under optimizer., and string metadata (format and
// engine versions, the normalized spec as JSON, step, epoch, batch, the
// RNG state, run and checkpoint ids, the parent, created time, kind) with
// a SHA-256 checksum over everything else in the file. Encode writes one;
// Decode and VerifyReader check one completely (untrusted bytes never
// panic, and each defect gets an error that says what differs);
// ReadHeader reads only the header, for listings.
//
// A Store keeps checkpoints per run plus each run's head, atomically.
// Backends live in subpackages and import this one, never the reverse:
// disk (native files), idb (IndexedDB in the browser), r2 (Cloudflare R2
// on Workers) and remote (the server's HTTP API). Every one passes the
// conformance suite in storetest. Newest and NewestWith pick the newest
// checkpoint that verifies, reporting the damaged ones they skip; Retain
// applies the retention policy.
package persist
