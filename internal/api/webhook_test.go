package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/discover"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/testutil/fakedns"
	"github.com/mailmon/mailmon/internal/testutil/operator"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestWebhookURLWriteOnly: a webhook's URL is sealed like a password: no
// answer carries it (only its scheme and host), an update without it
// keeps it, and it is given as a string only.
func TestWebhookURLWriteOnly(t *testing.T) {
	f := newFixture(t)
	const u = "https://hooks.example.test/services/T0/B0/s3cret-path"
	id, out := f.id(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "ops", "webhook": map[string]any{"url": u, "format": "slack"}}}, 201)
	if out["webhook_origin"] != "https://hooks.example.test" || out["secrets"].(map[string]any)["webhook.url"] != true {
		t.Errorf("created: %v", out)
	}
	path := "/api/v1/alerts/" + strconv.FormatInt(id, 10)
	f.id(t, "PUT", path, map[string]any{"settings": map[string]any{"name": "ops", "webhook": map[string]any{"format": "teams"}}}, 200)
	f.do(t, "GET", path, nil, f.token)
	f.do(t, "GET", "/api/v1/alerts", nil, f.token)
	if strings.Contains(f.seen.String(), "s3cret") {
		t.Errorf("an answer carries the URL:\n%s", f.seen.String())
	}
	a, _ := f.api.Store.Alert(t.Context(), id)
	if strings.Contains(string(a.Spec), "s3cret") {
		t.Errorf("the URL is stored in the clear: %s", a.Spec)
	}
	if pt, err := f.api.Vault.Open(a.Secrets["webhook.url"], vault.AlertRecord(id, "webhook.url")); err != nil || string(pt) != u {
		t.Errorf("an update without the URL lost it: %q %v", pt, err)
	}
	for _, bad := range []map[string]any{
		{"name": "x", "webhook": map[string]any{"format": "generic"}},                                // none
		{"name": "x", "webhook": map[string]any{"url": map[string]any{"env": "MAILMON_SECRET_KEY"}}}, // never read here
		{"name": "x", "webhook": map[string]any{"url": "ftp://hooks.example.test/s3cret-path"}},
	} {
		code, out := f.do(t, "POST", "/api/v1/alerts", map[string]any{"settings": bad}, f.token)
		if code != http.StatusBadRequest || strings.Contains(f.seen.String(), "s3cret") {
			t.Errorf("%v: %d %v", bad, code, out)
		}
	}
}

// TestWebhookURLHeldToEgress: a webhook URL sent over the API is held to
// serve --allow-targets like a device's address: a host on loopback,
// link-local (the metadata service), unspecified, or a name that resolves
// only there, is a field error on webhook.url naming the flag, never
// quoting the URL's path; nothing is stored. A public one is the
// network's (checked again when dialled). The operator's webhook on
// loopback keeps its origin through an edit that leaves its URL, and is
// refused a new loopback URL; a policy that lists loopback allows it.
func TestWebhookURLHeldToEgress(t *testing.T) {
	ctx := context.Background()
	ns := fakedns.Start(t, fakedns.Table(map[string][]dns.RR{
		"hooks.lo.test.":     {fakedns.RR(t, "hooks.lo.test. 0 IN A 127.0.0.1")},
		"hooks.public.test.": {fakedns.RR(t, "hooks.public.test. 0 IN A 192.0.2.10")},
	}))
	r, err := discover.NewResolver(ns)
	if err != nil {
		t.Fatal(err)
	}
	f := newPolicyFixture(t, nil, r)
	hook := func(u string) map[string]any {
		return map[string]any{"settings": map[string]any{"name": "ops", "webhook": map[string]any{"url": u}}}
	}
	refused := func(what string, code int, body map[string]any) {
		t.Helper()
		if msg := fieldsOf(body)["webhook.url"]; code != http.StatusBadRequest || !strings.Contains(msg, egress.Flag) {
			t.Errorf("%s: %d %v, want 400 naming webhook.url and %s", what, code, body, egress.Flag)
		}
	}
	before := operator.Snapshot(t, f.api.Store)
	for _, u := range []string{
		"http://127.0.0.1:8080/services/s3cret-path",
		"http://[::1]/s3cret-path",
		"http://169.254.169.254/latest/meta-data/s3cret-path",
		"http://0.0.0.0:9/s3cret-path",
		"https://hooks.lo.test/s3cret-path?token=s3cret",
		"http://user:s3cret@127.0.0.1/",
	} {
		code, body := f.do(t, "POST", "/api/v1/alerts", hook(u), f.token)
		refused(alert.Origin(u), code, body)
	}
	if after := operator.Snapshot(t, f.api.Store); after != before {
		t.Errorf("refused webhooks were stored:\n%s", after)
	}
	id, _ := f.id(t, "POST", "/api/v1/alerts", hook("https://hooks.public.test/services/s3cret-path"), http.StatusCreated)
	if a, _ := f.api.Store.Alert(ctx, id); !a.NetworkTarget {
		t.Error("a webhook URL set over the API is not the network's")
	}
	path := "/api/v1/alerts/" + strconv.FormatInt(id, 10)
	stored := operator.Snapshot(t, f.api.Store)
	code, body := f.do(t, "PUT", path, hook("http://127.0.0.1/s3cret-path"), f.token)
	refused("a webhook moved to loopback", code, body)
	if now := operator.Snapshot(t, f.api.Store); now != stored {
		t.Error("a refused change was stored")
	}

	// The operator's webhook on loopback (as apply stores it).
	operator.Apply(t, f.api.Store, f.api.Vault, "alerts:\n  - {name: local, webhook: {url: \"http://127.0.0.1:8080/s3cret-local\"}}\n")
	local, _ := f.api.Store.AlertByName(ctx, "local")
	lpath := "/api/v1/alerts/" + strconv.FormatInt(local.ID, 10)
	rename := map[string]any{"settings": map[string]any{"name": "local box", "webhook": map[string]any{"format": "slack"}}}
	if code, body := f.do(t, "PUT", lpath, rename, f.token); code != http.StatusOK {
		t.Errorf("editing the operator's loopback webhook, URL kept: %d %v", code, body)
	}
	if a, _ := f.api.Store.Alert(ctx, local.ID); a.NetworkTarget || catalog.WebhookOrigin(f.api.Vault, a) != "http://127.0.0.1:8080" {
		t.Errorf("an edit that kept the URL changed whose it is: network %v", a.NetworkTarget)
	}
	code, body = f.do(t, "PUT", lpath, map[string]any{"settings": map[string]any{"name": "local box",
		"webhook": map[string]any{"url": "http://127.0.0.1:9999/s3cret-other"}}}, f.token)
	refused("the operator's webhook given a new loopback URL", code, body)
	if strings.Contains(f.seen.String(), "s3cret") {
		t.Errorf("an answer quotes a URL:\n%s", f.seen.String())
	}

	// Listed, loopback is allowed (and still the network's).
	g := newPolicyFixture(t, mustParse(t, "127.0.0.1/32"), nil)
	gid, _ := g.id(t, "POST", "/api/v1/alerts", hook("http://127.0.0.1:8080/hook"), http.StatusCreated)
	if a, _ := g.api.Store.Alert(ctx, gid); !a.NetworkTarget {
		t.Error("a listed webhook URL set over the API is not the network's")
	}
}
