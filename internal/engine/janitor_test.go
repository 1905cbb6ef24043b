package engine

import (
	"context"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// TestTidyKeepsTheAuditLogItsOwnTime: audit entries outlive raw results,
// and go once older than AuditRetention.
func TestTidyKeepsTheAuditLogItsOwnTime(t *testing.T) {
	st := openTestStore(t)
	ctx := context.Background()
	now := time.Now()
	for _, age := range []time.Duration{400 * 24 * time.Hour, 30 * 24 * time.Hour} {
		if err := st.AddAudit(ctx, &store.AuditEntry{Time: now.Add(-age), ActorKind: "user", Actor: "a", Kind: "device", Name: "d", Action: "created"}); err != nil {
			t.Fatal(err)
		}
	}
	e := New(Options{Store: st, Now: func() time.Time { return now }})
	if err := e.Tidy(ctx); err != nil {
		t.Fatal(err)
	}
	es, _, err := st.Audit(ctx, store.AuditFilter{})
	if err != nil || len(es) != 1 || now.Sub(es[0].Time) > 31*24*time.Hour {
		t.Errorf("after tidying (default 365 days): %+v %v", es, err)
	}
	e = New(Options{Store: st, Now: func() time.Time { return now }, AuditRetention: 7 * 24 * time.Hour})
	if err := e.Tidy(ctx); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := st.Audit(ctx, store.AuditFilter{}); n != 0 {
		t.Errorf("%d entries kept past a 7-day retention", n)
	}
}

// rollCalls is a store that records the buckets the janitor asks it to
// roll up, by period.
type rollCalls struct {
	store.Store
	buckets map[string][]time.Time
}

func (s *rollCalls) RollUp(ctx context.Context, period string, from, to time.Time) error {
	step, err := store.PeriodLength(period)
	if err != nil {
		return err
	}
	for b := store.Truncate(period, from); b.Before(store.Truncate(period, to)); b = b.Add(step) {
		s.buckets[period] = append(s.buckets[period], b)
	}
	return s.Store.RollUp(ctx, period, from, to)
}

// janitorMonitor is a monitor of a new device in st: its id, and a
// function that stores a test of it at a time.
func janitorMonitor(t *testing.T, st store.Store) (int64, func(at time.Time)) {
	t.Helper()
	ctx := context.Background()
	d := &store.Device{Name: "d", Address: "192.0.2.1"}
	must(t, st.PutDevice(ctx, d))
	m := &store.Monitor{DeviceID: d.ID, Name: "m", Type: "smtp", Enabled: true, Spec: []byte(`{}`)}
	must(t, st.PutMonitor(ctx, m))
	return m.ID, func(at time.Time) {
		t.Helper()
		must(t, st.RecordTest(ctx, store.Test{
			Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp, RTT: time.Millisecond},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}, LastTest: at},
		}))
	}
}

// rolledTests is the tests of monitor id's roll-up of period at start.
func rolledTests(t *testing.T, st store.Store, id int64, period string, start time.Time) int {
	t.Helper()
	rs, err := st.Rollups(context.Background(), id, period, start, start.Add(time.Millisecond))
	must(t, err)
	if len(rs) == 0 {
		return 0
	}
	return rs[0].Tests
}

// TestTidyRollsAnHourOnceFinal: an hour is rolled once, by the first pass
// an hour after its end (a late result of a test that began in it is
// counted), never again (older versions rewrote every roll-up of an hour
// 36 times, over 3 hours); its day once too, when the day is final.
func TestTidyRollsAnHourOnceFinal(t *testing.T) {
	ctx := context.Background()
	st := &rollCalls{Store: openTestStore(t), buckets: map[string][]time.Time{}}
	id, record := janitorMonitor(t, st)
	day := store.Truncate(store.Day, time.Now().Add(-48*time.Hour))
	h := day.Add(22 * time.Hour)
	now := h.Add(10 * time.Minute)
	e := New(Options{Store: st, Now: func() time.Time { return now }})
	record(h.Add(time.Minute))
	var passes []time.Duration // those that rolled h, after its start
	days := 0
	for ; now.Before(h.Add(6 * time.Hour)); now = now.Add(5 * time.Minute) {
		if now.Equal(h.Add(90 * time.Minute)) {
			record(h.Add(50 * time.Minute)) // a test begun in h, stored late
		}
		st.buckets = map[string][]time.Time{}
		must(t, e.Tidy(ctx))
		for _, b := range st.buckets[store.Hour] {
			if b.Equal(h) {
				passes = append(passes, now.Sub(h))
			}
		}
		if now.Equal(h.Add(10 * time.Minute)) {
			continue // the first pass rolls what a new store missed: every hour results are kept
		}
		if got := len(st.buckets[store.Hour]); got > 1 {
			t.Errorf("pass at %v rolled %d hours: %v", now.Sub(h), got, st.buckets[store.Hour])
		}
		if ds := st.buckets[store.Day]; len(ds) > 0 && (len(ds) != 1 || !ds[0].Equal(day) || now.Before(day.Add(25*time.Hour))) {
			t.Errorf("pass at %v rolled days %v", now.Sub(h), ds)
		}
		days += len(st.buckets[store.Day])
	}
	if len(passes) != 1 || passes[0] != 2*time.Hour {
		t.Errorf("hour rolled by the passes at %v; want [2h0m0s]", passes)
	}
	if days != 1 {
		t.Errorf("the day rolled %d times; want once, when final", days)
	}
	if n := rolledTests(t, st, id, store.Hour, h); n != 2 {
		t.Errorf("hour rolled with %d tests; want 2 (one stored late)", n)
	}
	if n := rolledTests(t, st, id, store.Day, day); n != 2 {
		t.Errorf("day rolled with %d tests; want 2", n)
	}
}

// TestTidyRollsWhatItMissed: a daemon started after a day down rolls the
// hours since its last pass (the one it left unfinished too) and the day
// they complete; older versions rolled the last two hours only.
func TestTidyRollsWhatItMissed(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	id, record := janitorMonitor(t, st)
	day := store.Truncate(store.Day, time.Now().Add(-72*time.Hour))
	h := day.Add(10 * time.Hour)
	now := h.Add(10 * time.Minute)
	clock := func() time.Time { return now }
	record(h.Add(time.Minute))
	must(t, New(Options{Store: st, Now: clock}).Tidy(ctx))
	record(h.Add(20 * time.Minute))          // after the last pass
	record(h.Add(5*time.Hour + time.Minute)) // while down
	now = day.Add(36 * time.Hour)
	must(t, New(Options{Store: st, Now: clock}).Tidy(ctx))
	for _, c := range []struct {
		period string
		start  time.Time
		want   int
	}{{store.Hour, h, 2}, {store.Hour, h.Add(5 * time.Hour), 1}, {store.Day, day, 3}} {
		if n := rolledTests(t, st, id, c.period, c.start); n != c.want {
			t.Errorf("%s at %v rolled with %d tests; want %d", c.period, c.start.Sub(day), n, c.want)
		}
	}
}
