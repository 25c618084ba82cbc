# pipectl's build, test and check targets. CI (.ci/run) runs them the same way.

GO          ?= go
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck
STATICCHECK_VERSION := v0.8.2
FUZZTIME    ?= 5000x

.PHONY: build test test-long test-race fmtcheck vet lint tools fuzz-smoke bench generate clean

build:
	$(GO) build -o bin/pipectl ./cmd/pipectl

# Includes schemas' TestGeneratedFilesUpToDate, which fails when `make
# generate` was not run after a plugin schema changed.
test:
	$(GO) test -count=1 -timeout 14m ./...
	$(GO) test -count=1 -run '^$$' -bench . -benchtime=1x ./...

# Long fault and soak tests live in files tagged `//go:build long` and are
# named TestLong*; this runs only them (make test runs the rest).
test-long:
	$(GO) test -count=1 -tags long -run '^TestLong' -timeout 40m ./...

test-race:
	$(GO) test -count=1 -race -timeout 30m ./...

fmtcheck:
	@files=$$(gofmt -l .); \
	if [ -n "$$files" ]; then echo "gofmt -w needed on:"; echo "$$files"; exit 1; fi

# Vetting with the long tag too keeps the long tests compiling.
vet:
	$(GO) vet ./...
	$(GO) vet -tags long ./...

lint: tools
	$(STATICCHECK) ./...

tools:
	@[ -x $(STATICCHECK) ] || GOBIN=$(dir $(STATICCHECK)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# Runs every fuzz target (func FuzzXxx in a _test.go file) for FUZZTIME.
# The default is a count of inputs, not a duration: Go 1.26's fuzz
# coordinator can fail a duration-bounded run that found nothing with
# "context deadline exceeded" (golang/go#75804, fixed in Go 1.27).
fuzz-smoke:
	@targets=$$(grep -rE --include='*_test.go' --exclude-dir=testdata -o '^func Fuzz[A-Za-z0-9_]*' . \
		| sed 's/:func /:/' | sort); \
	if [ -z "$$targets" ]; then echo "no fuzz targets"; fi; \
	for t in $$targets; do \
		file=$${t%%:*}; name=$${t##*:}; pkg=$$(dirname $$file); \
		echo "$(GO) test -run='^$$' -fuzz='^$$name\$$' -fuzztime=$(FUZZTIME) $$pkg"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

# Runs issue 7's scenarios against hand-written franz-go baselines and
# updates bench/results.json, the figures of record (see
# docs/performance.md). BENCH=name[,name] runs only those; BENCH_FLAGS adds
# pipectl-bench flags (e.g. -records 200000 -verify -work-dir /tmp/b).
bench: build
	$(GO) build -o bin/pipectl-bench ./bench/cmd/pipectl-bench
	bin/pipectl-bench -pipectl bin/pipectl -out bench/results.json $(if $(BENCH),-bench $(BENCH)) $(BENCH_FLAGS)

# Rewrites schemas/ and docs/plugins.md from the registered plugins.
generate:
	PIPECTL_UPDATE=1 $(GO) test -count=1 -run '^TestGeneratedFilesUpToDate$$' ./schemas/

clean:
	rm -rf bin/
