package storetest

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// recentMonitor is a monitor with n results recorded, the i-th (from 0)
// i minutes after start, failing every third with a code, and the
// results as the board should show them, newest first.
func recentMonitor(t *testing.T, s store.Store, name string, n int, start time.Time) (int64, []store.Result) {
	t.Helper()
	d := &store.Device{Name: name, Address: "h"}
	must(t, s.PutDevice(ctx, d))
	m := &store.Monitor{DeviceID: d.ID, Name: name, Type: "smtp", Enabled: true}
	must(t, s.PutMonitor(ctx, m))
	codes := []probe.Code{probe.Timeout, probe.AuthFailed, probe.DNSSECInvalid}
	var want []store.Result
	for i := range n {
		r := store.Result{MonitorID: m.ID, Time: start.Add(time.Duration(i) * time.Minute), Status: probe.StatusUp,
			RTT: time.Duration(i+1)*time.Millisecond + 250*time.Microsecond}
		switch i % 3 {
		case 1:
			r.Status, r.Code = probe.StatusDown, codes[i%len(codes)]
		case 2:
			r.Status = probe.StatusWarn
		}
		must(t, s.RecordTest(ctx, store.Test{Result: r,
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}, LastTest: r.Time}}))
		r.Time = r.Time.Truncate(time.Second).UTC()
		want = append([]store.Result{r}, want...)
	}
	return m.ID, want[:min(len(want), store.RecentSize)]
}

// checkRecent compares a monitor's kept results with want.
func checkRecent(t *testing.T, what string, b *store.BoardStatus, want []store.Result) {
	t.Helper()
	if b == nil || !b.RecentKnown {
		t.Fatalf("%s: no kept results: %+v", what, b)
	}
	if len(b.Recent) != len(want) {
		t.Fatalf("%s: %d results kept, want %d", what, len(b.Recent), len(want))
	}
	for i, r := range b.Recent {
		w := want[i]
		if !r.Time.Equal(w.Time) || r.Status != w.Status || r.RTT != w.RTT || r.Code != w.Code || r.MonitorID != w.MonitorID {
			t.Errorf("%s: result %d (newest first) %v %s %v %q, want %v %s %v %q", what, i,
				r.Time, r.Status, r.RTT, r.Code, w.Time, w.Status, w.RTT, w.Code)
		}
	}
}

// recentKept: a monitor's last store.RecentSize results come with its
// status (BoardStatuses), newest first, in the order recorded; a status
// written without a result adds none; the acknowledgement comes with it.
func recentKept(t *testing.T, s store.Store) {
	start := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)
	many, wantMany := recentMonitor(t, s, "many", store.RecentSize+7, start)
	few, wantFew := recentMonitor(t, s, "few", 3, start)
	none, _ := recentMonitor(t, s, "none", 0, start)
	// A status without a result (as a lease handover writes): no bar.
	must(t, s.RecordTest(ctx, store.Test{Status: store.Status{MonitorID: few, Status: state.Status{State: state.Down, Since: start}, LastTest: start}}))
	// Unknown to the ring: a status with no results at all.
	must(t, s.RecordTest(ctx, store.Test{Status: store.Status{MonitorID: none, Status: state.Status{State: state.Pending}, LastTest: start}}))
	must(t, s.PutAck(ctx, store.Ack{MonitorID: few, Since: start, By: "user ops", At: start, Comment: "on it"}))

	bs, err := s.BoardStatuses(ctx, []int64{many, few, none, 1 << 40})
	must(t, err)
	if len(bs) != 3 {
		t.Errorf("board statuses of 3 monitors with a status and one unknown: %d", len(bs))
	}
	checkRecent(t, "47 results", bs[many], wantMany)
	checkRecent(t, "3 results", bs[few], wantFew)
	checkRecent(t, "no result", bs[none], nil)
	if a := bs[few].Ack; a == nil || a.By != "user ops" || !a.Since.Equal(start) || !a.Covers(bs[few].Status.Status) {
		t.Errorf("the acknowledgement with the status: %+v", a)
	}
	if bs[many].Ack != nil || bs[few].Status.Status.State != state.Down || bs[few].Version != 4 {
		t.Errorf("statuses: %+v, %+v", bs[many], bs[few])
	}
	// The same as the results table says, to the second.
	rr, err := s.RecentResults(ctx, []int64{many}, store.RecentSize)
	must(t, err)
	for i := range rr[many] {
		rr[many][i].Time = rr[many][i].Time.Truncate(time.Second)
	}
	checkRecent(t, "the results table", &store.BoardStatus{Recent: rr[many], RecentKnown: true}, wantMany)
}

// RecentSurvivesRestart: the kept results are there after a restart, and
// those of statuses written before they were kept (forget sets the
// column back to NULL, as migration 00015 leaves them) are filled from
// the results when the store opens. open opens the same database each
// time.
func RecentSurvivesRestart(t *testing.T, open func() store.Store, forget func(monitorID int64)) {
	s := open()
	start := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)
	kept, wantKept := recentMonitor(t, s, "kept", store.RecentSize+2, start)
	old, wantOld := recentMonitor(t, s, "old", store.RecentSize+5, start)
	s.Close()
	forget(old)
	s = open()
	defer s.Close()
	bs, err := s.BoardStatuses(ctx, []int64{kept, old})
	must(t, err)
	checkRecent(t, "after a restart", bs[kept], wantKept)
	checkRecent(t, "filled on open", bs[old], wantOld)
	// And kept on from there.
	r := store.Result{MonitorID: old, Time: start.Add(time.Hour), Status: probe.StatusDown, Code: probe.ConnectFailed, RTT: time.Second}
	must(t, s.RecordTest(ctx, store.Test{Result: r, Status: store.Status{MonitorID: old, Status: state.Status{State: state.Warn}, LastTest: r.Time}}))
	bs, err = s.BoardStatuses(ctx, []int64{old})
	must(t, err)
	checkRecent(t, "a test after the fill", bs[old], append([]store.Result{r}, wantOld[:store.RecentSize-1]...))
}
