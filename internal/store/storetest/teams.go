package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// teams: a user's role and second factor, a token's scopes and expiry.
func teams(t *testing.T, s store.Store) {
	u := &store.User{Name: "helpdesk", Hash: "h", Role: "viewer", TOTPSecret: "sealed", RecoveryCodes: []string{"a1", "b2"}}
	must(t, s.PutUser(ctx, u))
	got, err := s.UserByName(ctx, "helpdesk")
	if err != nil || got.Role != "viewer" || got.TOTPSecret != "sealed" || !slices.Equal(got.RecoveryCodes, []string{"a1", "b2"}) || got.External != "" {
		t.Fatalf("UserByName = %+v, %v", got, err)
	}
	got.Role, got.RecoveryCodes, got.External = "editor", nil, "oidc:sub"
	must(t, s.PutUser(ctx, got))
	if got, _ := s.User(ctx, u.ID); got.Role != "editor" || got.RecoveryCodes != nil || got.External != "oidc:sub" {
		t.Errorf("after update: %+v", got)
	}
	// A code's time step is taken once, and never an older one after it.
	for _, c := range []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		if ok, err := s.UseTOTPStep(ctx, u.ID, c.step); err != nil || ok != c.want {
			t.Errorf("UseTOTPStep(%d) = %v, %v; want %v", c.step, ok, err, c.want)
		}
	}

	exp := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Millisecond).UTC()
	tk := &store.Token{Name: "prometheus", Hash: "h1", Scopes: []string{"metrics"}, Expires: exp}
	must(t, s.PutToken(ctx, tk))
	must(t, s.PutToken(ctx, &store.Token{Name: "forever", Hash: "h2", Scopes: []string{"read", "write"}}))
	gt, err := s.TokenByHash(ctx, "h1")
	if err != nil || !slices.Equal(gt.Scopes, []string{"metrics"}) || !gt.Expires.Equal(exp) {
		t.Errorf("TokenByHash = %+v, %v", gt, err)
	}
	if gt, _ := s.TokenByHash(ctx, "h2"); !gt.Expires.IsZero() || !slices.Equal(gt.Scopes, []string{"read", "write"}) {
		t.Errorf("a token without expiry: %+v", gt)
	}
}

// audit: entries kept with their changes, filtered, paged, pruned; one
// written in a batch that fails is gone with the change.
func audit(t *testing.T, s store.Store) {
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	for i, e := range []store.AuditEntry{
		{Time: t0, ActorKind: "user", Actor: "alice", Address: "192.0.2.1", Kind: "monitor", ObjectID: 7, Name: "mail1/SMTP", Action: "created"},
		{Time: t0.Add(time.Minute), ActorKind: "token", Actor: "ci", Kind: "monitor", ObjectID: 7, Name: "mail1/SMTP", Action: "updated",
			Changes: []store.AuditChange{{Field: "port", Before: "25", After: "587"}, {Field: "password", After: "changed"}}},
		{Time: t0.Add(2 * time.Minute), ActorKind: "user", Actor: "alice", Kind: "device", ObjectID: 3, Name: "mail1", Action: "deleted"},
	} {
		must(t, s.AddAudit(ctx, &e))
		if e.ID == 0 {
			t.Fatalf("entry %d: no id", i)
		}
	}
	all, total, err := s.Audit(ctx, store.AuditFilter{})
	if err != nil || total != 3 || len(all) != 3 || all[0].Kind != "device" || all[2].Address != "192.0.2.1" || !all[2].Time.Equal(t0) {
		t.Fatalf("Audit = %+v %d %v", all, total, err)
	}
	if ch := all[1].Changes; len(ch) != 2 || ch[0] != (store.AuditChange{Field: "port", Before: "25", After: "587"}) || ch[1].After != "changed" {
		t.Errorf("changes = %+v", ch)
	}
	for name, c := range map[string]struct {
		f    store.AuditFilter
		want int
	}{
		"actor":  {store.AuditFilter{Actor: "alice"}, 2},
		"object": {store.AuditFilter{Kind: "monitor", ObjectID: 7}, 2},
		"from":   {store.AuditFilter{From: t0.Add(time.Minute)}, 2},
		"to":     {store.AuditFilter{To: t0.Add(time.Minute)}, 1},
		"page":   {store.AuditFilter{Page: store.Page{Limit: 1, Offset: 2}}, 1},
	} {
		got, total, err := s.Audit(ctx, c.f)
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %d entries (total %d), %v; want %d", name, len(got), total, err, c.want)
		}
	}
	// Written in a batch that fails: gone with it.
	failed := errors.New("the change failed")
	err = store.Batch(ctx, s, func(tx store.Config) error {
		must(t, tx.AddAudit(ctx, &store.AuditEntry{ActorKind: "user", Actor: "bob", Kind: "device", Name: "x", Action: "created"}))
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatal(err)
	}
	if _, total, _ := s.Audit(ctx, store.AuditFilter{Actor: "bob"}); total != 0 {
		t.Errorf("an entry of a rolled-back batch stayed")
	}
	if n, err := s.PruneAudit(ctx, t0.Add(90*time.Second)); err != nil || n != 2 {
		t.Errorf("PruneAudit = %d, %v", n, err)
	}
}
