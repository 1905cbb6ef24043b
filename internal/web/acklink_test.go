package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/notify"
)

// ackLinkFixture is a Down monitor, an alert action, and the links of
// the web UI under test.
func ackLinkFixture(t *testing.T) (*fixture, *alert.AckLinks, *store.Monitor, *store.Alert, time.Time) {
	t.Helper()
	f := newFixture(t, false)
	ctx := t.Context()
	links, err := alert.NewAckLinks(f.srv.URL, []byte("web-test-secret-0123456789"), 0)
	if err != nil {
		t.Fatal(err)
	}
	f.web.AckLinks = links
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	f.st.PutDevice(ctx, d)
	m := &store.Monitor{DeviceID: d.ID, Name: "smtp-in", Type: "tcp", Enabled: true, Spec: []byte(`{"port":25}`)}
	f.st.PutMonitor(ctx, m)
	a, err := f.saveAlert(ctx, 0, config.Alert{Name: "oncall", Email: &config.Email{To: []string{"a@example.com"},
		Relay: config.Leg{Host: "relay.example.com", Port: 587, TLS: "starttls"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	notify.Down(t, f.st, m.ID)
	st, err := f.st.Status(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f, links, m, a, st.Status.Since
}

// ackPath is the path of links' URL for the outage.
func ackPath(t *testing.T, f *fixture, links *alert.AckLinks, m, a int64, since time.Time) string {
	t.Helper()
	u := links.URL(m, since, a, f.clock.Now())
	p, ok := strings.CutPrefix(u, f.srv.URL)
	if !ok || !strings.HasPrefix(p, "/ack/") {
		t.Fatalf("link %q is not under %s/ack/", u, f.srv.URL)
	}
	return p
}

func acked(t *testing.T, st store.Store, id int64) *store.Ack {
	t.Helper()
	a, err := st.AckOf(context.Background(), id)
	if err != nil {
		return nil
	}
	return a
}

// TestAckLinkNeedsNoSession: the link's page shows the outage and a
// button, and acknowledges nothing (mail scanners follow links); the
// button does, with no session, and the audit log says by a signed link
// of which alert.
func TestAckLinkNeedsNoSession(t *testing.T) {
	f, links, m, a, since := ackLinkFixture(t)
	p := ackPath(t, f, links, m.ID, a.ID, since)
	b := f.browser(t) // no login
	code, body := b.get(t, p)
	if code != http.StatusOK || !strings.Contains(body, "smtp-in") || !strings.Contains(body, `id="ack"`) || !strings.Contains(body, `action="`+p+`"`) {
		t.Fatalf("GET %s: %d\n%s", p, code, body)
	}
	if b.get(t, p); acked(t, f.st, m.ID) != nil {
		t.Fatal("a GET of the link acknowledged the outage")
	}
	code, body, _ = b.post(t, p, url.Values{"comment": {"on it <b>"}}, nil)
	if code != http.StatusOK || !strings.Contains(body, `id="ack-done"`) {
		t.Fatalf("POST %s: %d\n%s", p, code, body)
	}
	ack := acked(t, f.st, m.ID)
	if ack == nil || !ack.Since.Equal(since.UTC().Truncate(time.Millisecond)) || ack.Comment != "on it <b>" || ack.By != "signed link from alert oncall" {
		t.Fatalf("ack: %+v", ack)
	}
	es, _, err := f.st.Audit(t.Context(), store.AuditFilter{Kind: "monitor", ObjectID: m.ID})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range es {
		if e.Action == "acknowledged" {
			found = true
			if e.ActorKind != "signed link" || e.Actor != "from alert oncall" || e.Address != "127.0.0.1" {
				t.Errorf("audit entry: %+v", e)
			}
		}
	}
	if !found {
		t.Errorf("no audit entry of the acknowledgement: %+v", es)
	}
	if _, body := b.get(t, p); !strings.Contains(body, "Acknowledged by signed link from alert oncall") || strings.Contains(body, `id="ack"`) {
		t.Errorf("the link's page after the ack:\n%s", body)
	}
}

// TestAckLinkRefused: a changed, expired or other outage's link
// acknowledges nothing, and says why.
func TestAckLinkRefused(t *testing.T) {
	f, links, m, a, since := ackLinkFixture(t)
	good := ackPath(t, f, links, m.ID, a.ID, since)
	other, _ := strings.CutPrefix(links.URL(m.ID+1, since, a.ID, f.clock.Now()), f.srv.URL)
	forged, _ := alert.NewAckLinks(f.srv.URL, []byte("another-installation-secret"), 0)
	foreign, _ := strings.CutPrefix(forged.URL(m.ID, since, a.ID, f.clock.Now()), f.srv.URL)
	parts := strings.Split(good, ".")
	parts[1] = fmt.Sprint(since.Add(time.Minute).UnixMilli()) // another outage, with the old signature
	tampered := strings.Join(parts, ".")
	earlier := ackPath(t, f, links, m.ID, a.ID, since.Add(-time.Hour)) // signed, of an outage that ended
	b := f.browser(t)
	for _, c := range []struct {
		name, path string
		code       int
		says       string
	}{
		{"tampered", tampered, http.StatusForbidden, "not valid"},
		{"cut short", good[:len(good)-3], http.StatusForbidden, "not valid"},
		{"another installation's key", foreign, http.StatusForbidden, "not valid"},
		{"another monitor", other, http.StatusNotFound, "no longer exists"},
		{"an earlier outage", earlier, http.StatusConflict, "has ended"},
	} {
		for _, method := range []string{"GET", "POST"} {
			var code int
			var body string
			if method == "GET" {
				code, body = b.get(t, c.path)
			} else {
				code, body, _ = b.post(t, c.path, url.Values{}, nil)
			}
			if code != c.code || !strings.Contains(body, c.says) || strings.Contains(body, `id="ack"`) {
				t.Errorf("%s %s: %d, want %d saying %q\n%s", method, c.name, code, c.code, c.says, body)
			}
		}
	}
	if acked(t, f.st, m.ID) != nil {
		t.Fatal("a refused link acknowledged")
	}
	// A cross-site form cannot use a good link.
	if code, _, _ := b.post(t, good, url.Values{}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); code != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", code)
	}
	if acked(t, f.st, m.ID) != nil {
		t.Fatal("a cross-site POST acknowledged")
	}
	// Expired: a week later.
	f.clock.Add(alert.DefaultAckLinkTTL + time.Second)
	postRefused(t, f, b, m.ID, good, http.StatusForbidden, "expired")
}

// postRefused posts the link's form and wants it refused with code and a
// page saying says, and monitor unacknowledged.
func postRefused(t *testing.T, f *fixture, b *browser, monitor int64, path string, code int, says string) {
	t.Helper()
	if got, body, _ := b.post(t, path, url.Values{}, nil); got != code || !strings.Contains(body, says) {
		t.Errorf("POST %s: %d, want %d saying %q\n%s", path, got, code, says, body)
	}
	if acked(t, f.st, monitor) != nil {
		t.Fatalf("POST %s acknowledged", path)
	}
}

// TestAckLinkAfterRecovery: once the monitor is up, or down again in a
// later outage, the link of the first outage acknowledges nothing.
func TestAckLinkAfterRecovery(t *testing.T) {
	f, links, m, a, since := ackLinkFixture(t)
	p := ackPath(t, f, links, m.ID, a.ID, since)
	b := f.browser(t)
	setState(t, f.st, m.ID, state.Up, since.Add(time.Minute))
	postRefused(t, f, b, m.ID, p, http.StatusConflict, "has ended")
	setState(t, f.st, m.ID, state.Down, since.Add(2*time.Minute)) // a later outage
	postRefused(t, f, b, m.ID, p, http.StatusConflict, "has ended")
}

// TestAckLinkRateLimited: wrong tokens from one address count as failed
// logins do; past the limit even a good link waits.
func TestAckLinkRateLimited(t *testing.T) {
	f, links, m, a, since := ackLinkFixture(t)
	good := ackPath(t, f, links, m.ID, a.ID, since)
	b := f.browser(t)
	for range ackLinkLimit {
		if code, _ := b.get(t, "/ack/1.2.3.4.AAAA"); code != http.StatusForbidden {
			t.Fatalf("bad token: %d", code)
		}
	}
	postRefused(t, f, b, m.ID, good, http.StatusTooManyRequests, "Too many wrong links")
}

// TestAckLinkOffWithoutExternalURL: with no links configured the route
// answers 404 and acknowledges nothing.
func TestAckLinkOffWithoutExternalURL(t *testing.T) {
	f, links, m, a, since := ackLinkFixture(t)
	p := ackPath(t, f, links, m.ID, a.ID, since)
	f.web.AckLinks = nil
	postRefused(t, f, f.browser(t), m.ID, p, http.StatusNotFound, "--external-url")
}

// setState stores a test that leaves monitor id in s since since.
func setState(t *testing.T, st store.Store, id int64, s state.State, since time.Time) {
	t.Helper()
	cur, err := st.Status(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	err = st.RecordTest(context.Background(), store.Test{
		Result: store.Result{MonitorID: id, Time: since},
		Status: store.Status{MonitorID: id, Version: cur.Version, Status: state.Status{State: s, Since: since}, LastTest: since},
	})
	if err != nil {
		t.Fatal(err)
	}
}
