package engine

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/wire"
)

// heapPerMonitor is the live heap a loaded smtp monitor may keep (half of
// them STARTTLS with one ca: file): measured at 1,634 B (2,682 B while an
// entry kept the whole config.Monitor, store.Device and spec JSON; 3,133 B
// while each monitor parsed its own CA pool), set with ~30% headroom, so
// that a monitor that grows fails here, not in production.
const heapPerMonitor = 2100

// TestLoadHeapPerMonitor loads 2,000 smtp monitors from SQLite, half with
// STARTTLS and the same ca: file, and holds the live heap they keep to a
// per-monitor budget; the CA file is read and parsed once for all of them.
// Not timed: the figure is bytes after a GC, the same on any machine.
func TestLoadHeapPerMonitor(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 2,000 monitors")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "heap.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 2000
	smtpMonitors(t, st, 1, n, certs.NewCA(t).File(t))
	noop := func(context.Context, *probe.Config, *probe.Trace) error { return nil }

	parses := wire.CAParses()
	before := liveHeap()
	e := New(Options{Store: st, Probers: func(string) (probe.Prober, bool) { return noop, true }})
	must(t, e.Load(ctx))
	after := liveHeap()
	runtime.KeepAlive(e)

	for id, en := range e.monitors {
		if en.err != nil {
			t.Fatalf("monitor %d: %v", id, en.err)
		}
	}
	if len(e.monitors) != n {
		t.Fatalf("%d monitors loaded, want %d", len(e.monitors), n)
	}
	per := (int64(after) - int64(before)) / n
	t.Logf("live heap per loaded monitor: %d B (%d monitors, %d KiB in all)", per, n, (int64(after)-int64(before))/1024)
	if per > heapPerMonitor {
		t.Errorf("a loaded monitor keeps %d B of live heap, over the budget of %d B", per, heapPerMonitor)
	}
	if got := wire.CAParses() - parses; got != 1 {
		t.Errorf("one ca: file for %d monitors was parsed %d times, want once", n/2, got)
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
