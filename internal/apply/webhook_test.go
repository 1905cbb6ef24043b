package apply

import (
	"context"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestWebhookURLIsASecret: apply seals a webhook's URL (literal or {env}),
// export leaves it out, and the export applied back keeps it.
func TestWebhookURLIsASecret(t *testing.T) {
	ctx := context.Background()
	s, v := setup(t)
	const u = "https://hooks.example.test/services/T0/B0/s3cret-path"
	env := Env{Getenv: func(k string) string {
		return map[string]string{"HOOK": u, "BAD": "ftp://hooks.example.test/s3cret-path"}[k]
	}}
	f, err := config.Parse("hook.yaml", []byte("alerts:\n  - {name: ops, webhook: {url: {env: HOOK}, format: slack}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctx, s, v, f, env); err != nil {
		t.Fatal(err)
	}
	a, _ := s.AlertByName(ctx, "ops")
	if strings.Contains(string(a.Spec), "s3cret") {
		t.Errorf("the URL is stored in the clear: %s", a.Spec)
	}
	if pt, err := v.Open(a.Secrets["webhook.url"], vault.AlertRecord(a.ID, "webhook.url")); err != nil || string(pt) != u {
		t.Fatalf("sealed URL: %q %v", pt, err)
	}
	out, err := Export(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	y, _ := config.Marshal(out)
	if strings.Contains(string(y), "s3cret") || strings.Contains(string(y), "hooks.example.test") || !strings.Contains(string(y), "format: slack") {
		t.Errorf("export:\n%s", y)
	}
	back, err := config.Parse("export.yaml", y)
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, y)
	}
	rep, err := Apply(ctx, s, v, back, Env{Getenv: func(string) string { return "" }})
	if err != nil || strings.Contains(actions(rep), "updated") {
		t.Errorf("the export applied back: %v %s", err, actions(rep))
	}
	a, _ = s.AlertByName(ctx, "ops")
	if pt, _ := v.Open(a.Secrets["webhook.url"], vault.AlertRecord(a.ID, "webhook.url")); string(pt) != u {
		t.Errorf("the export applied back lost the URL: %q", pt)
	}

	for yaml, want := range map[string]string{
		"alerts:\n  - {name: new, webhook: {format: slack}}\n":   "alerts[0].webhook.url: a new webhook needs its url",
		"alerts:\n  - {name: new, webhook: {url: {env: BAD}}}\n": "alerts[0].webhook.url: is not an http(s) URL",
	} {
		f, err := config.Parse("bad.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Apply(ctx, s, v, f, env)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v, want %q", yaml, err, want)
		}
	}
}

// TestExportKeepsANetworkWebhookTheNetworks: a webhook whose URL was set
// over the network stays held to the egress policy when an export (which
// leaves the URL out) is applied back: the operator never listed that URL.
// A file that gives the URL makes it the operator's.
func TestExportKeepsANetworkWebhookTheNetworks(t *testing.T) {
	ctx := context.Background()
	s, v := setup(t)
	apply := func(yaml string) {
		t.Helper()
		f, err := config.Parse("hook.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Apply(ctx, s, v, f, Env{Getenv: func(string) string { return "" }}); err != nil {
			t.Fatal(err)
		}
	}
	apply("alerts:\n  - {name: ops, webhook: {url: \"https://hooks.example.test/a\"}}\n")
	a, _ := s.AlertByName(ctx, "ops")
	a.NetworkTarget = true // as the API stores a URL it was sent
	must(t, s.PutAlert(ctx, a))
	out, err := Export(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	y, _ := config.Marshal(out)
	apply(string(y))
	if a, _ := s.AlertByName(ctx, "ops"); !a.NetworkTarget {
		t.Error("applying an export made a URL set over the network the operator's")
	}
	apply("alerts:\n  - {name: ops, webhook: {url: \"https://hooks.example.test/b\"}}\n")
	if a, _ := s.AlertByName(ctx, "ops"); a.NetworkTarget {
		t.Error("a URL the operator applied is still the network's")
	}
}
