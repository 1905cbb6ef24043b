package sqlstore

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
)

// TestRecentCodes: every code has its number in a ring entry (a new code
// must be appended to recentCodes, or the board's bars lose it).
func TestRecentCodes(t *testing.T) {
	for _, c := range probe.Codes() {
		if _, ok := recentCodeIndex[c]; !ok {
			t.Errorf("code %s is not in recentCodes: append it", c)
		}
	}
	if len(recentCodes) > 255 {
		t.Errorf("%d codes: 255 is the number of a code missing", len(recentCodes))
	}
}

// TestRecentRing: an entry is fixed-size (issue #25: at most 40 bytes a
// result) and reads back; a ring keeps the newest RecentSize.
func TestRecentRing(t *testing.T) {
	at := time.Date(2026, 12, 6, 1, 2, 3, 0, time.UTC)
	var rs []store.Result // newest first
	for i := range store.RecentSize + 3 {
		rs = append([]store.Result{{MonitorID: 7, Time: at.Add(time.Duration(i) * time.Second), Status: probe.StatusDown,
			RTT: time.Duration(i) * time.Microsecond, Code: probe.Codes()[i%len(probe.Codes())]}}, rs...)
	}
	if e := appendRecent(nil, rs[0]); len(e) != recentEntry || recentEntry > 40 {
		t.Fatalf("an entry of %d bytes, want %d (at most 40)", len(e), recentEntry)
	}
	b := encodeRecent(rs)
	if len(b) != recentBytes {
		t.Fatalf("a ring of %d bytes, want %d", len(b), recentBytes)
	}
	got := decodeRecent(7, b)
	for i, r := range got {
		if r != rs[i] {
			t.Errorf("entry %d: %+v, want %+v", i, r, rs[i])
		}
	}
	// Out of range: a negative rtt, a code from a newer mailmon.
	r := decodeRecent(1, appendRecent(nil, store.Result{Time: at, RTT: -time.Second, Code: "from_the_future"}))[0]
	if r.RTT != 0 || r.Code != "" || !r.Time.Equal(at) {
		t.Errorf("out of range: %+v", r)
	}
}
