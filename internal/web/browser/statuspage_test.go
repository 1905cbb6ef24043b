package browser

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/mailmon/mailmon/internal/store"
)

// TestStatusPage: a public status page, without a login, in Chromium:
// each service's state (Lost as Down, Disabled and never tested as
// Unknown), the incidents, the day strip; nothing of the server's words;
// no serious or critical axe-core violation. Its screenshot is
// docs/screenshots/status-page.png.
func TestStatusPage(t *testing.T) {
	p := servePages(t)
	must(t, p.st.PutStatusPage(context.Background(), &store.StatusPage{Name: "mail", Public: true,
		Spec: []byte(`{"title":"Example Mail status","description":"Sending and receiving mail at example.test.","devices":["mail.example.test","backup.example.test"]}`)}))
	ctx := tab(t)
	run(t, ctx, "the status page", chromedp.Navigate(p.url+"/status/mail"), chromedp.WaitVisible(chromedp.CSS(`#services`)))
	rows := texts(t, ctx, "the services", `#services tbody th`)
	states := texts(t, ctx, "their states", `#services tbody td[data-label="State"] .label`)
	want := map[string]string{
		"mail.example.test · SMTP submission": "Up", "mail.example.test · IMAP login": "Down", "mail.example.test · POP3 login": "Down",
		"mail.example.test · IMAP round trip": "Warn", "backup.example.test · SMTP": "Up", "backup.example.test · Ping": "Unknown",
		"backup.example.test · New IMAP": "Unknown",
	}
	if len(rows) != len(want) || len(states) != len(rows) {
		t.Fatalf("rows %q, states %q", rows, states)
	}
	for i, r := range rows {
		if want[r] != states[i] {
			t.Errorf("%s shows %q, want %q", r, states[i], want[r])
		}
	}
	if got := texts(t, ctx, "the overall state", `#overall .summary`); !slices.Equal(got, []string{"Some services are down."}) {
		t.Errorf("overall %q", got)
	}
	incidents := texts(t, ctx, "the incidents", `#incidents li strong`)
	if !slices.Equal(incidents, []string{"mail.example.test · IMAP login", "mail.example.test · POP3 login"}) {
		t.Errorf("incidents %q", incidents)
	}
	if n := eval[int](t, ctx, "the day bars", `document.querySelectorAll('#services .days .beat').length`); n != 30*len(want) {
		t.Errorf("%d day bars, want %d", n, 30*len(want))
	}
	body := eval[string](t, ctx, "the page's text", `document.documentElement.outerHTML`)
	for _, bad := range []string{"AUTHENTICATIONFAILED", "rejected the credentials", "auth_failed", "127.0.0.1", "143", "starttls", "no answer within", "Log out"} {
		if strings.Contains(body, bad) {
			t.Errorf("the status page shows %q", bad)
		}
	}
	for _, v := range axe(t, ctx) {
		t.Errorf("/status/mail: %s (%s): %s\n\t%s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
	shoot(t, ctx, "status-page")
}
