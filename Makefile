# troupe — `make` alone lists the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
PKGS := ./...
FUZZTIME ?= 30s

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/troupe
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/troupe ./cmd/troupe

.PHONY: run
run: ## build and serve MCP over stdio (what Claude Desktop runs), through the data dir's daemon; Ctrl-D ends it
	@$(GO) build -ldflags "$(LDFLAGS)" -o bin/troupe ./cmd/troupe
	@echo "troupe: serving MCP on stdin/stdout through the data dir's daemon (started when none runs); Ctrl-D ends this client, the daemon keeps your sessions running (bin/troupe daemon stop ends it)" >&2
	@exec ./bin/troupe serve

# The bundle's system: GOOS/GOARCH when set (e.g. GOOS=darwin GOARCH=arm64 make mcpb), else this one.
MCPB_OS = $(shell $(GO) env GOOS)
MCPB_ARCH = $(shell $(GO) env GOARCH)

.PHONY: mcpb
mcpb: ## build dist/troupe-<os>-<arch>.mcpb: the one-click Claude Desktop bundle (manifest from the tool registry)
	@mkdir -p dist/$(MCPB_OS)-$(MCPB_ARCH)
	env -u GOOS -u GOARCH $(GO) build -ldflags "$(LDFLAGS)" -o bin/troupe ./cmd/troupe
	GOOS=$(MCPB_OS) GOARCH=$(MCPB_ARCH) $(GO) build -ldflags "$(LDFLAGS)" -o dist/$(MCPB_OS)-$(MCPB_ARCH)/troupe ./cmd/troupe
	./bin/troupe mcpb pack --os $(MCPB_OS) --binary dist/$(MCPB_OS)-$(MCPB_ARCH)/troupe --out dist/troupe-$(MCPB_OS)-$(MCPB_ARCH).mcpb

.PHONY: deps
deps: ## install what the tests need when missing: git, Chromium (apt-get, as root), Node 22, the TypeScript SDK, the MCP Inspector CLI, the MCP conformance suite and the MCP bundle CLI (npm)
	@scripts/deps.sh

.PHONY: test
test: deps ## run every test: unit, integration (real Chromium, processes, bbolt, git), end-to-end, property, fuzz seeds
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

.PHONY: bench
bench: deps ## run the benchmarks; the last lines are "BENCH <name> <value> <unit>"
	@set -o pipefail; $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 60m $(PKGS) 2>&1 | tee bench.log
	@echo; echo "== figures (also in bench.log) =="; grep -h '^BENCH ' bench.log

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME (default 30s) each
	@scripts/fuzz.sh $(FUZZTIME)

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

.PHONY: clean
clean: ## remove build output
	rm -rf bin dist bench.log test-artifacts
