// Package web holds the browser page's built files for the native server
// to embed.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Assets returns the built page (web/dist) as a file system rooted at the
// page: index.html, scripts, wasm and their .br/.gz siblings. Before the
// page is built it holds only README.md.
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path, so never
	}
	return sub
}
