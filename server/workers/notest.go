//go:build js && wasm && !playgroundtest

package main

import (
	"net/http"

	"playground/persist/r2"
	"playground/server"
)

// testMode is h: a build without the playgroundtest tag has no test routes
// and no X-Go-Memory header (testmode.go).
func testMode(h http.Handler, _ r2.Bucket, _ server.Options) http.Handler { return h }
