package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
	"github.com/mailmon/mailmon/internal/vault"
)

// received is a request a local receiver got.
type received struct {
	Method, Path string
	Header       http.Header
	Body         string
}

// receiver is a local HTTP server that hands over what it receives and
// answers as PagerDuty, Opsgenie and Alertmanager do (202, JSON).
func receiver(t *testing.T) (*httptest.Server, chan received) {
	t.Helper()
	got := make(chan received, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet { // Alertmanager's list of alerts, asked before a resolve
			io.WriteString(w, "[]")
			return
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		got <- received{r.Method, r.URL.Path, r.Header.Clone(), string(b)}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"k","result":"Request will be processed","requestId":"r"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// marked marks the page, so that the next one can be told from it.
var marked = chromedp.Evaluate[chromedp.Void](`document.body.insertAdjacentHTML('beforeend', '<i id="old-page"></i>'); true`)

// submitted submits a form and waits for the page that answers.
func submitted(form string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{marked, chromedp.Submit(chromedp.CSS(form)),
		chromedp.WaitNotPresent(chromedp.CSS(`#old-page`)), chromedp.WaitVisible(chromedp.CSS(`main`))}
}

// pickKind chooses a kind in the alert form, as a person does.
func pickKind(kind string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(function(){const s=document.getElementById('alert-kind'); s.value=%q;
		if (s.value !== %[1]q) throw new Error("no kind %[1]s"); s.dispatchEvent(new Event('change')); return true})()`, kind))
}

// fillHeaders types header rows (name, value) into the webhook's rows.
func fillHeaders(rows [][2]string) chromedp.Action[chromedp.Void] {
	b, _ := json.Marshal(rows)
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(function(rows){const n=document.querySelectorAll('[name="webhook.headers.name"]'),
		v=document.querySelectorAll('[name="webhook.headers.value"]'); if (n.length < rows.length) throw new Error("only "+n.length+" header rows");
		rows.forEach((r,i) => {n[i].value=r[0]; v[i].value=r[1]}); return true})(%s)`, b))
}

// TestAlertFormPerKind: every kind of alert action the YAML has is created
// through the form, reloaded, edited in one field and saved; the stored
// settings (read from the store, not the page) keep every field and
// every secret; no page ever holds a secret; the form of each kind shows
// only its section, has no serious accessibility violation, and sends a
// test alert to a local receiver (a templated webhook's with its
// method, headers and body).
func TestAlertFormPerKind(t *testing.T) {
	p := servePages(t)
	hook, got := receiver(t)
	pdKey := "s3cretpagerdutyroutingkey0123456" // 32 characters
	mails := make(chan fakesmtp.Message, 4)
	relay := fakesmtp.Start(t, fakesmtp.Options{Accounts: saslsrv.Accounts{Passwords: map[string]string{"relay-user": "s3cret-relay"}},
		AllowInsecureAuth: true, OnData: func(m fakesmtp.Message) { mails <- m }})
	relayPort := fmt.Sprint(relay.Port)
	cases := []struct {
		kind, name string
		create     map[string]string
		headers    [][2]string
		edit       map[string]string
		want       config.Alert // the settings after the edit, secrets aside
		secrets    map[string]string
		path       string // where its test alert arrives ("": not tested here)
		mail       bool   // its test alert is an e-mail through the relay
		check      func(r received) error
	}{
		{kind: "webhook", name: "chat", create: map[string]string{"webhook.url": hook.URL + "/hooks/s3cret-chat", "webhook.format": "generic"},
			edit: map[string]string{"webhook.format": "slack"},
			want: config.Alert{Webhook: &config.Webhook{Format: "slack"}}, secrets: map[string]string{"webhook.url": hook.URL + "/hooks/s3cret-chat"},
			path: "/hooks/s3cret-chat", check: func(r received) error {
				if !strings.Contains(r.Body, `"text"`) {
					return fmt.Errorf("not a Slack message: %s", r.Body)
				}
				return nil
			}},
		{kind: "webhook", name: "tickets", create: map[string]string{"webhook.url": hook.URL + "/tickets/s3cret-tickets", "webhook.format": "template",
			"webhook.method": "PUT", "webhook.body": `{"title": {{json .Monitor}}, "state": {{json .State}}}`},
			headers: [][2]string{{"Authorization", "Bearer s3cret-bearer"}, {"X-Api-Key", "s3cret-apikey"}},
			edit:    map[string]string{"webhook.method": "PATCH"},
			want:    config.Alert{Webhook: &config.Webhook{Method: "PATCH", Body: `{"title": {{json .Monitor}}, "state": {{json .State}}}`}},
			secrets: map[string]string{"webhook.url": hook.URL + "/tickets/s3cret-tickets", "webhook.headers.Authorization": "Bearer s3cret-bearer",
				"webhook.headers.X-Api-Key": "s3cret-apikey"},
			path: "/tickets/s3cret-tickets", check: func(r received) error {
				if r.Method != http.MethodPatch || r.Header.Get("Authorization") != "Bearer s3cret-bearer" || r.Header.Get("X-Api-Key") != "s3cret-apikey" {
					return fmt.Errorf("%s with headers %v", r.Method, r.Header)
				}
				var body struct{ Title, State string }
				if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body.Title != "test alert tickets" || body.State != "test" {
					return fmt.Errorf("body %s (%v), want the template's", r.Body, err)
				}
				return nil
			}},
		{kind: "email", name: "oncall", create: map[string]string{"email.to": "oncall@example.test, ops@example.test", "email.from": "mailmon@example.test",
			"email.subject": "{monitor} is {state}", "email.relay.host": "127.0.0.1", "email.relay.port": relayPort, "email.relay.tls": "none",
			"email.relay.user": "relay-user", "relay_password": "s3cret-relay", "email.relay.allow_plaintext_auth": "on", "email.relay.auth": "LOGIN"},
			edit: map[string]string{"email.subject": "mailmon: {monitor} {state}"},
			want: config.Alert{Email: &config.Email{To: []string{"oncall@example.test", "ops@example.test"}, From: "mailmon@example.test",
				Subject: "mailmon: {monitor} {state}", Relay: config.Leg{Host: "127.0.0.1", Port: relay.Port, TLS: "none", User: "relay-user", Auth: "LOGIN", AllowPlaintextAuth: true}}},
			secrets: map[string]string{"relay.password": "s3cret-relay"}, mail: true},
		{kind: "alertmanager", name: "am", create: map[string]string{"alertmanager.url": hook.URL + "/am1"},
			edit: map[string]string{"alertmanager.url": hook.URL + "/am2"},
			want: config.Alert{Alertmanager: &config.Alertmanager{URL: hook.URL + "/am2"}},
			path: "/am2/api/v2/alerts"},
		{kind: "pagerduty", name: "pd", create: map[string]string{"pagerduty.routing_key": pdKey, "pagerduty.url": hook.URL + "/pd1/enqueue"},
			edit: map[string]string{"name": "pager"}, // a new URL needs the key again
			want: config.Alert{PagerDuty: &config.PagerDuty{URL: hook.URL + "/pd1/enqueue"}}, secrets: map[string]string{"pagerduty.routing_key": pdKey},
			path: "/pd1/enqueue", check: func(r received) error {
				if !strings.Contains(r.Body, pdKey) {
					return fmt.Errorf("no routing key in %s", r.Body)
				}
				return nil
			}},
		{kind: "opsgenie", name: "og", create: map[string]string{"opsgenie.api_key": "s3cret-opsgenie", "opsgenie.url": hook.URL + "/og1"},
			edit: map[string]string{"name": "genie"},
			want: config.Alert{Opsgenie: &config.Opsgenie{URL: hook.URL + "/og1"}}, secrets: map[string]string{"opsgenie.api_key": "s3cret-opsgenie"},
			path: "/og1/v2/alerts", check: func(r received) error {
				if r.Header.Get("Authorization") != "GenieKey s3cret-opsgenie" {
					return fmt.Errorf("Authorization %q", r.Header.Get("Authorization"))
				}
				return nil
			}},
	}
	ctx := tab(t)
	login(t, ctx, p.url, "admin", pagesPassword)
	visible := func() []string {
		return eval[[]string](t, ctx, "sections", `Array.from(document.querySelectorAll('fieldset[data-kind]')).filter(f => f.getClientRects().length > 0).map(f => f.dataset.kind)`)
	}
	// noSecret fails if the page's HTML holds a secret.
	noSecret := func(where string) {
		t.Helper()
		html := get(t, ctx, where, chromedp.OuterHTML(chromedp.CSS(`html`)))
		for _, c := range cases {
			for _, v := range c.secrets {
				if strings.Contains(html, v) || strings.Contains(html, "s3cret") {
					t.Errorf("%s: the page holds a secret", where)
					return
				}
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run(t, ctx, "the form", chromedp.Navigate(p.url+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`#add-alert`)),
				pickKind(c.kind), fill(map[string]string{"name": c.name}), fill(c.create))
			if c.headers != nil {
				run(t, ctx, "headers", fillHeaders(c.headers))
			}
			if v := visible(); len(v) != 1 || v[0] != c.kind {
				t.Errorf("kind %s: sections shown %v", c.kind, v)
			}
			run(t, ctx, "add it", submitted(`#add-alert`)...)
			if errs := texts(t, ctx, "errors", `.ferr, .error-box`); len(errs) > 0 {
				t.Fatalf("refused: %v", errs)
			}
			noSecret("the list")
			a, err := p.st.AlertByName(context.Background(), c.name)
			if err != nil {
				t.Fatal(err)
			}
			edit := fmt.Sprintf("%s/alerts/%d/edit", p.url, a.ID)
			run(t, ctx, "reload its form", chromedp.Navigate(edit), chromedp.WaitVisible(chromedp.CSS(`#test-alert`)))
			noSecret("the edit form")
			shoot(t, ctx, "alert-edit-"+c.name)
			if v := visible(); len(v) != 1 || v[0] != c.kind {
				t.Errorf("editing %s: sections shown %v", c.kind, v)
			}
			if sets := eval[int](t, ctx, "set", `document.querySelectorAll('fieldset:not([hidden]) .badge').length`); sets != len(c.secrets) {
				t.Errorf("%d secrets shown as set, want %d", sets, len(c.secrets))
			}
			for _, v := range axe(t, ctx) {
				t.Errorf("%s (%s): %s\n\t%s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
			}
			run(t, ctx, "edit", fill(c.edit))
			run(t, ctx, "save", submitted(`#add-alert`)...)
			if errs := texts(t, ctx, "errors", `.ferr, .error-box`); len(errs) > 0 {
				t.Fatalf("the edit was refused: %v", errs)
			}
			noSecret("the list after the edit")
			a, err = p.st.Alert(context.Background(), a.ID)
			if err != nil {
				t.Fatal(err)
			}
			var stored config.Alert
			if err := json.Unmarshal(a.Spec, &stored); err != nil {
				t.Fatal(err)
			}
			want := c.want
			want.Name = c.name
			if n := c.edit["name"]; n != "" {
				want.Name = n
			}
			if !reflect.DeepEqual(stored, want) {
				t.Errorf("stored after the edit:\n%s\nwant:\n%s", a.Spec, must2(json.Marshal(want)))
			}
			var names []string
			for n := range a.Secrets {
				names = append(names, n)
			}
			if len(names) != len(c.secrets) {
				t.Errorf("stored secrets %v, want %d", names, len(c.secrets))
			}
			for n, v := range c.secrets {
				if b, err := p.vault.Open(a.Secrets[n], vault.AlertRecord(a.ID, n)); err != nil || string(b) != v {
					t.Errorf("secret %s: %q %v, want it kept", n, b, err)
				}
			}
			if c.path == "" && !c.mail {
				return
			}
			run(t, ctx, "send a test alert", chromedp.Navigate(edit), chromedp.WaitVisible(chromedp.CSS(`#test-alert`)),
				marked, chromedp.Click(chromedp.CSS(`#test-alert`)), chromedp.WaitNotPresent(chromedp.CSS(`#old-page`)), chromedp.WaitVisible(chromedp.CSS(`main`)))
			if errs := texts(t, ctx, "errors", `.error-box`); len(errs) > 0 {
				t.Fatalf("test alert: %v", errs)
			}
			if c.mail {
				select {
				case m := <-mails:
					if m.User != "relay-user" || !strings.Contains(string(m.Data), "Subject: [test] mailmon: test alert oncall test") ||
						!slices.Equal(m.To, []string{"oncall@example.test", "ops@example.test"}) {
						t.Errorf("the test e-mail: as %q to %v:\n%s", m.User, m.To, m.Data)
					}
				case <-time.After(20 * time.Second):
					t.Fatal("the test e-mail did not reach the relay")
				}
				return
			}
			select {
			case r := <-got:
				if r.Path != c.path {
					t.Errorf("the test alert went to %s, want %s", r.Path, c.path)
				}
				if c.check != nil {
					if err := c.check(r); err != nil {
						t.Errorf("the test alert: %v", err)
					}
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the test alert did not reach the receiver")
			}
		})
	}
}

func must2[T any](v T, _ error) T { return v }
