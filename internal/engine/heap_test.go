package engine

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/wire"
)

// heapProfile is a directory where TestLoadHeapPerMonitor writes each
// mix's heap profile (every allocation sampled) with its monitors loaded
// and tested: go tool pprof -sample_index=inuse_space.
var heapProfile = flag.String("heap.profile", "", "directory for TestLoadHeapPerMonitor's heap profiles")

// heapBudget is the live heap, the number of heap objects and the bytes
// of them the collector scans for pointers that a monitor may keep once
// loaded, and once it has also been tested (its status, what /metrics
// keeps of its last result, its counts of tests), for a mix of the daemon
// benchmark: set from the figures measured with ~6-10% headroom (objects
// none: the figure is the whole number below the mean), so that a
// monitor that grows by an object or ~60 B fails here, not in production.
type heapBudget struct {
	loaded, tested         int64 // bytes
	loadedObjs, testedObjs int64
	loadedScan, testedScan int64 // bytes
}

// TestLoadHeapPerMonitor loads 2,000 monitors from SQLite (the ca mix: half
// smtp with STARTTLS and the same ca: file; the lean mix), tests each once
// with a prober that does nothing, and holds the live heap and heap
// objects they keep to a per-monitor budget; the CA file is read and
// parsed once for all of them. Not timed: the figures are bytes and
// objects after a GC, the same on any machine.
func TestLoadHeapPerMonitor(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 2,000 monitors")
	}
	for _, c := range []struct {
		name   string
		mix    monitorMix
		budget heapBudget
	}{
		// Measured 623 B / 4 objects / 547 B scanned loaded, 902 B / 5 /
		// 826 B tested (ca; lean 613 / 4 / 544, 891 / 5 / 819). Main
		// (e50b579): 1,777 / 8 / 1,612 and 2,170 / 10 / 2,000 (ca; lean
		// 1,727 / 7 / 1,609, 2,118 / 9 / 2,000): an entry with a
		// store.Monitor and a probe.Config of its own, /metrics a
		// *probe.Result, a clamp's message a monitor (80 B and an
		// object), a job's time.Time (63 B scanned).
		{"ca", caMix, heapBudget{loaded: 680, tested: 960, loadedObjs: 4, testedObjs: 5, loadedScan: 600, testedScan: 880}},
		{"lean", leanMix, heapBudget{loaded: 680, tested: 960, loadedObjs: 4, testedObjs: 5, loadedScan: 600, testedScan: 880}},
	} {
		t.Run(c.name, func(t *testing.T) { testHeapPerMonitor(t, c.mix, c.budget) })
	}
}

func testHeapPerMonitor(t *testing.T, mix monitorMix, budget heapBudget) {
	if *heapProfile != "" {
		rate := runtime.MemProfileRate
		runtime.MemProfileRate = 1
		defer func() { runtime.MemProfileRate = rate }()
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "heap.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 2000
	mixMonitors(t, st, 1, n, certs.NewCA(t).File(t), mix)
	noop := func(context.Context, *probe.Config, *probe.Trace) error { return nil }

	parses := wire.CAParses()
	before := liveHeap()
	// serve as the daemon benchmark runs it (--min-interval 1m): every
	// monitor's down_every is raised, a clamp kept for each.
	e := New(Options{Store: st, Probers: func(string) (probe.Prober, bool) { return noop, true },
		Timing: config.TimingLimits{MinInterval: time.Minute}})
	must(t, e.Load(ctx))
	loaded := liveHeap()
	if len(e.clamped) != n {
		t.Fatalf("%d monitors' timing clamped, want %d", len(e.clamped), n)
	}

	for id, en := range e.monitors {
		if en.err != nil {
			t.Fatalf("monitor %d: %v", id, en.err)
		}
	}
	if len(e.monitors) != n {
		t.Fatalf("%d monitors loaded, want %d", len(e.monitors), n)
	}
	ids := make([]int64, 0, n)
	for id := range e.monitors {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		e.test(ctx, id, time.Now().Add(time.Minute))
	}
	tested := liveHeap()
	if *heapProfile != "" {
		writeHeapProfile(t, filepath.Join(*heapProfile, filepath.Base(t.Name())+".pprof"))
	}
	runtime.KeepAlive(e)
	if len(e.tested) != n {
		t.Fatalf("%d monitors tested, want %d", len(e.tested), n)
	}

	check := func(what string, got heap, bytes, objs, scan int64) {
		t.Helper()
		b, o, sc := got.per(before, n)
		t.Logf("%s: %d B and %d heap objects a monitor, %d B of it scanned for pointers (%d monitors, %d KiB in all)",
			what, b, o, sc, n, (int64(got.bytes)-int64(before.bytes))/1024)
		if b > bytes {
			t.Errorf("a monitor %s keeps %d B of live heap, over the budget of %d B", what, b, bytes)
		}
		if o > objs {
			t.Errorf("a monitor %s keeps %d heap objects, over the budget of %d", what, o, objs)
		}
		if sc > scan {
			t.Errorf("a monitor %s keeps %d B the collector scans, over the budget of %d B", what, sc, scan)
		}
	}
	check("loaded", loaded, budget.loaded, budget.loadedObjs, budget.loadedScan)
	check("loaded and tested", tested, budget.tested, budget.testedObjs, budget.testedScan)
	if got := wire.CAParses() - parses; got != 1 {
		t.Errorf("one ca: file for the monitors was parsed %d times, want once", got)
	}
}

// heap is the live heap's bytes and objects, and the bytes of it the
// collector scans for pointers (the heap's part of its mark work).
type heap struct{ bytes, objects, scan uint64 }

// per is what h holds over base, a monitor of n.
func (h heap) per(base heap, n int) (bytes, objects, scan int64) {
	d := func(a, b uint64) int64 { return (int64(a) - int64(b)) / int64(n) }
	return d(h.bytes, base.bytes), d(h.objects, base.objects), d(h.scan, base.scan)
}

// liveHeap is the heap in use after a full collection.
func liveHeap() heap {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	scan := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
	metrics.Read(scan)
	return heap{m.HeapAlloc, m.HeapObjects, scan[0].Value.Uint64()}
}

func writeHeapProfile(t *testing.T, path string) {
	t.Helper()
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Fatal(err)
	}
}
