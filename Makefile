# envoi — developer tasks. `make help` lists them.

GO        ?= go
PKGS      ?= ./...
# Flags of the `go test` run of `make test` (2-core reference machine).
TESTFLAGS ?= -race -p 2 -timeout 20m
# Time per Fuzz target for `make fuzz`, per benchmark for `make bench`.
FUZZTIME  ?= 20s
BENCHTIME ?= 500ms
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X envoi/internal/cli.version=$(VERSION)
# Extra arguments for `make run`, e.g. make run ARGS=--demo
ARGS      ?=

.DEFAULT_GOAL := help

.PHONY: help test vet lint fuzz bench build run clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

test: vet ## go vet, then every test (race detector, SQLite and PostgreSQL, e2e in Chromium)
	CGO_ENABLED=1 scripts/with-postgres.sh $(GO) tool gotestsum --format pkgname --format-hide-empty-pkg -- $(TESTFLAGS) $(PKGS)

vet: ## go vet
	$(GO) vet $(PKGS)

lint: vet ## go vet and a gofmt check
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -w needed on:"; echo "$$unformatted"; exit 1; fi

fuzz: ## run each Fuzz target for FUZZTIME (default 20s)
	GO=$(GO) scripts/fuzz.sh $(FUZZTIME)

bench: ## Go benchmarks (BENCHTIME each), then the load scripts in bench/
	scripts/with-postgres.sh $(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem -p 1 -timeout 30m $(PKGS)
	@for s in bench/*.sh; do echo "=== $$s"; bash "$$s" || exit 1; done

build: ## build bin/envoi, a static binary stamped with the git version
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/envoi ./cmd/envoi

run: ## go run ./cmd/envoi serve $(ARGS)
	$(GO) run ./cmd/envoi serve $(ARGS)

clean: ## remove bin/
	rm -rf bin
