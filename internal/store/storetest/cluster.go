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

	// Two first tests at once, both checked against "no status yet": one
	// is stored, the other refused (no row exists to lock while reading).
	for round := range 5 {
		m := newMonitor(t, s, d.ID, fmt.Sprint("first", round), "smtp")
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tt := test(0, at.Add(time.Duration(i)*time.Millisecond))
				tt.Result.MonitorID, tt.Status.MonitorID = m.ID, m.ID
				errs[i] = s.RecordTest(ctx, tt)
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), store.ErrStale) {
			t.Errorf("two first tests at once: %v", errs)
		}
		if st, err := s.Status(ctx, m.ID); err != nil || st.Version != 1 {
			t.Errorf("after two first tests at once: %+v %v", st, err)
		}
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
	// (A claim holds while its node lives: n2 left, so it comes back.)
	join(t, c, n1, n2)
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
	var first int64 // a claimed notification, and its claimer
	var firstBy string
	for i, ns := range claimed {
		for _, n := range ns {
			if seen[n.ID] {
				t.Errorf("notification %d claimed twice", n.ID)
			}
			seen[n.ID], first, firstBy = true, n.ID, []string{"n1", "n2"}[i]
		}
	}
	// Claims are per action (the oldest limit of each): two claimers of
	// one action's backlog at the same moment may leave some of it to
	// the next claim, which takes what is left and nothing claimed.
	again, _ := c.ClaimNotifications(ctx, "n1", time.Minute, 100)
	for _, n := range again {
		if seen[n.ID] {
			t.Errorf("notification %d claimed again while its claim holds", n.ID)
		}
		seen[n.ID] = true
	}
	if len(seen) != 20 || first == 0 {
		t.Errorf("claimed %d of 20", len(seen))
		return
	}
	if more, _ := c.ClaimNotifications(ctx, "n2", time.Minute, 100); len(more) != 0 {
		t.Errorf("claimed notifications claimed again: %d", len(more))
	}
	must(t, c.Unclaim(ctx, firstBy, []int64{first}))
	if again, _ := c.ClaimNotifications(ctx, "n2", time.Minute, 100); len(again) != 1 || again[0].ID != first {
		t.Errorf("an unclaimed notification: %+v", again)
	}
}

// handover: a node that is leaving says so; leases are counted by node
// and class, and handed from one node to another (only those the giver
// holds).
func handover(t *testing.T, s store.Store) {
	c, d := clusterOf(t, s)
	var plain, located []store.Lease
	for i := range 6 {
		m := newMonitor(t, s, d.ID, fmt.Sprint("m", i), "smtp")
		plain = append(plain, store.Lease{MonitorID: m.ID})
		located = append(located, store.Lease{MonitorID: m.ID, Location: "fra"})
	}
	n1, n2 := store.Node{ID: "n1", Name: "one", Location: "fra"}, store.Node{ID: "n2", Name: "two", Location: "fra"}
	join(t, c, n1, n2)
	if got, err := c.Acquire(ctx, "n1", append(plain, located[:2]...), 10); err != nil || len(got) != 8 {
		t.Fatalf("acquired %v %v", got, err)
	}
	counts := func() map[string]int {
		t.Helper()
		cs, err := c.LeaseCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, x := range cs {
			out[x.Node+"/"+x.Location] = x.N
		}
		return out
	}
	if got := counts(); len(got) != 2 || got["n1/"] != 6 || got["n1/fra"] != 2 {
		t.Errorf("LeaseCounts = %v", got)
	}
	// n2 is handed two plain leases and one at fra; a lease n1 does not
	// hold is not moved.
	must(t, c.Handover(ctx, "n1", "n2", []store.Lease{plain[0], plain[1], located[0], located[4]}))
	if got := counts(); got["n1/"] != 4 || got["n1/fra"] != 1 || got["n2/"] != 2 || got["n2/fra"] != 1 || len(got) != 4 {
		t.Errorf("LeaseCounts after a handover = %v", got)
	}
	ls, err := c.Leases(ctx, "n2")
	if err != nil || !slices.Equal(ls, []store.Lease{plain[0], located[0], plain[1]}) && !slices.Equal(ls, []store.Lease{located[0], plain[0], plain[1]}) &&
		len(ls) != 3 {
		t.Errorf("n2 holds %v %v", ls, err)
	}
	if more, _ := c.Acquire(ctx, "n2", located[4:], 1); len(more) != 1 {
		t.Errorf("a lease not handed over is still free: took %v", more)
	}
	// A node that is leaving says so with its heartbeat.
	n1.Leaving = true
	live, err := c.Heartbeat(ctx, n1, time.Minute)
	if err != nil || len(live) != 2 || !live[0].Leaving || live[1].Leaving {
		t.Errorf("a leaving node: %+v %v", live, err)
	}
}

// deadClaims: a node's claims hold while its heartbeat does; once it
// expires, another node takes them over, without waiting out the claim's
// hold: marked Reclaimed those whose send had begun, not those it never
// began (a node killed before it sent); claims ended by Unclaim are not
// Reclaimed.
func deadClaims(t *testing.T, s store.Store) {
	c, d := clusterOf(t, s)
	m := newMonitor(t, s, d.ID, "m", "smtp")
	for i := range 5 {
		recordDown(t, s, m.ID, time.Now().Add(time.Duration(i)*time.Millisecond))
	}
	dying, other := store.Node{ID: "dying", Name: "dying"}, store.Node{ID: "other", Name: "other"}
	if _, err := c.Heartbeat(ctx, dying, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Heartbeat(ctx, other, time.Minute); err != nil {
		t.Fatal(err)
	}
	held, err := c.ClaimNotifications(ctx, "dying", time.Hour, 4)
	if err != nil || len(held) != 4 {
		t.Fatalf("claimed %d %v", len(held), err)
	}
	for _, n := range held {
		if n.Reclaimed {
			t.Errorf("a first claim is marked Reclaimed: %+v", n)
		}
	}
	must(t, c.Unclaim(ctx, "dying", []int64{held[3].ID}))
	// It begins to send two of its three; the third it never begins.
	must(t, c.BeginNotification(ctx, "dying", held[0].ID))
	must(t, c.BeginNotification(ctx, "dying", held[1].ID))
	got, err := c.ClaimNotifications(ctx, "other", time.Hour, 10)
	if err != nil || len(got) != 2 || got[0].Reclaimed || got[1].Reclaimed {
		t.Fatalf("while the node lives, its claims hold: took %+v %v", got, err)
	}
	must(t, c.Unclaim(ctx, "other", []int64{got[0].ID, got[1].ID}))
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err = c.ClaimNotifications(ctx, "other", time.Hour, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 2 || time.Now().After(deadline) {
			break
		}
		must(t, c.Unclaim(ctx, "other", ids(got)))
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 5 {
		t.Fatalf("took %d of 5 once the claiming node died (its claims held an hour)", len(got))
	}
	var reclaimed []int64
	for _, n := range got {
		if n.Reclaimed {
			reclaimed = append(reclaimed, n.ID)
		}
	}
	if want := []int64{held[0].ID, held[1].ID}; !slices.Equal(reclaimed, want) {
		t.Errorf("Reclaimed %v, want %v: the dead node's two whose send began, not its third", reclaimed, want)
	}
}

// ownClaims: only a node whose heartbeat is fresh claims, and a node ends
// only its own claims. A node whose heartbeat expired while it held a
// claim (a loaded machine), and that then gives back what it had claimed,
// must not end the claim of the node that took the notification over and
// is delivering it: a third node would claim it as new and deliver it
// again, not marked a late resend.
func ownClaims(t *testing.T, s store.Store) {
	c, d := clusterOf(t, s)
	m := newMonitor(t, s, d.ID, "m", "smtp")
	at := time.Now()
	recordDown(t, s, m.ID, at)
	late := store.Node{ID: "late", Name: "late"}
	if _, err := c.Heartbeat(ctx, late, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	held, err := c.ClaimNotifications(ctx, "late", time.Hour, 10)
	if err != nil || len(held) != 1 || held[0].Reclaimed {
		t.Fatalf("the late node claimed %+v %v, want the one, as new", held, err)
	}
	waitExpired(t, c, "late")
	join(t, c, store.Node{ID: "taker", Name: "taker"}, store.Node{ID: "third", Name: "third"})
	taken, err := c.ClaimNotifications(ctx, "taker", time.Hour, 10)
	if err != nil || len(taken) != 1 || taken[0].Reclaimed || taken[0].ID != held[0].ID {
		t.Fatalf("the taker claimed %+v %v, want the late node's, not Reclaimed (its send never began)", taken, err)
	}
	// The late node gives back what it had claimed: the taker's claim stays.
	must(t, c.Unclaim(ctx, "late", ids(held)))
	if got, err := c.ClaimNotifications(ctx, "third", time.Hour, 10); err != nil || len(got) != 0 {
		t.Errorf("a third node claimed %d (%v) the taker is delivering, want none", len(got), err)
	}
	must(t, c.Unclaim(ctx, "taker", ids(taken)))
	if got, err := c.ClaimNotifications(ctx, "third", time.Hour, 10); err != nil || len(got) != 1 || got[0].Reclaimed {
		t.Errorf("the third node claimed %+v (%v) of what the taker gave back, want it, not Reclaimed", got, err)
	}

	// A node whose heartbeat expired, or that never heartbeated, claims
	// nothing: its claim would hold for no one.
	recordDown(t, s, m.ID, at.Add(time.Millisecond))
	for _, n := range []string{"late", "unborn"} {
		if got, err := c.ClaimNotifications(ctx, n, time.Hour, 10); err != nil || len(got) != 0 {
			t.Errorf("%s claimed %d (%v), want none", n, len(got), err)
		}
	}
}

// ownMarks: a delivery's mark applies while its node holds the claim. A
// node whose heartbeat lapsed during its attempt, and whose notification
// another node took over, sent and marked sent, must not set it back to
// pending (a third delivery would follow) nor begin another send; the
// node that holds the claim marks a failed attempt and then the sent one.
func ownMarks(t *testing.T, s store.Store) {
	c, d := clusterOf(t, s)
	m := newMonitor(t, s, d.ID, "m", "smtp")
	at := time.Now().Truncate(time.Millisecond)
	recordDown(t, s, m.ID, at)
	if _, err := c.Heartbeat(ctx, store.Node{ID: "slow", Name: "slow"}, time.Second); err != nil {
		t.Fatal(err)
	}
	held, err := c.ClaimNotifications(ctx, "slow", time.Hour, 10)
	if err != nil || len(held) != 1 {
		t.Fatalf("the slow node claimed %d %v, want 1", len(held), err)
	}
	must(t, c.BeginNotification(ctx, "slow", held[0].ID))
	waitExpired(t, c, "slow")
	join(t, c, store.Node{ID: "taker", Name: "taker"})
	taken, err := c.ClaimNotifications(ctx, "taker", time.Hour, 10)
	if err != nil || len(taken) != 1 || !taken[0].Reclaimed {
		t.Fatalf("the taker claimed %+v %v, want the slow node's, Reclaimed", taken, err)
	}
	if err := c.BeginNotification(ctx, "slow", held[0].ID); !errors.Is(err, store.ErrNotClaimed) {
		t.Errorf("the slow node began a send of the taker's claim: %v, want ErrNotClaimed", err)
	}
	must(t, c.BeginNotification(ctx, "taker", taken[0].ID))
	// The taker fails once, then delivers: its marks apply.
	must(t, s.MarkNotification(ctx, taken[0].ID, "taker", store.NotifyPending, 1, "refused", at))
	must(t, s.MarkNotification(ctx, taken[0].ID, "taker", store.NotifySent, 2, "", at))
	// The slow node's attempt fails now: its mark does not apply.
	if err := s.MarkNotification(ctx, held[0].ID, "slow", store.NotifyPending, 1, "timeout", at); !errors.Is(err, store.ErrNotClaimed) {
		t.Errorf("the slow node's mark over the taker's claim: %v, want ErrNotClaimed", err)
	}
	if log, _ := s.Notifications(ctx, m.ID, 10); len(log) != 1 || log[0].Status != store.NotifySent || log[0].Attempts != 2 {
		t.Errorf("alert log = %+v, want the taker's sent, attempt 2", log)
	}
	if p, _ := s.PendingNotifications(ctx, 10); len(p) != 0 {
		t.Errorf("pending again: %+v", p)
	}
	// A node may not begin a send of what is not pending any more.
	if err := c.BeginNotification(ctx, "taker", taken[0].ID); !errors.Is(err, store.ErrNotClaimed) {
		t.Errorf("a send of a notification sent began again: %v, want ErrNotClaimed", err)
	}
}

// waitExpired waits for node's heartbeat to expire.
func waitExpired(t *testing.T, c store.Cluster, node string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		live, err := c.Nodes(ctx)
		must(t, err)
		if !slices.ContainsFunc(live, func(n store.Node) bool { return n.ID == node }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's heartbeat did not expire", node)
		}
	}
}

// claimsPerAction: a claim takes the oldest of each action, so that an
// action with a backlog of 100 hides no other's notification, newer than
// all of them, from the first round.
func claimsPerAction(t *testing.T, s store.Store) {
	c, d := clusterOf(t, s)
	m := newMonitor(t, s, d.ID, "m", "smtp")
	join(t, c, store.Node{ID: "n1", Name: "n1"})
	at := time.Now().Truncate(time.Millisecond)
	var backlog []store.Notification
	for i := range 100 {
		backlog = append(backlog, store.Notification{EventID: fmt.Sprint("backlog-", i), MonitorID: m.ID, AlertID: 1, Kind: "alert",
			Payload: []byte(`{"event":"alert"}`), Created: at})
	}
	test := func(ns []store.Notification, at time.Time) store.Test {
		return store.Test{Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusDown},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Down}, LastTest: at}, Notifications: ns}
	}
	must(t, s.RecordTest(ctx, test(backlog, at)))
	must(t, s.RecordTest(ctx, test([]store.Notification{{EventID: "other", MonitorID: m.ID, AlertID: 2, Kind: "alert",
		Payload: []byte(`{"event":"alert"}`), Created: at}}, at.Add(time.Second))))
	got, err := c.ClaimNotifications(ctx, "n1", time.Minute, 20)
	if err != nil {
		t.Fatal(err)
	}
	per := map[int64]int{}
	for _, n := range got {
		per[n.AlertID]++
	}
	if per[1] != 20 || per[2] != 1 {
		t.Errorf("the first round claimed %v by action, want 20 of action 1's backlog and action 2's one", per)
	}
}

func ids(ns []store.Notification) []int64 {
	var out []int64
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

// clusterOf is s as a Cluster, with a device for monitors; the test is
// skipped for stores that are not shared by nodes.
func clusterOf(t *testing.T, s store.Store) (store.Cluster, *store.Device) {
	t.Helper()
	c, ok := s.(store.Cluster)
	if !ok {
		t.Skip("not a cluster store")
	}
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	return c, d
}

// join heartbeats nodes for a minute, joining again those whose heartbeat
// had expired.
func join(t *testing.T, c store.Cluster, nodes ...store.Node) {
	t.Helper()
	for _, n := range nodes {
		_, err := c.Heartbeat(ctx, n, time.Minute)
		if errors.Is(err, store.ErrNodeExpired) {
			must(t, c.Leave(ctx, n.ID))
			_, err = c.Heartbeat(ctx, n, time.Minute)
		}
		must(t, err)
	}
}
