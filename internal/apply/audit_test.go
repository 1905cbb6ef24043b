package apply

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestApplyIsAudited: an apply's changes name the operator's login, say
// what changed before and after, and never a secret; an apply that
// changes nothing writes nothing.
func TestApplyIsAudited(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, _ := vault.New([]byte("apply-audit-test-key-0123456789"))
	const secret = "App1ySecretPassw0rd"
	env := Env{Getenv: func(k string) string { return map[string]string{"PW": secret}[k] }, Operator: "alice"}
	file := func(port string) string {
		return `devices:
  - name: mail1
    address: 10.0.0.1
    monitors:
      - {name: smtp, type: smtp, port: ` + port + `, tls: starttls, user: probe, password: {env: PW}}
`
	}
	for _, port := range []string{"587", "587", "25"} {
		if _, err := Apply(ctx, s, v, parseString(t, file(port)), env); err != nil {
			t.Fatal(err)
		}
	}
	es, _, err := s.Audit(ctx, store.AuditFilter{Kind: "monitor"})
	if err != nil || len(es) != 2 {
		t.Fatalf("monitor entries: %+v %v (the unchanged apply writes none)", es, err)
	}
	if e := es[0]; e.Actor != "alice" || e.ActorKind != "operator" || e.Action != "updated" || e.Name != "mail1/smtp" ||
		len(e.Changes) != 1 || e.Changes[0] != (store.AuditChange{Field: "port", Before: "587", After: "25"}) {
		t.Errorf("the update: %+v", e)
	}
	var sawSecret bool
	for _, ch := range es[1].Changes {
		sawSecret = sawSecret || ch == store.AuditChange{Field: "password", After: "changed"}
		if strings.Contains(ch.Before+ch.After, secret) {
			t.Errorf("a secret in the audit log: %+v", ch)
		}
	}
	if !sawSecret {
		t.Errorf("the creation does not say the password was set: %+v", es[1].Changes)
	}
}
