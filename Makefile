# The two commands: `make run` and `make test`. See README.md.
GO      ?= go
GOROOT  := $(shell $(GO) env GOROOT)
WASMBIN := $(GOROOT)/lib/wasm
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ADDR    ?= 127.0.0.1:8080

.PHONY: run build web test test-deps vet unit wasm-test bench clean

## run: build everything, then serve the page and the checkpoint API on $(ADDR) (store ./data)
run: build
	./bin/playground serve --addr $(ADDR) --data data

## build: the page into web/dist, then the binary that embeds it
build: web
	$(GO) build -o bin/playground ./cmd/playground

# The page's build step; until web/build exists the server shows a placeholder page.
web:
	@if [ -f web/build/main.go ]; then $(GO) run ./web/build; \
	else echo "web: no page build yet (web/build); the server will show a placeholder page"; fi

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

## bench: W1-W3 on our engine (wasm under Node, native on 1 and all cores) and on
## TensorFlow.js (cpu, wasm) in interleaved rounds, plus checkpoint MB/s native and
## wasm; JSON to $BENCH_OUT when set (web/bench/run.mjs; about 5 minutes)
bench: build bench-wasm bench-deps
	node web/bench/run.mjs --ckpt

.PHONY: bench-wasm bench-deps
bench-wasm:
	GOOS=js GOARCH=wasm $(GO) build -o bin/playground.wasm ./cmd/playground

# TensorFlow.js 4.22 (cpu and wasm backends) into web/node_modules, pinned by
# web/package-lock.json.
bench-deps:
	@command -v node >/dev/null || { echo "node is needed for make bench"; exit 1; }
	@grep -qs '"version": "4.22.0"' web/node_modules/@tensorflow/tfjs-backend-wasm/package.json || \
	  (cd web && npm ci --no-audit --no-fund --loglevel=error)

clean:
	rm -rf bin
