package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// admin is a web UI login with every right: the network's writes in the
// tests that are not about roles.
var admin = Network.As(User("tester", Admin, "192.0.2.9"))

// TestWritesNeedTheRole: each kind of record, from each actor, written or
// refused (Forbidden) by the catalog itself, whatever front door asks.
func TestWritesNeedTheRole(t *testing.T) {
	ctx := context.Background()
	actors := map[string]struct {
		o    Origin
		ok   map[string]bool // by kind
		errs string
	}{
		"unnamed":      {Network, map[string]bool{}, "needs a login or a token"},
		"viewer":       {Network.As(User("v", Viewer, "")), map[string]bool{}, "role; v is viewer"},
		"editor":       {Network.As(User("e", Editor, "")), map[string]bool{"device": true, "monitor": true, "alert": true}, "needs the admin role"},
		"admin":        {admin, map[string]bool{"device": true, "monitor": true, "alert": true, "credential": true}, ""},
		"read token":   {Network.As(Token("r", ScopeRead|ScopeProbe|ScopeMetrics, "")), map[string]bool{}, "write scope"},
		"write token":  {Network.As(Token("w", ScopeWrite, "")), map[string]bool{"device": true, "monitor": true, "alert": true, "credential": true}, ""},
		"unknown role": {Network.As(User("x", Role("root"), "")), map[string]bool{}, "role; x is root"},
	}
	for name, a := range actors {
		t.Run(name, func(t *testing.T) {
			c := newCatalog(t)
			dev, _, err := c.SaveDevice(ctx, Operator, 0, Device{Name: "mail1", Address: "10.0.0.1"})
			if err != nil {
				t.Fatal(err)
			}
			check := func(kind string, err error) {
				t.Helper()
				var fb Forbidden
				switch {
				case a.ok[kind] && err != nil:
					t.Errorf("%s: %v", kind, err)
				case !a.ok[kind] && (!errors.As(err, &fb) || !strings.Contains(err.Error(), a.errs)):
					t.Errorf("%s: %v, want refused (%s)", kind, err, a.errs)
				}
			}
			_, _, err = c.SaveDevice(ctx, a.o, 0, Device{Name: "mail2", Address: "10.0.0.2"})
			check("device", err)
			_, _, err = c.SaveMonitor(ctx, a.o, 0, Monitor{Device: dev.ID, Settings: config.Monitor{Name: "tcp", Type: "tcp", Port: 25}})
			check("monitor", err)
			_, _, err = c.SaveAlert(ctx, a.o, 0, Alert{Settings: config.Alert{Name: "ops", Webhook: &config.Webhook{URL: config.SecretRef{Value: "https://hooks.example.test/x"}}}})
			check("alert", err)
			_, _, err = c.SaveCredential(ctx, a.o, 0, Credential{Name: "root", User: "root", Password: ptr("pw"),
				KnownHost: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"})
			check("credential", err)
			_, err = c.DeleteDevice(ctx, a.o, dev.ID)
			check("device", err)
			// A refused write leaves no audit entry; an allowed one names its actor.
			es, _, err := c.Store.Audit(ctx, store.AuditFilter{Actor: a.o.Actor.Name})
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, ok := range a.ok {
				if ok {
					want++
				}
			}
			if a.ok["device"] {
				want += 2 // the delete, of the device and of the monitor on it
			}
			if a.o.Actor.Name != "" && len(es) != want {
				t.Errorf("%d audit entries of %s, want %d: %+v", len(es), a.o.Actor.Name, want, es)
			}
		})
	}
}

// TestAuditSaysWhatChanged: before and after of each setting, a secret only
// "changed", and the entry rolled back with a change that fails.
func TestAuditSaysWhatChanged(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	o := Network.As(User("alice", Editor, "198.51.100.7"))
	d, _, err := c.SaveDevice(ctx, o, 0, Device{Name: "mail1", Address: "10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "Sup3rSecretPassw0rd"
	in := Monitor{Device: d.ID, Settings: config.Monitor{Name: "smtp", Type: "smtp", Port: 587, TLS: "starttls", User: "probe"}, Password: ptr(secret)}
	m, _, err := c.SaveMonitor(ctx, o, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	in.Settings.Port, in.Password = 465, ptr(secret+"2")
	in.Settings.TLS = "implicit"
	if _, _, err := c.SaveMonitor(ctx, o, m.ID, in); err != nil {
		t.Fatal(err)
	}
	es, total, err := c.Store.Audit(ctx, store.AuditFilter{Kind: "monitor", ObjectID: m.ID})
	if err != nil || total != 2 {
		t.Fatalf("%d entries, %v", total, err)
	}
	up := es[0]
	if up.Action != "updated" || up.Actor != "alice" || up.ActorKind != "user" || up.Address != "198.51.100.7" || up.Name != "mail1/smtp" {
		t.Errorf("entry: %+v", up)
	}
	got := map[string]store.AuditChange{}
	for _, ch := range up.Changes {
		got[ch.Field] = ch
	}
	if got["port"] != (store.AuditChange{Field: "port", Before: "587", After: "465"}) || got["password"] != (store.AuditChange{Field: "password", After: "changed"}) {
		t.Errorf("changes: %+v", up.Changes)
	}
	if _, ok := got["name"]; ok {
		t.Errorf("an unchanged setting is listed: %+v", up.Changes)
	}
	all, _, _ := c.Store.Audit(ctx, store.AuditFilter{})
	for _, e := range all {
		for _, ch := range e.Changes {
			if strings.Contains(ch.Before+ch.After, "Sup3rSecret") {
				t.Errorf("a secret in the audit log: %+v", e)
			}
		}
	}
	// A save that fails (a name taken) writes no entry.
	if _, _, err := c.SaveDevice(ctx, o, 0, Device{Name: "mail1", Address: "10.0.0.3"}); err == nil {
		t.Fatal("a taken name saved")
	}
	if _, n, _ := c.Store.Audit(ctx, store.AuditFilter{Kind: "device"}); n != 1 {
		t.Errorf("%d device entries after a failed save, want 1", n)
	}
}
