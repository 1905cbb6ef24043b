package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/testutil/operator"
)

// TestRoundTripAuthResultsFields: the round trip's form shows and saves
// auth_results, auth_results_id and auth_results_methods, and a wrong
// value is named at its field.
func TestRoundTripAuthResultsFields(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	operator.Apply(t, f.st, f.api.Vault, `
devices:
  - name: d
    address: 127.0.0.1
    monitors:
      - name: rt
        type: imap-roundtrip
        port: 993
        tls: implicit
        user: u@example.com
        password: pw
        smtp: {port: 25}
        auth_results: ignore
        auth_results_id: mx.example.com
        auth_results_methods: [dmarc]
`)
	d, _ := f.st.DeviceByName(ctx, "d")
	m, _ := f.st.MonitorByName(ctx, d.ID, "rt")
	b := f.loggedIn(t)
	_, page := b.get(t, fmt.Sprintf("/monitors/%d/edit", m.ID))
	for _, want := range []string{`name="auth_results" value="ignore"`, `name="auth_results_id" value="mx.example.com"`, `name="auth_results_methods" value="dmarc"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the edit form lacks %s", want)
		}
	}
	form := url.Values{"name": {"rt"}, "enabled": {"on"}, "port": {"993"}, "tls": {"implicit"}, "user": {"u@example.com"},
		"smtp.port": {"25"}, "auth_results": {"down"}, "auth_results_id": {"mail.example.com"}, "auth_results_methods": {"dkim, dmarc"}}
	code, body, _ := b.post(t, fmt.Sprintf("/monitors/%d/edit", m.ID), form, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", code, errorsIn(body))
	}
	got, _ := f.st.Monitor(ctx, m.ID)
	var spec config.Monitor
	json.Unmarshal(got.Spec, &spec)
	if spec.AuthResults != "down" || spec.AuthResultsID != "mail.example.com" || !slices.Equal(spec.AuthResultsMethods, []string{"dkim", "dmarc"}) {
		t.Errorf("after the edit: %s", got.Spec)
	}
	form.Set("auth_results", "critical")
	code, body, _ = b.post(t, fmt.Sprintf("/monitors/%d/edit", m.ID), form, nil)
	if code == http.StatusSeeOther || !strings.Contains(errorsIn(body), `&#34;critical&#34; is not one of warn, ignore, down`) ||
		!strings.Contains(body, `id="f-auth_results" name="auth_results" value="critical" placeholder="warn" aria-invalid="true"`) {
		t.Errorf("a wrong auth_results: %d %s", code, errorsIn(body))
	}
}

// TestDNSBLDQSKeyField: a dnsbl monitor's form takes the DQS key as a
// write-only secret: stored sealed, shown as set, kept when the field is
// left empty, and a wrong one named at its field.
func TestDNSBLDQSKeyField(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	operator.Apply(t, f.st, f.api.Vault, `
devices:
  - name: d
    address: 192.0.2.1
    monitors:
      - name: bl
        type: dnsbl
        resolver: 127.0.0.1:53
`)
	d, _ := f.st.DeviceByName(ctx, "d")
	m, _ := f.st.MonitorByName(ctx, d.ID, "bl")
	b := f.loggedIn(t)
	edit := fmt.Sprintf("/monitors/%d/edit", m.ID)
	_, page := b.get(t, edit)
	if !strings.Contains(page, `name="dqs_key" type="password"`) || strings.Contains(page, `id="dqs_key-set"`) {
		t.Fatalf("the dnsbl form has no empty DQS key field")
	}
	form := url.Values{"name": {"bl"}, "enabled": {"on"}, "resolver": {"127.0.0.1:53"}, "dqs_key": {"a.b"}}
	code, body, _ := b.post(t, edit, form, nil)
	if code == http.StatusSeeOther || !strings.Contains(errorsIn(body), "letters and digits") {
		t.Errorf("a wrong key: %d %s", code, errorsIn(body))
	}
	form.Set("dqs_key", "k3y0123")
	if code, body, _ := b.post(t, edit, form, nil); code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", code, errorsIn(body))
	}
	form.Del("dqs_key")
	if code, body, _ := b.post(t, edit, form, nil); code != http.StatusSeeOther {
		t.Fatalf("save without the key: %d %s", code, errorsIn(body))
	}
	got, _ := f.st.Monitor(ctx, m.ID)
	if got.Secrets[config.SecretDQSKey] == "" || strings.Contains(got.Secrets[config.SecretDQSKey], "k3y0123") || strings.Contains(string(got.Spec), "k3y0123") {
		t.Errorf("stored: %v %s", got.Secrets, got.Spec)
	}
	if _, page := b.get(t, edit); !strings.Contains(page, `id="dqs_key-set"`) || strings.Contains(page, "k3y0123") {
		t.Errorf("the form does not show the key as set (or shows it)")
	}
}
