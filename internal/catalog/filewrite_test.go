package catalog

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/bench/applygen"
	"github.com/mailmon/mailmon/internal/config"
)

// TestApplyAcrossTransactions: a file of several transactions' worth of
// monitors is created, applied again without a change, and changed in
// part: each time the report and the store agree.
func TestApplyAcrossTransactions(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	s := c.Store
	env := Env{Getenv: func(string) string { return "pw" }}
	const n = 2*chunkMonitors + 500
	var buf bytes.Buffer
	if err := applygen.Write(&buf, n); err != nil {
		t.Fatal(err)
	}
	count := func(r Result) map[string]int {
		n := map[string]int{}
		for _, ch := range r.Changes {
			n[ch.Kind+" "+ch.Action]++
		}
		return n
	}
	apply := func(y string) map[string]int {
		t.Helper()
		f, err := config.Parse("gen.yaml", []byte(y))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := c.ApplyFile(ctx, f, env)
		if err != nil {
			t.Fatal(err)
		}
		return count(rep)
	}
	devices := n / applygen.PerDevice
	if got := apply(buf.String()); got["monitor created"] != n || got["device created"] != devices || got["alert created"] != 2 {
		t.Errorf("first apply: %v", got)
	}
	if got := apply(buf.String()); got["monitor unchanged"] != n || got["device unchanged"] != devices || len(got) != 3 {
		t.Errorf("second apply: %v", got)
	}
	// Every "ops" monitor (half of them) now notifies "pager".
	changed := strings.ReplaceAll(buf.String(), "alerts: [ops]", "alerts: [pager]")
	if got := apply(changed); got["monitor updated"] != n/2 || got["monitor unchanged"] != n/2 {
		t.Errorf("third apply: %v", got)
	}
	pager, _ := s.AlertByName(ctx, "pager")
	d, _ := s.DeviceByName(ctx, "mail249")
	m, err := s.MonitorByName(ctx, d.ID, "check 0")
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.MonitorAlerts(ctx, m.ID); len(ids) != 1 || ids[0] != pager.ID {
		t.Errorf("the last device's first monitor notifies %v, want [%d]", ids, pager.ID)
	}
}
