package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
)

// TestRoundTripSMTPLegOAuthForm: a round trip's SMTP fieldset holds an
// OAuth block of its own (the same fields as the monitor's, under
// smtp.oauth.): saved to the leg, its client secret sealed under
// smtp.oauth.client_secret and never shown back, the fields filled again
// on edit, a problem named beside its field.
func TestRoundTripSMTPLegOAuthForm(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	b := f.loggedIn(t)
	code, _, resp := b.post(t, "/devices", url.Values{"name": {"mail1"}, "address": {"127.0.0.1"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("add device: %d", code)
	}
	dev := resp.Header.Get("Location")
	_, body := b.get(t, dev+"/monitors/new?type=imap-roundtrip")
	for _, want := range []string{`name="smtp.oauth.provider"`, `name="smtp.oauth.client_id"`, `name="smtp.oauth.client_secret"`,
		`name="smtp.oauth.token_url"`, `name="oauth.provider"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the round trip form lacks %s", want)
		}
	}
	form := url.Values{"name": {"rt"}, "enabled": {"on"}, "tls": {"implicit"}, "user": {"u@example.com"}, "password": {"pw"},
		"from": {"u@example.com"}, "to": {"u@example.com"}, "smtp.tls": {"starttls"}, "smtp.port": {"587"},
		"smtp.oauth.token_url": {"https://127.0.0.1:8443/token"}, "smtp.oauth.scope": {"smtp"}, "smtp.oauth.client_id": {"smtp-app"},
		"smtp.oauth.client_secret": {"leg-s3cret-value"}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("smtp.oauth.token_url", "http://login.example.com/token")
	code, body, _ = b.post(t, dev+"/monitors/new?type=imap-roundtrip", bad, nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "SMTP Token URL: ") || strings.Contains(body, "leg-s3cret-value") {
		t.Errorf("a plain-http leg token URL: %d %s", code, errorsIn(body))
	}
	code, body, resp = b.post(t, dev+"/monitors/new?type=imap-roundtrip", form, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", code, errorsIn(body))
	}
	d, _ := f.st.DeviceByName(ctx, "mail1")
	m, err := f.st.MonitorByName(ctx, d.ID, "rt")
	if err != nil {
		t.Fatal(err)
	}
	var mc config.Monitor
	json.Unmarshal(m.Spec, &mc)
	if mc.SMTP == nil || mc.SMTP.OAuth == nil || mc.SMTP.OAuth.ClientID != "smtp-app" || mc.OAuth != nil {
		t.Fatalf("saved %s", m.Spec)
	}
	if _, ok := m.Secrets[config.SecretSMTPOAuthClient]; !ok || strings.Contains(string(m.Spec), "leg-s3cret-value") {
		t.Errorf("the leg's client secret: stored %v, spec %s", m.Secrets, m.Spec)
	}
	_, page := b.get(t, fmt.Sprintf("/monitors/%d/edit", m.ID))
	if !strings.Contains(page, `name="smtp.oauth.client_id" value="smtp-app"`) || !strings.Contains(page, `id="smtp.oauth.client_secret-set"`) ||
		strings.Contains(page, "leg-s3cret-value") {
		t.Error("the edit form does not show the leg's block (and only that its secret is set)")
	}

	// A Google service account: the key write-only, the subject shown.
	form = url.Values{"name": {"workspace"}, "enabled": {"on"}, "tls": {"implicit"}, "user": {"u@example.com"}, "auth": {"XOAUTH2"},
		"oauth.token_url": {"https://127.0.0.1:8443/token"}, "oauth.scope": {"https://mail.google.com/"}, "oauth.subject": {"u@example.com"},
		"oauth.service_account_key": {`{"type": "service_account", "private_key": "sa-k3y-value"}`}}
	code, body, _ = b.post(t, dev+"/monitors/new?type=imap", form, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("save with a service account: %d %s", code, errorsIn(body))
	}
	m, _ = f.st.MonitorByName(ctx, d.ID, "workspace")
	if _, ok := m.Secrets[config.SecretOAuthSAKey]; !ok || strings.Contains(string(m.Spec), "sa-k3y-value") {
		t.Errorf("the service account key: stored %v, spec %s", m.Secrets, m.Spec)
	}
	_, page = b.get(t, fmt.Sprintf("/monitors/%d/edit", m.ID))
	if !strings.Contains(page, `id="oauth.service_account_key-set"`) || !strings.Contains(page, `name="oauth.subject" value="u@example.com"`) ||
		strings.Contains(page, "sa-k3y-value") {
		t.Error("the edit form does not show the service account (and only that its key is set)")
	}
}
