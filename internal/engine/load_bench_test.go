package engine

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/store/storetest"
	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// loadMonitors is BenchmarkLoad's size: 5,000 by default (make
// bench-smoke runs every benchmark once); the sizes with
// go test -run '^$' -bench Load ./internal/engine -load.monitors 100000.
var loadMonitors = flag.Int("load.monitors", 5000, "monitors BenchmarkLoad loads (a multiple of 100)")

// BenchmarkLoad loads -load.monitors smtp monitors never tested (devices
// of 100, half STARTTLS with one ca: file) from SQLite, as serve does at
// start before it listens, and reports the CPU per monitor loaded.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "load.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	devices := max(*loadMonitors/100, 1)
	smtpMonitors(b, st, devices, 100, certs.NewCA(b).File(b))
	if *loadTested {
		testOnce(b, st)
	}
	noop := func(context.Context, *probe.Config, *probe.Trace) error { return nil }
	perUnit(b, "monitor", devices*100, func() {
		e := New(Options{Store: st, Probers: func(string) (probe.Prober, bool) { return noop, true }})
		if err := e.Load(ctx); err != nil {
			b.Fatal(err)
		}
	})
}

// perUnit runs op b.N times and reports the process's CPU (a database's
// in it included) and the allocations per unit, n units an op.
func perUnit(b *testing.B, unit string, n int, op func()) {
	b.ReportAllocs()
	var mem0, mem1 runtime.MemStats
	runtime.ReadMemStats(&mem0)
	cpu0 := storetest.CPUTime()
	b.ResetTimer()
	for range b.N {
		op()
	}
	b.StopTimer()
	b.ReportMetric(float64((storetest.CPUTime()-cpu0).Microseconds())/float64(b.N*n), "cpu-µs/"+unit)
	runtime.ReadMemStats(&mem1)
	b.ReportMetric(float64(mem1.Mallocs-mem0.Mallocs)/float64(b.N*n), "allocs/"+unit)
}

// smtpMonitors stores devices × per smtp monitors in st, tested every
// minute, every second one with STARTTLS verified against the ca: file ca
// (the benchmark's "ca" mix).
func smtpMonitors(tb testing.TB, st store.Store, devices, per int, ca string) {
	tb.Helper()
	mixMonitors(tb, st, devices, per, ca, caMix)
}

// A monitor mix of the daemon benchmark (internal/bench/daemon): which
// kind the i-th monitor of a device is.
type monitorMix func(i int) monitorKind

type monitorKind int

const (
	smtpBanner monitorKind = iota
	smtpSTARTTLS
	tcpConnect
)

// caMix is half smtp banners, half STARTTLS with a ca: file; leanMix is
// the 100,000-monitor goal's: 10% STARTTLS, 45% smtp banners, 45% tcp.
var (
	caMix   monitorMix = func(i int) monitorKind { return monitorKind(i % 2) }
	leanMix monitorMix = func(i int) monitorKind {
		switch j := i % 100; {
		case j < 10:
			return smtpSTARTTLS
		case j < 55:
			return smtpBanner
		}
		return tcpConnect
	}
)

// mixMonitors stores devices × per monitors of mix in st, tested every
// minute, those with STARTTLS verified against the ca: file ca.
func mixMonitors(tb testing.TB, st store.Store, devices, per int, ca string, mix monitorMix) {
	tb.Helper()
	ctx := context.Background()
	timing := config.Timing{MaxDuration: config.Duration(10 * time.Second), UpEvery: config.Duration(time.Minute)}
	specs := map[monitorKind]json.RawMessage{}
	specs[smtpBanner], _ = json.Marshal(config.Monitor{Port: 25, EHLO: "bench", Timing: timing})
	specs[smtpSTARTTLS], _ = json.Marshal(config.Monitor{Port: 25, EHLO: "bench", TLS: "starttls", CA: ca, ServerName: "localhost", Timing: timing})
	specs[tcpConnect], _ = json.Marshal(config.Monitor{Port: 25, Timing: timing})
	// One transaction (100,000 monitors stored one by one take minutes).
	err := store.Batch(ctx, st, func(c store.Config) error {
		for d := range devices {
			dev := &store.Device{Name: fmt.Sprint("device", d), Address: "127.0.0.1"}
			if err := c.PutDevice(ctx, dev); err != nil {
				return err
			}
			for i := range per {
				k, typ := mix(i), "smtp"
				if k == tcpConnect {
					typ = "tcp"
				}
				if err := c.PutMonitor(ctx, &store.Monitor{DeviceID: dev.ID, Name: fmt.Sprint(typ, i), Type: typ, Enabled: true, Spec: specs[k]}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}
