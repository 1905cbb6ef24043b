package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// walk: store.Walk reads pages by id, and a monitor deleted or created
// between pages makes it skip or repeat no other. With OFFSET pages the
// deletion of a monitor already read shifted the next page by one, and
// the monitor at its start was never read (m3 here).
func walk(t *testing.T, s store.Store) {
	// The lists of named rows walk alike: devices, alerts, credentials.
	walkNamed(t, "devices", func(name string) int64 {
		dv := &store.Device{Name: name, Address: "h"}
		must(t, s.PutDevice(ctx, dv))
		return dv.ID
	}, s.DeleteDevice, s.Devices, store.DeviceID)
	walkNamed(t, "alerts", func(name string) int64 {
		a := &store.Alert{Name: name, Kind: "email"}
		must(t, s.PutAlert(ctx, a))
		return a.ID
	}, s.DeleteAlert, s.Alerts, store.AlertID)
	walkNamed(t, "credentials", func(name string) int64 {
		c := &store.Credential{Name: name}
		must(t, s.PutCredential(ctx, c))
		return c.ID
	}, s.DeleteCredential, s.Credentials, store.CredentialID)

	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	other := &store.Device{Name: "other", Address: "other"}
	must(t, s.PutDevice(ctx, other))
	ids := map[string]int64{}
	for i := 1; i <= 6; i++ {
		ids[fmt.Sprint("m", i)] = newMonitor(t, s, d.ID, fmt.Sprint("m", i), "smtp").ID
	}
	read := map[int64]int{}
	var last int64
	pages := 0
	err := store.Walk(ctx, 2, store.AllMonitors(s), store.MonitorID, func(ms []store.Monitor, total int) error {
		if pages == 0 && total != 6 {
			t.Errorf("first page's total = %d, want 6", total)
		}
		if len(ms) > 2 {
			t.Errorf("page %d has %d monitors, limit 2", pages, len(ms))
		}
		for _, m := range ms {
			if m.ID <= last {
				t.Errorf("page %d: monitor %d after %d: not in id order", pages, m.ID, last)
			}
			last = m.ID
			read[m.ID]++
		}
		if pages == 0 {
			// Between the first page and the second: one read deleted,
			// one not yet read deleted, one created.
			must(t, s.DeleteMonitor(ctx, ids["m1"]))
			must(t, s.DeleteMonitor(ctx, ids["m4"]))
			ids["m0"] = newMonitor(t, s, d.ID, "m0", "smtp").ID
		}
		pages++
		return nil
	})
	must(t, err)
	for _, name := range []string{"m1", "m2", "m3", "m5", "m6"} {
		if n := read[ids[name]]; n != 1 {
			t.Errorf("%s read %d times, want once", name, n)
		}
	}
	if read[ids["m4"]] != 0 {
		t.Error("m4, deleted before its page, was read")
	}
	if read[ids["m0"]] > 1 {
		t.Errorf("m0, created during the walk, read %d times", read[ids["m0"]])
	}

	// A ByID page keeps the filter; it starts above After.
	mine := newMonitor(t, s, other.ID, "x", "imap")
	got, total, err := s.Monitors(ctx, store.MonitorFilter{DeviceID: d.ID, Page: store.Page{Limit: 10, ByID: true, After: ids["m3"]}})
	must(t, err)
	if want := []int64{ids["m5"], ids["m6"], ids["m0"]}; total != 5 || !sameIDs(got, store.MonitorID, want) {
		t.Errorf("device d's monitors above m3 = %v (total %d), want %v of 5", idsOf(got, store.MonitorID), total, want)
	}
	if got, _, _ := s.Monitors(ctx, store.MonitorFilter{Type: "imap", Page: store.Page{ByID: true}}); !sameIDs(got, store.MonitorID, []int64{mine.ID}) {
		t.Errorf("imap monitors by id = %v, want %d", idsOf(got, store.MonitorID), mine.ID)
	}

}

// walkNamed walks a list of named rows (created by put; the list may hold
// others already) two at a time, deleting the first row read after the
// first page: every other row is read once, in id order.
func walkNamed[T any](t *testing.T, what string, put func(name string) int64, del func(context.Context, int64) error,
	list func(context.Context, store.Page) ([]T, int, error), id func(*T) int64) {
	t.Helper()
	var want []int64
	for _, n := range []string{"w5", "w4", "w3", "w2", "w1"} { // names against the ids' order
		want = append(want, put(n))
	}
	var got []int64
	first := true
	must(t, store.Walk(ctx, 2, list, id, func(rows []T, _ int) error {
		for i := range rows {
			got = append(got, id(&rows[i]))
		}
		if first {
			first = false
			return del(ctx, got[0])
		}
		return nil
	}))
	seen := map[int64]int{}
	for i, g := range got {
		seen[g]++
		if i > 0 && g <= got[i-1] {
			t.Errorf("%s: %d after %d: not in id order", what, g, got[i-1])
		}
	}
	for _, w := range want {
		if seen[w] != 1 {
			t.Errorf("%s: %d read %d times (walk read %v)", what, w, seen[w], got)
		}
	}
}

// sameIDs reports whether rows are want, by id, in order.
func sameIDs[T any](rows []T, id func(*T) int64, want []int64) bool {
	return slices.Equal(idsOf(rows, id), want)
}

// idsOf are the ids of rows.
func idsOf[T any](rows []T, id func(*T) int64) []int64 {
	out := make([]int64, len(rows))
	for i := range rows {
		out[i] = id(&rows[i])
	}
	return out
}
