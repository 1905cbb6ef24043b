package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestChannelURLWriteOnly: an alert by URL (url: "ntfy://…") is sealed
// whole like a password: no answer, the stored spec or the audit log
// carries any of it (the settings keep the service's name, secrets say
// "url": true), an update that gives only the service keeps it, a bad URL
// is a field error on url that quotes none of it; set over the network,
// its notifications are held to the egress policy (a loopback server is
// refused and never reached).
func TestChannelURLWriteOnly(t *testing.T) {
	f := newFixture(t)
	var reached atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	t.Cleanup(srv.Close)
	u := "ntfy://mailmon:s3cret-pw@" + srv.Listener.Addr().String() + "/s3cret-topic?scheme=http"
	id, out := f.id(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "team", "url": u}}, 201)
	if out["kind"] != "url" || out["secrets"].(map[string]any)["url"] != true || out["settings"].(map[string]any)["service"] != "ntfy" {
		t.Errorf("created: %v", out)
	}
	path := "/api/v1/alerts/" + strconv.FormatInt(id, 10)
	f.id(t, "PUT", path, map[string]any{"settings": map[string]any{"name": "team2", "service": "ntfy"}}, 200)
	f.do(t, "GET", path, nil, f.token)
	f.do(t, "GET", "/api/v1/alerts", nil, f.token)
	f.do(t, "GET", "/api/v1/audit", nil, f.token)
	for _, bad := range []map[string]any{
		{"name": "x", "url": "matrix://bot:s3cret-pw@matrix.example.test/"},
		{"name": "x", "url": "s3cret-pw"},
		{"name": "x", "service": "ntfy"}, // a new one needs its URL
	} {
		code, out := f.do(t, "POST", "/api/v1/alerts", map[string]any{"settings": bad}, f.token)
		if fields, _ := out["fields"].(map[string]any); code != http.StatusBadRequest || fields["url"] == nil {
			t.Errorf("%v: %d %v", bad, code, out)
		}
	}
	if s := f.seen.String(); strings.Contains(s, "s3cret") {
		t.Errorf("an answer carries the URL:\n%s", s)
	}
	a, err := f.api.Store.Alert(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(a.Spec), "s3cret") || a.Kind != "url" || a.Name != "team2" || !a.NetworkTarget {
		t.Errorf("stored: %+v %s", a, a.Spec)
	}
	if pt, err := f.api.Vault.Open(a.Secrets["url"], vault.AlertRecord(id, "url")); err != nil || string(pt) != u {
		t.Errorf("an update without the URL lost it: %q %v", pt, err)
	}
	n, err := (&alert.Actions{Vault: f.api.Vault}).Notifier(a, 1)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), alert.Event{Kind: "alert", Monitor: "m", Device: "d", State: "down"})
	if !errors.Is(err, egress.ErrRefused) && (err == nil || !strings.Contains(err.Error(), egress.Flag)) {
		t.Errorf("a loopback URL set over the API: %v, want refused", err)
	}
	if reached.Load() != 0 || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("reached %d times; %v", reached.Load(), err)
	}
}
