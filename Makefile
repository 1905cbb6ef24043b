GO ?= go
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# fail a target with a bare "context deadline exceeded" as the time runs
# out (golang/go#75804, fixed in Go 1.27). 60,000 inputs take 3-15 s here.
FUZZTIME ?= 60000x
PKGS := ./...

# What "mailmon version" says (internal/version): packaging/version.sh reads
# the git tag or the VERSION file; the commit and its date, not the build's,
# so that two builds of one commit are alike.
VERSION ?= $(shell packaging/version.sh)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
LDFLAGS := -X github.com/mailmon/mailmon/internal/version.version=$(VERSION) \
	-X github.com/mailmon/mailmon/internal/version.commit=$(COMMIT) \
	-X github.com/mailmon/mailmon/internal/version.date=$(DATE)

.PHONY: all build package package-test test-deps test check vet race allocs fuzz bench-smoke bench bench-plugin bench-daemon bench-peers soak bench-pg bench-cluster bench-apply clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/mailmon ./cmd/mailmon
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/mailmon-check ./cmd/mailmon-check

# dist/: a static binary (pure-Go SQLite, no cgo), the man page, the .deb,
# the .rpm and the container image (docker load format); packaging/README.md.
package:
	rm -rf dist
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o dist/bin/mailmon ./cmd/mailmon
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o dist/bin/mailmon-check ./cmd/mailmon-check
	$(GO) -C packaging run . -binary $(CURDIR)/dist/bin/mailmon -check-binary $(CURDIR)/dist/bin/mailmon-check -out $(CURDIR)/dist \
	  -version $(VERSION) -commit "$(COMMIT)" -date "$(DATE)"

# The packages and the image, tested: files and owners, dpkg install,
# upgrade, remove and purge in a throwaway root, the unit under
# systemd-analyze, the image run from its own files (root for the last ones).
package-test: package
	cd packaging && gofmt -l . | (! grep .) && $(GO) vet ./... && \
	  MAILMON_DIST=$(CURDIR)/dist $(GO) test -count=1 ./...

# The whole suite, as CI runs it: the Debian packages it needs (installed
# as root, else a message naming them), formatting, vet, every test with the
# race detector (real Postfix and Dovecot included), the allocation
# budgets without it, each fuzz target
# briefly, the benchmarks once, and the packages and image.
test: test-deps check race allocs fuzz bench-smoke package-test

test-deps:
	@.ci/test-deps

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

race:
	$(GO) test -race -count=1 $(PKGS)

# The allocation budgets once more without the race detector, which adds
# allocations of its own: TestScheduledTestAllocations skips its exact
# cases under -race, so a suite run with -race alone never checked them.
allocs:
	$(GO) test -count=1 -run 'Allocations$$' $(PKGS)

# Every FuzzXxx target in the tree, FUZZTIME each.
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' internal); do \
	  pkg=./$$(dirname $$f); \
	  for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=1x $$pkg; \
	  done; \
	done

# Every benchmark once (-short: at smaller sizes where a benchmark has
# them, e.g. 2,000 monitors instead of 100,000 in the SQLite scale
# benchmarks), and the peers harness for a moment, so that none
# rots unseen between the runs that measure. Against Dovecot a TLS check
# takes 0.2-0.3 s on a loaded 2-core machine (a login process per
# connection), so its window is long enough for a few.
bench-smoke: build
	$(GO) test -short -run='^$$' -bench=. -benchtime=1x $(PKGS)
	$(GO) run ./internal/bench/peers -mailmon bin/mailmon -warmup 100ms -window 300ms -real-window 1500ms -rounds 1 -strict -out $$(mktemp -d)
	$(GO) run ./internal/bench/plugin -check bin/mailmon-check -mailmon bin/mailmon -n 1 -warmup 0 -real=false -strict -out $$(mktemp -d)
	MAILMON_BENCH_PG=1 MAILMON_BENCH_MONITORS=100 MAILMON_BENCH_WINDOW=1s \
	  $(GO) test -count=1 -run '^TestBenchPG(Nodes|WriteLoad)$$' ./cmd/mailmon/

# Probe cost against a raw-socket baseline, medians of BENCHCOUNT runs,
# with the ratio table (goals: banner ≤ 1.2×, STARTTLS ≤ 1.1×).
BENCHCOUNT ?= 5
bench: bench-plugin
	$(GO) test -run='^$$' -bench=. -benchmem -count=$(BENCHCOUNT) ./internal/bench/ | $(GO) run ./internal/bench/benchtable
	$(GO) test -run='^$$' -bench=RecordTest -benchtime=100000x ./internal/store/sqlite/

# mailmon-check and "mailmon check" as plug-ins, a process per check,
# against check_smtp, check_pop and check_imap (monitoring-plugins-basic)
# on the same loopback servers, the target farm's and real Postfix/Dovecot:
# CPU and wall per check, medians of PLUGINRUNS, in one table, and where
# each side's start-up goes; writes bench/results/plugin-DATE.md. Both
# binaries are built as make package ships them (static, stripped).
PLUGINRUNS ?= 25
# The binaries are copied after the build, as an install writes them: a
# process run from the Go linker's fresh output paid 10-12 % more CPU
# than one run from a copy of the same bytes (docs/plugin.md), which
# check_smtp, installed by dpkg, never pays.
bench-plugin:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o bin/mailmon-dist.linked ./cmd/mailmon
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o bin/mailmon-check-dist.linked ./cmd/mailmon-check
	rm -f bin/mailmon-dist bin/mailmon-check-dist
	cp bin/mailmon-dist.linked bin/mailmon-dist && cp bin/mailmon-check-dist.linked bin/mailmon-check-dist
	rm bin/mailmon-dist.linked bin/mailmon-check-dist.linked
	$(GO) run ./internal/bench/plugin -check bin/mailmon-check-dist -mailmon bin/mailmon-dist -n $(PLUGINRUNS)

# The daemon at 1,000, 5,000 and 20,000 monitors (half STARTTLS with a
# ca: file) and at 100,000 (10% STARTTLS, 45% banner, 45% tcp),
# BENCHDURATION each, beside the raw socket's CPU per check (the peers
# benchmark's raw child, saturated and paced at serve's rate), with the
# apply timed and /metrics, the board and the API fetched every
# BENCHANSWEREVERY; writes bench/results/daemon-DATE.md (BENCHOUT).
# BENCHMONITORS=20000 runs one size; BENCHPROFILE=DIR keeps pprof profiles
# (the CPU one of each run's middle third; BENCHPROFILEWINDOW=first: of
# serve's first 60 s, the load and every monitor's first test;
# BENCHPROFILEWINDOW=minutes: one of each minute, SIZE-MIX-cpu-minN.pprof,
# beside a table of each minute's tests, CPU per test, system calls, GC
# cycles, heap, RSS and database size). BENCHHISTORY=60 stores 60 results
# a monitor (an hour at 60 s) before serve starts, as in a used database.
BENCHDURATION ?= 3m
BENCHMONITORS ?= 1000,5000,20000,100000:lean
BENCHPROFILE ?=
BENCHPROFILEWINDOW ?= middle
BENCHANSWEREVERY ?= 20s
BENCHHISTORY ?= 0
BENCHOUT ?= bench/results
bench-daemon: build
	$(GO) build -o bin/bench-peers ./internal/bench/peers
	$(GO) run ./internal/bench/daemon -mailmon bin/mailmon -peers bin/bench-peers -duration $(BENCHDURATION) \
	  -monitors $(BENCHMONITORS) -profile "$(BENCHPROFILE)" -profile-window $(BENCHPROFILEWINDOW) -answer-every $(BENCHANSWEREVERY) -history $(BENCHHISTORY) -out $(BENCHOUT)

# mailmon side by side with a raw socket, blackbox_exporter and the
# Monitoring Plugins (apt-get install prometheus-blackbox-exporter
# monitoring-plugins-basic), at saturation against the target farm and
# against real Postfix/Dovecot; writes bench/results/peers-DATE.md.
PEERSWINDOW ?= 10s
bench-peers: build
	$(GO) run ./internal/bench/peers -mailmon bin/mailmon -window $(PEERSWINDOW)

# SOAKMONITORS monitors for SOAKDURATION with 5% black-holed and 1% flapping
# targets; writes bench/results/soak-DATE.md and .svg.
SOAKMONITORS ?= 10000
SOAKDURATION ?= 30m
soak: build
	$(GO) run ./internal/bench/soak -mailmon bin/mailmon -monitors $(SOAKMONITORS) -duration $(SOAKDURATION)

# 1, 2 and 3 nodes on one private PostgreSQL (the test harness's): tests/s
# sustained, PostgreSQL CPU, WAL and rows per test; writes bench/results/pg-DATE.md.
BENCHPGMONITORS ?= 8000
bench-pg:
	@mkdir -p bench/results
	MAILMON_BENCH_PG=1 MAILMON_BENCH_MONITORS=$(BENCHPGMONITORS) MAILMON_BENCH_WINDOW=15s \
	  MAILMON_BENCH_OUT=$(CURDIR)/bench/results/pg-$$(date +%Y-%m-%d).md \
	  $(GO) test -count=1 -run '^TestBenchPG(Nodes|WriteLoad)$$' -timeout 20m ./cmd/mailmon/

# Several `mailmon serve` processes on one private PostgreSQL (the test
# harness's), 300 monitors at 5 s, lease 15 s: the worst per-monitor test
# gap when a node is killed (-9), joins, the monitors are rebalanced, and a
# node stops (SIGTERM); prints the table and writes
# bench/results/cluster-DATE.md. (Minutes: not in bench-smoke.)
bench-cluster:
	@mkdir -p bench/results
	MAILMON_BENCH_CLUSTER=1 MAILMON_BENCH_OUT=$(CURDIR)/bench/results/cluster-$$(date +%Y-%m-%d).md \
	  $(GO) test -count=1 -run '^TestBenchCluster$$' -timeout 20m ./cmd/mailmon/
	@cat bench/results/cluster-$$(date +%Y-%m-%d).md

# mailmon apply of generated files of 10,000, 50,000 and 100,000 monitors:
# wall and CPU seconds and peak RSS of a first apply and of a second,
# unchanged one; writes bench/results/apply-DATE.md. (bench-smoke runs
# BenchmarkApply at 1,000 monitors.)
bench-apply: build
	@mkdir -p bench/results
	$(GO) run ./internal/bench/apply -mailmon bin/mailmon -out bench/results/apply-$$(date +%Y-%m-%d).md

clean:
	rm -rf bin dist
