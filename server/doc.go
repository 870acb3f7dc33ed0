// Package server is the playground's HTTP handler: the page's static
// assets and the checkpoint API over a persist.Store. It needs no local
// filesystem (assets are an fs.FS, checkpoints a Store, uploads stream
// through), so the same handler runs natively (playground serve, over
// persist/disk) and on Cloudflare Workers (over R2).
//
// # API
//
// Every API answer is JSON; every error is {"error": "<what is wrong>"}.
// Ids (RUN, ID) are 1 to 64 of a-z 0-9 . _ -, starting with a letter or
// digit (persist.ValidID); anything else, including an encoded "../", is
// refused with 400.
//
//	GET    /api/runs                       [{run, head, checkpoints, newest, newest_step}]
//	GET    /api/runs/RUN/checkpoints       [{id, size, step, parent, parent_run, created, checksum, kind, head, error}]
//	                                       (?brief=1: only id and size)
//	GET    /api/runs/RUN/head              {run, head, step}, ETag: "<head id>"; 404 if none
//	GET    /api/runs/RUN/checkpoints/ID    the .safetensors file (ETag: its checksum; Range works)
//	PUT    /api/runs/RUN/checkpoints/ID    body: the .safetensors file; ?head=keep|move|force
//	DELETE /api/runs/RUN/checkpoints/ID    204; deleting the head leaves the run without one
//
// # Uploads
//
// A PUT's body streams through persist.VerifyReader into the store: it is
// decoded and verified as persist.Decode would (checksum, canonical
// header, tensors against the spec), and the store's Put fails, keeping
// nothing, unless the whole file checks out. The file's run_id and
// checkpoint_id must be the URL's RUN and ID, and ID must name the file's
// step as persist.NewID does (000000001500-1a2b3c4d), so that ids sort by
// step. A Content-Digest header
// (RFC 9530, sha-256=:BASE64:) is checked too, end to end: a body of
// another SHA-256 is refused with nothing stored, and the digest goes on
// to the store (R2 checks it again as it stores). Answers:
//
//	201 Created   stored; {run, checkpoint, new: true, head}
//	200 OK        identical bytes were already stored under ID (a retry): nothing changed
//	              but what the request asked (the head, if it still had to move)
//	400           not a valid checkpoint (the reason), ids that do not match the URL,
//	              a malformed precondition or Content-Digest, a body cut off or of
//	              another SHA-256 than its Content-Digest
//	401           no or wrong bearer token
//	403           no token, and a foreign Host or Origin (see Auth)
//	408           the body stalled for Options.Idle, or was not all there Options.Deadline
//	              after the request began
//	409           other bytes are stored under ID: an id names one training state
//	412           the head precondition failed; {"error", "head": current head}, ETag: "<head>"
//	413           larger than Options.MaxUpload (by Content-Length, or once that much arrived)
//	428           ?head=move without a precondition
//	503           Options.MaxUploads uploads were in progress for Options.Idle
//	507           the store is full: nothing stored; or {"error", "stored": true}: the
//	              checkpoint is stored but the head did not move, and a retry moves it
//	              without writing the checkpoint again (persist.HeadMover)
//
// Storage errors (500, 507) name no server path; the log does. Waiting for
// an id's lock ends with the request. The header of an upload is at most
// 64 KiB, its kind and engine version 128 bytes (persist), so what an
// upload holds in memory before it is verified is bounded, and a listing
// streams one bounded entry at a time.
//
// # The head and its preconditions
//
// A run's head is the checkpoint it continues from. Writers that take
// turns on a run (the page, a native trainer, another machine) use
// optimistic concurrency on it, with the standard conditional headers
// read as statements about the run's head (not about the checkpoint in
// the URL):
//
//	If-Match: "H"      the writer has seen head H (from GET .../head's ETag, or its own last PUT)
//	If-None-Match: *   the writer believes the run has no head (a new run)
//
// PUT ?head=move moves the head to ID and requires one of them: without,
// 428 Precondition Required; if the head is not what it says, 412
// Precondition Failed and nothing is stored. The check and the write are
// one step of the store (persist.PutOptions CheckHead/IfHead), so of two
// writers that saw the same head exactly one wins; the other fetches the
// new head, continues from it, and retries. A precondition on a PUT that
// keeps the head (?head=keep, the default) is checked the same way.
// PUT ?head=force moves the head unconditionally, for a single writer that
// owns the run (persist/remote's Put with SetHead but no CheckHead).
// The head moves only after the checkpoint is committed, so it always
// names a whole checkpoint.
//
// The check for other bytes under an existing id (409) and the write that
// follows are serialized per id within one server process; where several
// processes share a store (Workers) it is best effort, while the head
// precondition is as strong as the store's CheckHead.
//
// # Auth
//
// With Options.Token set, every /api/ request needs Authorization: Bearer
// <token> (compared in constant time); 401 otherwise. The page's assets
// are public. playground serve refuses to listen on a non-loopback address
// without a token. Without a token, every request needs a Host that is
// localhost or a loopback address, and a PUT or DELETE that sends an
// Origin needs it to be that host: 403 otherwise, so a page of another
// site that rebinds its name to 127.0.0.1 cannot drive the server.
//
// # Assets
//
// Files come from Options.Assets; / is index.html, or, when the page has
// not been built, a small built-in page that says so and lists the runs.
// X.br and X.gz next to X are served for X to clients that accept the
// encoding (Vary: Accept-Encoding), and decompressed for those that do not
// when X itself is absent. .wasm is application/wasm. Names carrying a
// content hash, NAME.HASH.EXT with HASH 8 to 64 lowercase hex digits
// (app.3f2a9c1b.js), are cached as immutable for a year; everything else,
// HTML included, is no-cache (revalidated by ETag).
package server
