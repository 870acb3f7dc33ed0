# The two commands: `make run` and `make test`. See README.md.
GO      ?= go
GOROOT  := $(shell $(GO) env GOROOT)
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ADDR    ?= 127.0.0.1:8080

.PHONY: run build web test test-deps vet unit wasm-test bench clean web-deps browser-deps browser-test bench-browser bench-ui workers-deps soak cross-browser-deps cross-browser

## run: build everything, then serve the page and the checkpoint API on $(ADDR) (store ./data)
run: build
	./bin/playground serve --addr $(ADDR) --data data

## build: the page into web/dist, then the binary that embeds it
build: web
	$(GO) build -o bin/playground ./cmd/playground

## web: the page into web/dist (the UI's vugu code regenerated, one wasm binary
## for the UI, the engine worker and the writer, hashed names, .br/.gz siblings)
web:
	$(GO) run ./web/build

## test: install what the tests need, then run every test
test: test-deps workers-deps vet unit wasm-test browser-test

# Debian's PyTorch proves that checkpoints load into torch.nn.Sequential.
test-deps:
	@/usr/bin/python3 -c 'import torch' 2>/dev/null || { \
	  echo "installing python3-torch (Debian) for the PyTorch loading test"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null; }
	@command -v qemu-aarch64 >/dev/null || { \
	  echo "installing qemu-user (Debian) to run the arm64 build in the cross-runtime test"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null; }
	@command -v node >/dev/null || { echo "node is needed for the wasm tests"; exit 1; }

vet:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./dataset/... ./engine/... ./wasm/... ./ui/... ./persist/idb/... ./persist/r2/... ./persist/remote/... ./internal/... ./server/workers
	@bad=$$(gofmt -l .); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

unit:
	PLAYGROUND_REQUIRE_TORCH=1 PLAYGROUND_REQUIRE_ARM64=1 $(GO) test -count=1 ./...

# The engine, the checkpoint format and the worker's session compiled to
# wasm, run under Node (engine/wasmsimd/go_js_wasm_exec: Go's runner plus
# the engine's SIMD128 kernels, required to be in use); persist/idb runs the
# Store conformance suite on the npm package fake-indexeddb. The engine's
# tests run again with the kernels off (PLAYGROUND_SIMD=0).
wasm-test: web-deps
	PATH="$(CURDIR)/engine/wasmsimd:$$PATH" PLAYGROUND_GOROOT=$(GOROOT) GOOS=js GOARCH=wasm PLAYGROUND_REQUIRE_IDB=1 PLAYGROUND_REQUIRE_SIMD=1 \
	  NODE_OPTIONS="--require $(CURDIR)/web/node_modules/fake-indexeddb/auto/index.js" \
	  $(GO) test -count=1 -short ./dataset/... ./spec/... ./engine/... ./persist/... ./wasm/protocol/... ./wasm/session/...
	PATH="$(CURDIR)/engine/wasmsimd:$$PATH" PLAYGROUND_GOROOT=$(GOROOT) GOOS=js GOARCH=wasm PLAYGROUND_SIMD=0 \
	  $(GO) test -count=1 -short ./engine

# npm packages of web/package.json (pinned by web/package-lock.json).
web-deps:
	@command -v node >/dev/null || { echo "node is needed for the wasm and browser tests"; exit 1; }
	@[ -f web/node_modules/playwright-core/package.json ] && [ -f web/node_modules/fake-indexeddb/package.json ] || \
	  (cd web && npm ci --no-audit --no-fund --loglevel=error)

# wrangler (server/workers/package.json, pinned by its package-lock.json) for
# the Cloudflare Workers test of `unit` (go test ./server/workers).
workers-deps:
	@command -v node >/dev/null || { echo "node is needed for the Workers test"; exit 1; }
	@[ -x server/workers/node_modules/.bin/wrangler ] || \
	  (cd server/workers && npm ci --no-audit --no-fund --loglevel=error)

# Debian's Chromium, driven by playwright-core (never a downloaded browser).
CHROMIUM ?= /usr/bin/chromium
browser-deps: web-deps
	@[ -x $(CHROMIUM) ] || { echo "installing chromium (Debian) for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## browser-test: the page in headless Chromium: reloads, SIGKILL, a damaged
## checkpoint, hidden, two tabs, download/upload, and the teaching UI (settings,
## fork, pin, time travel, compare, shared link; screenshots to out/screenshots)
## (web/test; a few minutes)
browser-test: browser-deps build
	cd web && CHROMIUM=$(CHROMIUM) PLAYGROUND_REQUIRE_TORCH=1 node --test --test-concurrency=1 --test-reporter=spec test/*.test.mjs

# Debian's Firefox ESR, and WebKitGTK's MiniBrowser with its WebDriver (and
# xvfb for its display): never a downloaded browser.
FIREFOX ?= /usr/bin/firefox-esr
cross-browser-deps: web-deps
	@[ -x $(FIREFOX) ] && [ -x /usr/bin/WebKitWebDriver ] && command -v xvfb-run >/dev/null || { \
	  echo "installing firefox-esr, webkit2gtk-driver and xvfb (Debian) for the cross-browser test"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr webkit2gtk-driver xvfb >/dev/null; }

## cross-browser: the page in Firefox ESR (WebDriver BiDi) and WebKitGTK
## (WebKitWebDriver, under xvfb): trains, saves, resumes after a reload at a
## step no lower than the saved one, draws the maps and chart, stops at a
## step with the native fingerprint, no console errors; screenshots to
## out/screenshots (web/test/cross/smoke.mjs; under a minute; not part of make test)
cross-browser: cross-browser-deps build
	cd web && FIREFOX=$(FIREFOX) node test/cross/smoke.mjs

## soak: 30 cycles of random reload, browser SIGKILL, server SIGKILL and a
## damaged newest checkpoint against `playground serve`, ending on the native
## fingerprint (web/test/soak.mjs; SOAK_CYCLES, SOAK_SEED; about 5 minutes;
## not part of make test)
soak: browser-deps build
	cd web && CHROMIUM=$(CHROMIUM) node --test --test-reporter=spec test/soak.mjs

## bench-browser: autosave pause and overhead, navigation to the first resumed
## step, W1-W3 inside the engine worker (SIMD128), and the first visit (bytes,
## first step on screen, warm reload), measured in Chromium (web/test/bench.mjs)
bench-browser: browser-deps build
	cd web && CHROMIUM=$(CHROMIUM) node test/bench.mjs

## bench-ui: frame times while spiral (6 hidden layers of 8) and digits train
## (rAF deltas, target p95 within one frame (the median delta), max <= 50 ms)
## and the compressed size of the page's wasm (web/bench/ui.mjs)
bench-ui: browser-deps build
	cd web && CHROMIUM=$(CHROMIUM) node bench/ui.mjs

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
