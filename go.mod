module playground

go 1.26.8

require (
	github.com/andybalholm/brotli v1.3.0
	github.com/hack-pad/go-indexeddb v0.3.2
	github.com/klauspost/compress v1.20.4 // persist/compress_test.go only
	github.com/syumai/workers v0.33.0
	github.com/vugu/vjson v0.0.0-20200505061711-f9cbed27d3d9
	github.com/vugu/vugu v0.4.0
)

require (
	github.com/hack-pad/safejs v0.1.0 // indirect
	github.com/vugu/html v0.0.0-20190914200101-c62dc20b8289 // indirect
	github.com/vugu/xxhash v0.0.0-20191111030615-ed24d0179019 // indirect
)

tool (
	github.com/syumai/workers/cmd/workers-assets-gen
	github.com/vugu/vugu/cmd/vugugen
)
