package apply

import (
	"context"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestPagingKeysAreSecrets: apply seals PagerDuty's routing key and
// Opsgenie's API key, export leaves them out, the export applied back
// keeps them, and a new alert without its key is refused, naming it.
func TestPagingKeysAreSecrets(t *testing.T) {
	ctx := context.Background()
	s, v := setup(t)
	const key = "0123456789abcdef0123s3cretkey456"
	env := Env{Getenv: func(k string) string { return map[string]string{"PD": key, "OG": "og-s3cret"}[k] }}
	f, err := config.Parse("paging.yaml", []byte("alerts:\n  - {name: pd, pagerduty: {routing_key: {env: PD}}}\n"+
		"  - {name: og, opsgenie: {api_key: {env: OG}}}\n  - {name: am, alertmanager: {url: \"http://am.example.test:9093\"}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctx, s, v, f, env); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]string{"pd": {"pagerduty.routing_key", key}, "og": {"opsgenie.api_key", "og-s3cret"}} {
		a, _ := s.AlertByName(ctx, name)
		if pt, err := v.Open(a.Secrets[want[0]], vault.AlertRecord(a.ID, want[0])); err != nil || string(pt) != want[1] || strings.Contains(string(a.Spec), "s3cret") {
			t.Errorf("%s: sealed %q %v, settings %s", name, pt, err, a.Spec)
		}
	}
	out, err := Export(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	y, _ := config.Marshal(out)
	if strings.Contains(string(y), "s3cret") || !strings.Contains(string(y), "am.example.test") {
		t.Errorf("export:\n%s", y)
	}
	back, err := config.Parse("export.yaml", y)
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, y)
	}
	if rep, err := Apply(ctx, s, v, back, Env{Getenv: func(string) string { return "" }}); err != nil || strings.Contains(actions(rep), "updated") {
		t.Errorf("the export applied back: %v %s", err, actions(rep))
	}
	f, _ = config.Parse("bad.yaml", []byte("alerts:\n  - {name: new, pagerduty: {}}\n"))
	if _, err := Apply(ctx, s, v, f, env); err == nil || !strings.Contains(err.Error(), "alerts[0].pagerduty.routing_key: a new pagerduty alert needs its routing_key") {
		t.Errorf("a new PagerDuty alert without its key: %v", err)
	}
}
