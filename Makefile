# The two commands: `make run` and `make test`. See README.md.
GO      ?= go
GOROOT  := $(shell $(GO) env GOROOT)
WASMBIN := $(GOROOT)/lib/wasm
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ADDR    ?= 127.0.0.1:8080

.PHONY: run build test test-deps vet unit wasm-test bench clean

## run: build everything and train the spiral demo natively (resumes ./data)
run: build
	@if [ -d data ] && ls data/*/*.safetensors >/dev/null 2>&1; then \
	  ./bin/playground train --resume data --steps 20000 --every 1000; \
	else \
	  ./bin/playground train --preset spiral-adam --steps 20000 --every 1000 --out data; \
	fi

build:
	$(GO) build -o bin/playground ./cmd/playground

## test: install what the tests need, then run every test
test: test-deps vet unit wasm-test

# Debian's PyTorch proves that checkpoints load into torch.nn.Sequential.
test-deps:
	@/usr/bin/python3 -c 'import torch' 2>/dev/null || { \
	  echo "installing python3-torch (Debian) for the PyTorch loading test"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null; }
	@command -v node >/dev/null || { echo "node is needed for the wasm tests"; exit 1; }

vet:
	$(GO) vet ./...
	@bad=$$(gofmt -l .); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

unit:
	PLAYGROUND_REQUIRE_TORCH=1 $(GO) test -count=1 ./...

# The engine and the checkpoint format compiled to wasm, run under Node.
wasm-test:
	PATH="$(WASMBIN):$$PATH" GOOS=js GOARCH=wasm $(GO) test -count=1 -short ./engine/... ./persist/...

## bench: engine steps/s per preset and checkpoint MB/s, native and wasm (Node)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./engine ./persist
	PATH="$(WASMBIN):$$PATH" GOOS=js GOARCH=wasm $(GO) test -run '^$$' -bench . -benchtime 2s ./engine ./persist

clean:
	rm -rf bin
