package engine

import (
	"context"
	"testing"
	"time"

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
