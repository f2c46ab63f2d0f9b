# heapsift developer targets. CI runs `bash .ci/run`, which ends in `make test`.

GO           ?= go
BIN          := bin/heapsift
BUILD_DIR    := build
TEST_TIMEOUT ?= 10m
# Fuzz time per target: short in `make test`, longer in `make fuzz`.
FUZZTIME     ?= 60s
# Mutants per core for the mutation suite in `make fuzz` (`make test` runs
# a brief one as part of the unit tests); MUTANT_SEED picks another set.
MUTANTS      ?= 2000
MUTANT_SEED  ?= 14
# An iteration count, not a duration: a duration can end a fuzz run with
# "context deadline exceeded" on a busy machine.
TEST_FUZZTIME ?= 100000x
# Extra heapsift arguments for `make demo`, placed before the core file.
DEMO_ARGS    ?=
# Arguments for the leaky demo program, e.g. LEAKY_ARGS=-requests=500000.
LEAKY_ARGS   ?=
DEMO_DIR     := $(BUILD_DIR)/demo
# The interpreter and request count of the demo's CPython part.
DEMO_PYTHON  ?= python3
DEMO_REQUESTS ?= 100000

.PHONY: all build test fmt-check vet unit fuzz-short fuzz demo bench bench-large bench-real clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/heapsift

test: fmt-check vet unit fuzz-short

fmt-check:
	@files=$$(find . -name '*.go' -not -path './.git/*' -not -path './$(BUILD_DIR)/*' -print | xargs -r gofmt -l); \
	if [ -n "$$files" ]; then echo "gofmt -l reports unformatted files:"; echo "$$files"; exit 1; fi
	@echo "gofmt: ok"

vet:
	$(GO) vet ./...

unit:
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

# run_fuzz runs every fuzz target (func FuzzX(f *testing.F) in a _test.go
# file outside testdata/) for $(1), one `go test -fuzz` per target.
define run_fuzz
	@set -e; n=0; \
	for f in $$(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v -e '/testdata/' -e '^\./$(BUILD_DIR)/' -e '^\./\.git/' | sort); do \
		dir=$$(dirname "$$f"); \
		for name in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$$f"); do \
			echo "== fuzz $$name in $$dir for $(1)"; \
			$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(1) "$$dir"; \
			n=$$((n+1)); \
		done; \
	done; \
	echo "fuzzed $$n targets for $(1) each"
endef

fuzz-short:
	$(call run_fuzz,$(TEST_FUZZTIME))

fuzz:
	$(call run_fuzz,$(FUZZTIME))
	HEAPSIFT_MUTANTS=$(MUTANTS) HEAPSIFT_MUTANT_SEED=$(MUTANT_SEED) $(GO) test -timeout 120m -run 'Mutants' ./dump/ ./cmd/heapsift/

# demo builds heapsift and testdata/leaky (in its own throw-away module, as
# internal/coretest does), lets leaky crash into a core in $(DEMO_DIR), and
# runs heapsift on that core. leaky dying of SIGABRT is expected.
demo: build
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)/src
	cp testdata/leaky/*.go $(DEMO_DIR)/src/
	printf 'module testprog\n\ngo 1.22\n' > $(DEMO_DIR)/src/go.mod
	cd $(DEMO_DIR)/src && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off $(GO) build -o ../leaky .
	@cd $(DEMO_DIR) && ( ulimit -c unlimited 2>/dev/null || ulimit -c "$$(ulimit -H -c)"; GOTRACEBACK=crash ./leaky $(LEAKY_ARGS) >truth.txt 2>crash.txt; \
		echo "leaky exited with status $$? (expected 134: killed by SIGABRT); its truth lines:" ); \
		cat truth.txt
	@core=$$(ls $(DEMO_DIR) | grep '^core' | head -n 1); \
	if [ -z "$$core" ]; then \
		echo "no core file in $(DEMO_DIR): kernel.core_pattern is '$$(cat /proc/sys/kernel/core_pattern)' (must be a plain file name such as 'core'); tail of leaky's stderr:"; \
		tail -n 20 $(DEMO_DIR)/crash.txt; exit 1; \
	fi; \
	echo "core: $(DEMO_DIR)/$$core ($$(du -h $(DEMO_DIR)/$$core | cut -f1) on disk)"; \
	echo "+ $(BIN) $(DEMO_ARGS) $(DEMO_DIR)/$$core"; \
	"$(abspath $(BIN))" $(DEMO_ARGS) $(DEMO_DIR)/$$core
	@echo; echo "== The seed's story: a CPython service whose profiler keeps a tuple per request in a class-level list"
	@mkdir -p $(DEMO_DIR)/python && cd $(DEMO_DIR)/python && rm -f core* && \
	( ulimit -c unlimited 2>/dev/null || ulimit -c "$$(ulimit -H -c)"; \
		$(DEMO_PYTHON) $(abspath testdata/python/profiler.py) $(DEMO_REQUESTS) >truth.txt 2>crash.txt; \
		echo "$(DEMO_PYTHON) profiler.py $(DEMO_REQUESTS) exited with status $$? (expected 134: os.abort()); its truth lines:" ); \
	cat truth.txt
	@core=$$(ls $(DEMO_DIR)/python | grep '^core' | head -n 1); \
	if [ -z "$$core" ]; then echo "no core file in $(DEMO_DIR)/python; tail of its stderr:"; tail -n 20 $(DEMO_DIR)/python/crash.txt; exit 1; fi; \
	echo "+ $(BIN) $(DEMO_DIR)/python/$$core"; \
	"$(abspath $(BIN))" $(DEMO_DIR)/python/$$core

bench:
	@if [ -f scripts/bench.sh ]; then bash scripts/bench.sh; \
	else echo "scripts/bench.sh does not exist yet; nothing to benchmark"; fi

# bench-real installs caddy, nats-server, gopls and etcd from the module
# proxy into $(BUILD_DIR)/bench-real, drives each over loopback, crashes it
# into a core and compares heapsift's histogram with the runtime's counters
# (scripts/bench-real.sh; not part of `make test`). Run it under the heavy-run
# lock: flock /tmp/heapsift-heavy.lock make bench-real.
bench-real:
	bash scripts/bench-real.sh

# bench-large: cost per object (time, peak anonymous memory) of histogram
# and retain on Go cores of ~18 and ~54 million objects, to show linear
# growth; makes its cores once in $(BUILD_DIR)/bench-large (~9 GB) and holds
# /tmp/heapsift-heavy.lock while it runs (scripts/bench-large.sh).
bench-large:
	bash scripts/bench-large.sh

clean:
	rm -rf bin $(BUILD_DIR)
