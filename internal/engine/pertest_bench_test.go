package engine

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/bench/farm"
	"github.com/mailmon/mailmon/internal/bench/procstat"
	"github.com/mailmon/mailmon/internal/bench/rawcheck"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// dropTests is a store whose RecordTest keeps nothing: the benchmarks
// below measure the engine's own work per test, not the store's.
type dropTests struct{ store.Store }

func (dropTests) RecordTest(context.Context, store.Test) error { return nil }

// encodeTests is a store whose RecordTest encodes the test's results as
// the SQL stores do (the status' last result every test, the stored
// detail of a failed or warned one) and keeps the bytes in memory: the
// encoding is part of a test's garbage, the database's own work is not.
type encodeTests struct {
	store.Store
	last, detail []byte
}

func (s *encodeTests) RecordTest(_ context.Context, t store.Test) error {
	var err error
	if r := t.Status.LastResult; r != nil {
		if s.last, err = r.MarshalJSON(); err != nil {
			return err
		}
	}
	if r := t.Result.Detail; r != nil && t.Result.Status != probe.StatusUp {
		s.detail, err = r.MarshalJSON()
	}
	return err
}

// BenchmarkTestPath runs one test of each kind the daemon runs most (tcp,
// smtp banner + EHLO, smtp STARTTLS with a ca: file, with Go's default key
// exchange and with tls_key_exchange x25519) against an in-process
// SMTP responder three ways: rawcheck's socket client (the baseline), the
// probe alone (probe.Run) and the engine's whole test path (Engine.test:
// probe, state machine, record, events) with a store that drops the
// result; engine+store: the same with a store that encodes the results as
// the SQL stores do, under the scheduler's limit, as a scheduled test
// runs); engine+sqlite: the same recording into the SQLite store itself,
// so that -memprofile names every allocation of a scheduled test's path,
// the store's RecordTest and database/sql's included). Besides allocations it reports goroutines started per test
// (the responder's one per connection included, in every row alike).
func BenchmarkTestPath(b *testing.B) {
	ca := certs.NewCA(b)
	caFile := ca.File(b)
	plain, secure := farm.StartSMTP(b, nil), farm.StartSMTP(b, ca)
	rawTLS := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
	// starttls-x25519: tls_key_exchange x25519 (X25519 alone, not Go's
	// default hybrid post-quantum share), its raw row alike.
	rawX25519 := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1", CurvePreferences: []tls.CurveID{tls.X25519}}

	cases := []struct {
		name, typ, mode string
		srv             *farm.Server
		spec            config.Monitor
		raw             *tls.Config
	}{
		{"tcp", "tcp", "none", plain, config.Monitor{Port: plain.Port()}, rawTLS},
		{"banner", "smtp", "none", plain, config.Monitor{Port: plain.Port(), EHLO: "bench"}, rawTLS},
		{"starttls", "smtp", "starttls", secure, config.Monitor{Port: secure.Port(), EHLO: "bench", TLS: "starttls", CA: caFile}, rawTLS},
		{"starttls-x25519", "smtp", "starttls", secure, config.Monitor{Port: secure.Port(), EHLO: "bench", TLS: "starttls", CA: caFile, KeyExchange: "x25519"}, rawX25519},
	}
	ctx := context.Background()
	for _, c := range cases {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(c.srv.Port()))
		b.Run(c.name+"/raw", func(b *testing.B) {
			procstat.PerOp(b, func() error { return rawcheck.Run(c.typ, c.mode, addr, c.raw) })
		})
		e, id := benchEngine(b, c.typ, c.spec, func(st store.Store) store.Store { return dropTests{st} })
		en := e.monitors[id]
		k, _ := kinds.Lookup(c.typ)
		k.Probe, _ = e.o.Probers(c.typ)
		b.Run(c.name+"/probe", func(b *testing.B) {
			procstat.PerOp(b, func() error { return upOrErr(probe.Run(ctx, k, en.config())) })
		})
		b.Run(c.name+"/engine", func(b *testing.B) {
			procstat.PerOp(b, func() error {
				e.test(ctx, id, time.Time{})
				e.mu.Lock()
				defer e.mu.Unlock()
				return lastUpOrErr(e.tested[id].last)
			})
		})
		for _, row := range []struct {
			name string
			wrap func(store.Store) store.Store
		}{
			{"engine+store", func(st store.Store) store.Store { return &encodeTests{Store: st} }},
			{"engine+sqlite", func(st store.Store) store.Store { return st }},
		} {
			es, sid := benchEngine(b, c.typ, c.spec, row.wrap)
			b.Run(c.name+"/"+row.name, func(b *testing.B) { procstat.PerOp(b, scheduledTest(es, sid)) })
		}
	}
}

// scheduledTest runs one test of monitor id as the scheduler does: by the
// scheduler's deadline (its start plus the limit, engine.place), the
// result recorded.
func scheduledTest(e *Engine, id int64) func() error {
	limit := e.monitors[id].spec.Timing.MaxDuration.D() + 5*time.Second
	return func() error {
		e.test(context.Background(), id, time.Now().Add(limit))
		e.mu.Lock()
		defer e.mu.Unlock()
		return lastUpOrErr(e.tested[id].last)
	}
}

func upOrErr(r *probe.Result) error {
	if r == nil || r.Status != probe.StatusUp {
		b, _ := json.Marshal(r)
		return &benchError{string(b)}
	}
	return nil
}

func lastUpOrErr(r LastTest) error {
	if r.Status != probe.StatusUp {
		b, _ := json.Marshal(r)
		return &benchError{string(b)}
	}
	return nil
}

type benchError struct{ s string }

func (e *benchError) Error() string { return e.s }

// benchEngine is an engine with one loaded monitor of typ on 127.0.0.1,
// recording through wrap(the SQLite store).
func benchEngine(b testing.TB, typ string, spec config.Monitor, wrap func(store.Store) store.Store) (*Engine, int64) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	d := &store.Device{Name: "d", Address: "127.0.0.1"}
	if err := st.PutDevice(ctx, d); err != nil {
		b.Fatal(err)
	}
	spec.Timing = config.Timing{MaxDuration: config.Duration(5 * time.Second), UpEvery: config.Duration(time.Hour)}
	js, _ := json.Marshal(spec)
	m := &store.Monitor{DeviceID: d.ID, Name: typ, Type: typ, Enabled: true, Spec: js}
	if err := st.PutMonitor(ctx, m); err != nil {
		b.Fatal(err)
	}
	e := New(Options{Store: wrap(st)})
	if err := e.Load(ctx); err != nil {
		b.Fatal(err)
	}
	if en := e.monitors[m.ID]; en == nil || en.err != nil {
		b.Fatalf("monitor not loaded: %+v", en)
	}
	return e, m.ID
}

// TestScheduledTestAllocations: a scheduled test, its result recorded,
// allocates at most what it did once cut (the in-process responder's own
// allocations included, and for STARTTLS its TLS handshake's), with the
// results encoded as the stores encode them (encode) and recorded by the
// SQLite store itself (sqlite: database/sql's and the driver's included):
//   - banner, encode: 114 before the trace became one allocation, its
//     details were handed over and the result's JSON appended without
//     reflection; 96 after; 91 once a reply's first lines were kept in
//     the Reply and the EHLO keywords in one slice rather than a map and
//     a list;
//   - starttls, encode (a ca: file): 945 before those last two, 936 after.
//     Most are crypto/tls's, the client's and the responder's handshake
//     (~85% by pprof -sample_index=alloc_objects, docs/performance.md),
//     so a new Go release may move the count either way: measure it
//     again then;
//   - sqlite: tcp 117 allocations (10,692 bytes), banner 143 (12,714),
//     starttls 990 (135,716) before RecordTest bound its JSON without
//     copying it into strings and encoded a failed result once; 115
//     (10,277), 141 (11,945), 987 (134,372) after; tcp 9,893 bytes once
//     its trace was sized to the check (probe.smallTrace);
//   - every kind, 2 to 3 allocations and ~250 bytes fewer once the
//     scheduler gave a test its deadline rather than a context and the
//     engine ran the probe and the recording each under a context of its
//     own, not the probe's nested in the limit's (no children map):
//     banner/encode 91 → 88, starttls/encode 936 → 933; sqlite tcp 117
//     (10,012 bytes) → 115 (9,757), banner 143 (12,059) → 141 (11,802),
//     starttls 989 (134,493) → 987 (134,228–134,344).
func TestScheduledTestAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("real SMTP conversations over loopback")
	}
	ca := certs.NewCA(t)
	plain, secure := farm.StartSMTP(t, nil), farm.StartSMTP(t, ca)
	encode := func(st store.Store) store.Store { return &encodeTests{Store: st} }
	sqlite := func(st store.Store) store.Store { return st }
	for _, c := range []struct {
		name, typ string
		spec      config.Monitor
		wrap      func(store.Store) store.Store
		budget    float64 // allocations
		bytes     float64 // bytes allocated (0: not checked)
		race      bool    // the budget holds under the race detector too
	}{
		{"banner/encode", "smtp", config.Monitor{Port: plain.Port(), EHLO: "bench"}, encode, 88, 0, true},
		{"starttls/encode", "smtp", config.Monitor{Port: secure.Port(), EHLO: "bench", TLS: "starttls", CA: ca.File(t)}, encode, 934, 0, false},
		{"tcp/sqlite", "tcp", config.Monitor{Port: plain.Port()}, sqlite, 115, 9800, false},
		{"banner/sqlite", "smtp", config.Monitor{Port: plain.Port(), EHLO: "bench"}, sqlite, 141, 11850, false},
		{"starttls/sqlite", "smtp", config.Monitor{Port: secure.Port(), EHLO: "bench", TLS: "starttls", CA: ca.File(t)}, sqlite, 987, 134400, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if raceEnabled && !c.race {
				t.Skip("the race detector adds allocations (crypto/tls's, database/sql's)")
			}
			e, id := benchEngine(t, c.typ, c.spec, c.wrap)
			test := scheduledTest(e, id)
			run := func() {
				if err := test(); err != nil {
					t.Fatal(err)
				}
			}
			run() // the first test creates the status
			if n := testing.AllocsPerRun(50, run); n > c.budget {
				t.Errorf("%v allocations per scheduled %s test, want at most %v", n, c.name, c.budget)
			} else {
				t.Logf("%v allocations per scheduled %s test (budget %v)", n, c.name, c.budget)
			}
			if c.bytes == 0 {
				return
			}
			if n := bytesPerRun(50, run); n > c.bytes {
				t.Errorf("%.0f bytes allocated per scheduled %s test, want at most %v", n, c.name, c.bytes)
			} else {
				t.Logf("%.0f bytes allocated per scheduled %s test (budget %v)", n, c.name, c.bytes)
			}
		})
	}
}

// bytesPerRun is testing.AllocsPerRun's count in bytes: the bytes
// allocated by runs of f, on average, after a warm-up run.
func bytesPerRun(runs int, f func()) float64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}
