package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// locations: results keep the node and location that produced them, and
// LatestResults gives the newest of each location.
func locations(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "smtp")
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	rec := func(at time.Time, node, loc string, st probe.Status) {
		must(t, s.RecordTest(ctx, store.Test{
			Result: store.Result{MonitorID: m.ID, Time: at, Status: st, Node: node, Location: loc},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}, LastTest: at},
		}))
	}
	rec(t0, "n1", "fra", probe.StatusUp)
	rec(t0.Add(time.Minute), "n1", "fra", probe.StatusDown)
	rec(t0.Add(2*time.Minute), "n2", "nyc", probe.StatusUp)
	rs, err := s.Results(ctx, m.ID, t0, t0.Add(time.Hour), 10)
	if err != nil || len(rs) != 3 || rs[0].Node != "n2" || rs[0].Location != "nyc" || rs[2].Node != "n1" || rs[2].Location != "fra" {
		t.Fatalf("Results = %+v, %v", rs, err)
	}
	latest, err := s.LatestResults(ctx, m.ID, t0)
	if err != nil || len(latest) != 2 || latest[0].Location != "fra" || latest[0].Status != probe.StatusDown ||
		latest[1].Location != "nyc" || latest[1].Status != probe.StatusUp {
		t.Errorf("LatestResults = %+v, %v", latest, err)
	}
	if latest, _ := s.LatestResults(ctx, m.ID, t0.Add(90*time.Second)); len(latest) != 1 || latest[0].Location != "nyc" {
		t.Errorf("LatestResults since: %+v", latest)
	}
}

// statusVersion: a test checked against the version it read is refused
// once another test was recorded in between.
func statusVersion(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "smtp")
	at := time.Now().Truncate(time.Millisecond)
	test := func(v int64, at time.Time) store.Test {
		return store.Test{CheckVersion: true,
			Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}, LastTest: at, Version: v}}
	}
	if err := s.RecordTest(ctx, test(3, at)); !errors.Is(err, store.ErrStale) {
		t.Errorf("a version before the first test: %v", err)
	}
	must(t, s.RecordTest(ctx, test(0, at)))
	st, err := s.Status(ctx, m.ID)
	if err != nil || st.Version != 1 {
		t.Fatalf("version after one test: %+v %v", st, err)
	}
	must(t, s.RecordTest(ctx, test(1, at.Add(time.Second))))
	if err := s.RecordTest(ctx, test(1, at.Add(2*time.Second))); !errors.Is(err, store.ErrStale) {
		t.Errorf("a stale version: %v", err)
	}
	if rs, _ := s.Results(ctx, m.ID, at, at.Add(time.Minute), 10); len(rs) != 2 {
		t.Errorf("a refused test left its result: %d results", len(rs))
	}
}

// concurrentTests: tests recorded at once (the SQLite store commits them
// in groups) are each recorded, and a stale one among them is refused
// alone, leaving nothing behind, while the others stand.
func concurrentTests(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	const n = 64
	ms := make([]*store.Monitor, n)
	for i := range ms {
		ms[i] = newMonitor(t, s, d.ID, fmt.Sprint("m", i), "smtp")
	}
	at := time.Now().Truncate(time.Millisecond)
	stale := func(i int) bool { return i%16 == 5 }
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := int64(0)
			if stale(i) {
				v = 7 // no test was recorded: the version is 0
			}
			errs[i] = s.RecordTest(ctx, store.Test{CheckVersion: true,
				Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusDown, Code: probe.Code("SMTP_TIMEOUT")},
				Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Warn, Failures: 1}, LastTest: at, Version: v},
				Change: &store.StateChange{MonitorID: m.ID, Time: at, From: state.Up, To: state.Warn, Cause: "SMTP_TIMEOUT"}})
		}()
	}
	wg.Wait()
	for i, m := range ms {
		rs, err := s.Results(ctx, m.ID, at, at.Add(time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Status(ctx, m.ID)
		if stale(i) {
			if !errors.Is(errs[i], store.ErrStale) || len(rs) != 0 || !errors.Is(err, store.ErrNotFound) {
				t.Errorf("stale test %d: err %v, %d results, status %+v %v", i, errs[i], len(rs), st, err)
			}
			continue
		}
		if errs[i] != nil || len(rs) != 1 || rs[0].Code != "SMTP_TIMEOUT" || err != nil || st.Version != 1 || st.Status.State != state.Warn {
			t.Errorf("test %d: err %v, results %+v, status %+v %v", i, errs[i], rs, st, err)
		}
	}
}

// cluster: the lease and claim operations of stores shared by several
// nodes; skipped for stores that are not (SQLite).
func cluster(t *testing.T, s store.Store) {
	c, ok := s.(store.Cluster)
	if !ok {
		t.Skip("not a cluster store")
	}
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	var want []store.Lease
	for i := range 30 {
		m := newMonitor(t, s, d.ID, "m"+string(rune('a'+i)), "smtp")
		want = append(want, store.Lease{MonitorID: m.ID})
	}
	ttl := 2 * time.Second
	n1, n2 := store.Node{ID: "n1", Name: "one", Location: "fra"}, store.Node{ID: "n2", Name: "two", Location: "nyc"}
	if live, err := c.Heartbeat(ctx, n1, ttl); err != nil || len(live) != 1 || live[0].Location != "fra" {
		t.Fatalf("first heartbeat: %+v %v", live, err)
	}
	if live, err := c.Heartbeat(ctx, n2, ttl); err != nil || len(live) != 2 {
		t.Fatalf("second node: %+v %v", live, err)
	}
	if live, err := c.Nodes(ctx); err != nil || len(live) != 2 || live[1].Name != "two" || !live[1].Expires.After(time.Now().Add(-time.Second)) {
		t.Fatalf("Nodes = %+v %v", live, err)
	}

	// Two nodes acquiring at once take different leases, 10 each, and
	// none twice.
	var wg sync.WaitGroup
	got := make([][]store.Lease, 2)
	for i, n := range []string{"n1", "n2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ls, err := c.Acquire(ctx, n, want, 10)
			if err != nil {
				t.Error(err)
			}
			got[i] = ls
		}()
	}
	wg.Wait()
	if len(got[0]) != 10 || len(got[1]) != 10 {
		t.Fatalf("acquired %d and %d", len(got[0]), len(got[1]))
	}
	for _, l := range got[0] {
		if slices.Contains(got[1], l) {
			t.Errorf("lease %+v taken by both nodes", l)
		}
	}
	held, err := c.Leases(ctx, "n1")
	if err != nil || len(held) != 10 {
		t.Errorf("Leases(n1) = %d %v", len(held), err)
	}
	// Leases held by a live node are not free.
	if more, _ := c.Acquire(ctx, "n2", want, 30); len(more) != 10 {
		t.Errorf("n2 took %d more, want the 10 free ones", len(more))
	}

	// A fenced test: only the holder stores it.
	l := got[0][0]
	rec := func(node string) error {
		return s.RecordTest(ctx, store.Test{Fence: &store.Fence{Node: node, Lease: l},
			Result: store.Result{MonitorID: l.MonitorID, Time: time.Now(), Status: probe.StatusUp, Node: node},
			Status: store.Status{MonitorID: l.MonitorID, Status: state.Status{State: state.Up}, LastTest: time.Now()}})
	}
	must(t, rec("n1"))
	if err := rec("n2"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("a test by a node without the lease: %v", err)
	}

	// n1 stops heartbeating: once its heartbeat expires, its leases are
	// free, its fenced tests are refused, and its next heartbeat says so.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := c.Heartbeat(ctx, n2, ttl); err != nil {
			t.Fatal(err)
		}
		taken, err := c.Acquire(ctx, "n2", want, 30)
		if err != nil {
			t.Fatal(err)
		}
		if len(taken) == 10 {
			break
		}
		if len(taken) != 0 || time.Now().After(deadline) {
			t.Fatalf("took %d of a dead node's 10 leases", len(taken))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := rec("n1"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("a test by a node whose lease went to another: %v", err)
	}
	if _, err := c.Heartbeat(ctx, n1, ttl); !errors.Is(err, store.ErrNodeExpired) {
		t.Errorf("heartbeat after expiry: %v", err)
	}
	must(t, c.Leave(ctx, "n1"))
	if _, err := c.Heartbeat(ctx, n1, ttl); err != nil {
		t.Errorf("joining again after Leave: %v", err)
	}

	// Release and Leave give leases back.
	mine, _ := c.Leases(ctx, "n2")
	must(t, c.Release(ctx, "n2", mine[:5]))
	if back, _ := c.Acquire(ctx, "n1", want, 30); len(back) != 5 {
		t.Errorf("n1 took %d released leases, want 5", len(back))
	}
	must(t, c.Leave(ctx, "n2"))
	if back, _ := c.Acquire(ctx, "n1", want, 30); len(back) != 25 {
		t.Errorf("n1 took %d leases of a node that left, want 25", len(back))
	}

	// Notifications: two nodes claiming at once never get the same one.
	for i := range 20 {
		recordDown(t, s, want[0].MonitorID, time.Now().Add(time.Duration(i)*time.Millisecond))
	}
	claimed := make([][]store.Notification, 2)
	for i, n := range []string{"n1", "n2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns, err := c.ClaimNotifications(ctx, n, time.Minute, 15)
			if err != nil {
				t.Error(err)
			}
			claimed[i] = ns
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, ns := range claimed {
		for _, n := range ns {
			if seen[n.ID] {
				t.Errorf("notification %d claimed twice", n.ID)
			}
			seen[n.ID] = true
		}
	}
	if len(seen) != 20 {
		t.Errorf("claimed %d of 20", len(seen))
	}
	if again, _ := c.ClaimNotifications(ctx, "n1", time.Minute, 100); len(again) != 0 {
		t.Errorf("claimed notifications claimed again: %d", len(again))
	}
	must(t, c.Unclaim(ctx, []int64{claimed[0][0].ID}))
	if again, _ := c.ClaimNotifications(ctx, "n2", time.Minute, 100); len(again) != 1 || again[0].ID != claimed[0][0].ID {
		t.Errorf("an unclaimed notification: %+v", again)
	}
}
