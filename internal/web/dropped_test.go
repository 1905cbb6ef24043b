package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
)

// TestFormTargetChangeDropsSecrets: through the forms, a monitor's new
// port, a device's new address and an alert's new relay drop the stored
// secret the new target would receive, the page the save leads to says
// so, and a secret typed again in the same form stays.
func TestFormTargetChangeDropsSecrets(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	b := f.loggedIn(t)
	d, m := f.seed(t, "dev", "imap", "mailbox-pw")
	edit := fmt.Sprintf("/monitors/%d/edit", m.ID)
	form := func(port, pw string) url.Values {
		v := url.Values{"name": {"imap"}, "enabled": {"on"}, "port": {port}, "user": {"u"}, "allow_plaintext_auth": {"on"}}
		if pw != "" {
			v.Set("password", pw)
		}
		return v
	}
	// save posts a form that must be taken, and returns the page it
	// leads to.
	save := func(path string, form url.Values) string {
		t.Helper()
		b.get(t, path)
		code, body, resp := b.post(t, path, form, nil)
		if code != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", path, code, errorsIn(body))
		}
		_, page := b.get(t, resp.Header.Get("Location"))
		return page
	}
	save(edit, form("1", ""))
	if got, _ := f.st.Monitor(ctx, m.ID); got.Secrets["password"] == "" {
		t.Fatal("an edit that keeps the target lost the password")
	}
	page := save(edit, form("2", ""))
	if got, _ := f.st.Monitor(ctx, m.ID); got.Secrets["password"] != "" {
		t.Error("a new port kept the password")
	}
	if !strings.Contains(page, `id="notice"`) || !strings.Contains(page, "stored password was removed") {
		t.Errorf("the monitor's page does not say the password was dropped:\n%s", page)
	}
	save(edit, form("3", "typed-again"))
	if got, _ := f.st.Monitor(ctx, m.ID); got.Secrets["password"] == "" {
		t.Error("a password typed with the new port was dropped")
	}

	// A device's new address.
	page = save(fmt.Sprintf("/devices/%d", d.ID), url.Values{"name": {"dev"}, "address": {"192.0.2.1"}})
	if got, _ := f.st.Monitor(ctx, m.ID); got.Secrets["password"] != "" {
		t.Error("the device's new address kept the monitor's password")
	}
	if !strings.Contains(page, `id="notice"`) || !strings.Contains(page, "stored passwords of imap") {
		t.Errorf("the device's page does not say what was dropped:\n%s", page)
	}

	// An alert's new relay.
	relay := "relay-pw"
	a, err := f.saveAlert(ctx, 0, config.Alert{Name: "pager", Email: &config.Email{To: []string{"a@example.com"},
		Relay: config.Leg{Host: "relay.example.com", Port: 587, TLS: "starttls", User: "u"}}}, &relay)
	if err != nil {
		t.Fatal(err)
	}
	alertForm := url.Values{"name": {"pager"}, "kind": {"email"}, "email.to": {"a@example.com"}, "email.relay.host": {"evil.example.com"},
		"email.relay.port": {"587"}, "email.relay.tls": {"starttls"}, "email.relay.user": {"u"}}
	page = save(fmt.Sprintf("/alerts/%d/edit", a.ID), alertForm)
	if got, _ := f.st.Alert(ctx, a.ID); got.Secrets["relay.password"] != "" {
		t.Error("a new relay kept the relay password")
	}
	if !strings.Contains(page, `id="notice"`) || !strings.Contains(page, "Saved pager. Its stored relay password was removed") {
		t.Errorf("the alerts page does not say what was dropped:\n%s", page)
	}
	alertForm.Set("email.relay.host", "other.example.com")
	alertForm.Set("relay_password", relay)
	save(fmt.Sprintf("/alerts/%d/edit", a.ID), alertForm)
	if got, _ := f.st.Alert(ctx, a.ID); got.Secrets["relay.password"] == "" {
		t.Error("a relay password typed with the new relay was dropped")
	}

	// A link cannot put words on a page: only known names show.
	_, page = b.get(t, fmt.Sprintf("/monitors/%d?dropped=%s", m.ID, url.QueryEscape("Call 555-0100 now")))
	if strings.Contains(page, "555-0100") || strings.Contains(page, `id="notice"`) {
		t.Error("a notice shows text from the link")
	}
}

// TestWebhookURLNotShown: the alerts page and the edit form show a
// webhook's scheme and host, never its URL, and an edit that leaves the
// field empty keeps it.
func TestWebhookURLNotShown(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	b := f.loggedIn(t)
	const u = "https://hooks.example.test/services/T0/B0/s3cret-path"
	b.get(t, "/alerts")
	if code, body, _ := b.post(t, "/alerts", url.Values{"name": {"ops"}, "kind": {"webhook"}, "webhook.url": {u}, "webhook.format": {"slack"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", code, errorsIn(body))
	}
	a, err := f.st.AlertByName(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	_, list := b.get(t, "/alerts")
	_, edit := b.get(t, fmt.Sprintf("/alerts/%d/edit", a.ID))
	for _, page := range []string{list, edit} {
		if strings.Contains(page, "s3cret") || !strings.Contains(page, "https://hooks.example.test/…") {
			t.Errorf("a page shows the URL, or not its host:\n%s", page)
		}
	}
	b.post(t, fmt.Sprintf("/alerts/%d/edit", a.ID), url.Values{"name": {"ops"}, "kind": {"webhook"}, "webhook.format": {"teams"}}, nil)
	if got, _ := f.st.Alert(ctx, a.ID); got.Secrets["webhook.url"] != a.Secrets["webhook.url"] || !strings.Contains(string(got.Spec), "teams") {
		t.Errorf("an edit without the URL: %s %v", got.Spec, got.Secrets)
	}
}
