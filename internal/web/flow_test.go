package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/operator"
)

// smtpTarget answers like an SMTP server while healthy, refuses with 554
// while not, and puts banner in its greeting either way.
func smtpTarget(t *testing.T, healthy *atomic.Bool, banner string) *hostile.Server {
	return hostile.Start(t, func(c *hostile.Conn) {
		if !healthy.Load() {
			c.Send("554 " + banner + " go away\r\n")
			return
		}
		c.Send("220 " + banner + "\r\n")
		for l := c.ReadLine(); l != ""; l = c.ReadLine() {
			if strings.HasPrefix(l, "QUIT") {
				c.Send("221 bye\r\n")
				return
			}
			c.Send("250 ok\r\n")
		}
	})
}

// TestFormAddsEachType: the Add Monitor form of every type takes its
// minimal settings, and a bad value comes back beside its field.
func TestFormAddsEachType(t *testing.T) {
	f := newFixture(t, false)
	b := f.loggedIn(t)
	b.get(t, "/devices")
	code, _, resp := b.post(t, "/devices", url.Values{"name": {"mail1"}, "address": {"127.0.0.1"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("add device: %d", code)
	}
	dev := resp.Header.Get("Location")
	code, body := b.get(t, dev+"/monitors/new")
	for _, typ := range kinds.Names() {
		if !strings.Contains(body, "?type="+typ) {
			t.Errorf("the type picker lacks %s", typ)
		}
	}
	forms := map[string]url.Values{
		"smtp":           {"tls": {"starttls"}},
		"pop3":           {"tls": {"implicit"}, "user": {"u"}, "password": {"pw"}},
		"imap":           {"tls": {"starttls-optional"}, "user": {"u"}, "password": {"pw"}, "mailbox": {"INBOX"}},
		"tcp":            {"port": {"22"}},
		"ping":           {},
		"dnsbl":          {"zones": {"bl.example.test, domain:dbl.example.test"}},
		"spf":            {"domain": {"example.test"}, "ips": {"192.0.2.1"}},
		"dmarc":          {"domain": {"example.test"}},
		"dkim":           {"domain": {"example.test"}, "selectors": {"s1, s2"}},
		"tls-rpt":        {"domain": {"example.test"}},
		"mta-sts":        {"domain": {"example.test"}},
		"rdns":           {},
		"dane":           {"domain": {"mx.example.test"}},
		"pop3-roundtrip": {"user": {"u"}, "password": {"pw"}, "allow_plaintext_auth": {"on"}, "from": {"a@example.com"}, "to": {"b@example.com"}},
		"imap-roundtrip": {"tls": {"implicit"}, "user": {"u"}, "password": {"pw"}, "from": {"a@example.com"}, "to": {"b@example.com"}, "smtp.tls": {"starttls"}, "smtp.port": {"587"}},
		// The fixture's --allow-targets lists the device's loopback address
		// alone: a token URL there, not Microsoft's.
		"graph": {"user": {"probe@contoso.com"}, "oauth.token_url": {"https://127.0.0.1:8443/token"}, "oauth.scope": {"https://graph.microsoft.com/.default"},
			"oauth.client_id": {"c1"}, "oauth.client_secret": {"s3cret-value"}},
		"graph-roundtrip": {"user": {"probe@contoso.com"}, "oauth.token_url": {"https://127.0.0.1:8443/token"}, "oauth.scope": {"https://graph.microsoft.com/.default"},
			"oauth.client_id": {"c1"}, "oauth.client_secret": {"s3cret-value"}},
	}
	for _, typ := range kinds.Names() {
		code, body := b.get(t, dev+"/monitors/new?type="+typ)
		for _, section := range []string{"Identification", "Test Parameters", "Timing", "Notification Control", "Recovery"} {
			if !strings.Contains(body, "<legend>"+section+"</legend>") {
				t.Errorf("%s form lacks the %s section", typ, section)
			}
		}
		if code != 200 {
			t.Fatalf("%s form: %d", typ, code)
		}
		form := forms[typ]
		form.Set("name", typ+" check")
		form.Set("enabled", "on")
		code, body, resp := b.post(t, dev+"/monitors/new?type="+typ, form, nil)
		if code != http.StatusSeeOther {
			t.Errorf("%s: %d %s", typ, code, errorsIn(body))
			continue
		}
		_, page := b.get(t, resp.Header.Get("Location"))
		if !strings.Contains(page, typ+" check") {
			t.Errorf("%s: the monitor page does not show it", typ)
		}
	}
	// Defaults by type and TLS mode: the placeholder of the port.
	_, body = b.get(t, dev+"/monitors/new?type=imap")
	if !strings.Contains(body, `placeholder="143"`) || !strings.Contains(body, "implicit:993") {
		t.Error("the IMAP form does not offer 143 / 993")
	}
	// A bad value: the server's message beside the field, the values kept.
	code, body, _ = b.post(t, dev+"/monitors/new?type=smtp", url.Values{"name": {"slow"}, "timing.max_duration": {"2m"}, "timing.up_every": {"1m"}, "port": {"70000"},
		"user": {"u"}, "password": {"typed-Secret-never-echoed"}}, nil)
	if code != http.StatusBadRequest {
		t.Fatalf("bad form: %d", code)
	}
	if strings.Contains(body, "typed-Secret-never-echoed") {
		t.Error("a refused form sends the typed password back")
	}
	for _, want := range []string{"must be shorter than up_every", `value="2m"`, `id="f-port" name="port" value="70000"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused form lacks %q: %s", want, errorsIn(body))
		}
	}
	if !strings.Contains(body, `aria-invalid="true"`) {
		t.Error("no field is marked invalid")
	}
	// Dependencies and a duplicate name.
	code, body, _ = b.post(t, dev+"/monitors/new?type=imap", url.Values{"name": {"imap check"}, "port": {"143"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "another monitor of this device has this name") && !strings.Contains(body, "defined twice") {
		t.Errorf("duplicate name: %d %s", code, errorsIn(body))
	}
	code, body, _ = b.post(t, dev+"/monitors/new?type=imap", url.Values{"name": {"child"}, "depends_on": {"tcp check"},
		"maintenance": {"sat,sun 02:00 2h\nwed 01:30-03:30 Europe/Berlin\n2026-12-24T22:00:00Z 2026-12-25T02:00:00Z"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("with a dependency: %d %s", code, errorsIn(body))
	}
	// A recovery action is the operator's: set up with apply, the form
	// shows it (read-only).
	operator.Apply(t, f.st, f.api.Vault, `
devices:
  - name: mail1
    address: 127.0.0.1
    monitors:
      - {name: tcp check, type: tcp, port: 22}
      - name: child
        type: imap
        port: 143
        depends_on: [tcp check]
        maintenance:
          - {days: [sat, sun], start: "02:00", duration: 2h}
          - {days: [wed], start: "01:30", end: "03:30", zone: Europe/Berlin}
          - {start: "2026-12-24T22:00:00Z", end: "2026-12-25T02:00:00Z"}
        recovery:
          - command: [/usr/bin/true, --quiet]
`)
	ms, _, _ := f.st.Monitors(context.Background(), store.MonitorFilter{Search: "child"})
	_, body = b.get(t, fmt.Sprintf("/monitors/%d/edit", ms[0].ID))
	for _, want := range []string{`value="tcp check" checked`, "sat,sun 02:00 2h\nwed 01:30-03:30 Europe/Berlin\n", `<pre class="readonly" id="ro-recovery">/usr/bin/true --quiet</pre>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the edit form lacks %q", want)
		}
	}
}

// errorsIn extracts the field errors of a page, for failure messages.
func errorsIn(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, `class="ferr"`) || strings.Contains(l, `class="error-box"`) {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return strings.Join(out, " | ")
}

// TestBoardPagesAndFilters: the board shows a page of monitors, filtered
// by name, state and type on the server.
func TestBoardPagesAndFilters(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	d, _ := f.saveDevice(ctx, 0, "d", "127.0.0.1")
	for i := 0; i < PageSize+5; i++ {
		m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprintf("mon %03d", i), Type: "smtp", Enabled: true, Spec: []byte(`{}`)}
		if err := f.st.PutMonitor(ctx, m); err != nil {
			t.Fatal(err)
		}
		if i == 7 {
			f.st.RecordTest(ctx, store.Test{Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Down}}, Result: store.Result{MonitorID: m.ID, Time: time.Now()}})
		}
	}
	b := f.loggedIn(t)
	_, body := b.get(t, "/")
	if n := strings.Count(body, `class="row `); n != PageSize || !strings.Contains(body, "page 1 of 2") || !strings.Contains(body, `rel="next"`) {
		t.Errorf("page 1: %d rows", n)
	}
	_, body = b.get(t, "/?page=2")
	if n := strings.Count(body, `class="row `); n != 5 {
		t.Errorf("page 2: %d rows", n)
	}
	_, body = b.get(t, "/?q=mon+00")
	if n := strings.Count(body, `class="row `); n != 10 {
		t.Errorf("search: %d rows", n)
	}
	_, body = b.get(t, "/?state=down")
	if n := strings.Count(body, `class="row `); n != 1 || !strings.Contains(body, "mon 007") {
		t.Errorf("state filter: %d rows", n)
	}
	_, body = b.get(t, "/?type=imap")
	if n := strings.Count(body, `class="row `); n != 0 {
		t.Errorf("type filter: %d rows", n)
	}
}

// TestLiveEvents: the event stream of a page tells the monitors' new
// states as tests run, and ends when the session is logged out.
func TestLiveEvents(t *testing.T) {
	f := newFixture(t, true)
	var healthy atomic.Bool
	healthy.Store(true)
	target := smtpTarget(t, &healthy, "<b>mx</b><script>alert(6)</script>")
	ctx := context.Background()
	d, _ := f.saveDevice(ctx, 0, "d", "127.0.0.1")
	m, err := f.saveMonitor(ctx, 0, apiMonitor(d.ID, "live smtp", target.Port))
	if err != nil {
		t.Fatal(err)
	}
	b := f.loggedIn(t)
	req, _ := http.NewRequest("GET", f.srv.URL+fmt.Sprintf("/events?ids=%d", m.ID), nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitData := func(want string) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before %q", want)
				}
				if strings.HasPrefix(l, "data: ") && strings.Contains(l, want) {
					return
				}
			case <-deadline:
				t.Fatalf("no event with %q", want)
			}
		}
	}
	go f.web.Engine.TestNow(ctx, m.ID)
	waitData(`"state":"up"`)
	healthy.Store(false)
	go f.web.Engine.TestNow(ctx, m.ID)
	waitData(`"state":"warn"`)
	// The server's HTML is text on the monitor's page.
	_, page := b.get(t, fmt.Sprintf("/monitors/%d", m.ID))
	if strings.Contains(page, "<script>alert(6)") || strings.Contains(page, "<b>mx") || !strings.Contains(page, "&lt;script&gt;alert(6)&lt;/script&gt;") {
		t.Error("the server's banner is not shown as text")
	}
	// Test now, as the script asks for it.
	req, _ = http.NewRequest("POST", f.srv.URL+fmt.Sprintf("/monitors/%d/test", m.ID), nil)
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.Header.Set("Accept", "application/json")
	tr, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]string
	json.NewDecoder(tr.Body).Decode(&res)
	tr.Body.Close()
	if tr.StatusCode != 200 || res["status"] != "down" || res["code"] != "service_error" {
		t.Errorf("Test now: %d %v", tr.StatusCode, res)
	}
	waitData(`"code":"service_error"`)
	// Logging out ends the stream.
	b.get(t, "/")
	if code, _, _ := b.post(t, "/logout", url.Values{}, nil); code != http.StatusSeeOther {
		t.Fatal("logout")
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the stream outlived the session")
		}
	}
}

func apiMonitor(device int64, name string, port int) apiInput {
	return apiInput{Device: device, Settings: config.Monitor{Name: name, Type: "smtp", Port: port,
		Timing: config.Timing{MaxDuration: config.Duration(2 * time.Second), UpEvery: config.Duration(time.Hour), DownEvery: config.Duration(time.Hour)}}}
}

type apiInput = catalog.Monitor

// TestAlertsAndCredentials: alert definitions are added, edited (the relay
// password kept unless replaced) and assigned in a monitor's form;
// credentials are added with a write-only password.
func TestAlertsAndCredentials(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	b := f.loggedIn(t)
	b.get(t, "/alerts")
	code, body, _ := b.post(t, "/alerts", url.Values{"name": {"ops"}, "kind": {"webhook"}, "webhook.url": {"ftp://x"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "is not an http(s) URL") {
		t.Errorf("bad webhook: %d %s", code, errorsIn(body))
	}
	code, body, _ = b.post(t, "/alerts", url.Values{"name": {"pager"}, "kind": {"email"}, "email.to": {"a@example.com, b@example.com"},
		"email.relay.host": {"relay.example.com"}, "email.relay.port": {"587"}, "email.relay.tls": {"starttls"}, "email.relay.user": {"u"},
		"relay_password": {"relay-Secret-1"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("email alert: %d %s", code, errorsIn(body))
	}
	a, err := f.st.AlertByName(ctx, "pager")
	if err != nil || a.Secrets["relay.password"] == "" {
		t.Fatalf("stored alert %+v %v", a, err)
	}
	sealed := a.Secrets["relay.password"]
	_, body = b.get(t, fmt.Sprintf("/alerts/%d/edit", a.ID))
	if !strings.Contains(body, `value="a@example.com, b@example.com"`) || strings.Contains(body, "relay-Secret-1") || strings.Contains(body, sealed) {
		t.Error("the edit form does not show the alert, or shows its password")
	}
	code, body, _ = b.post(t, fmt.Sprintf("/alerts/%d/edit", a.ID), url.Values{"name": {"pager"}, "kind": {"email"}, "email.to": {"c@example.com"},
		"email.relay.host": {"relay.example.com"}, "email.relay.port": {"587"}, "email.relay.tls": {"starttls"}, "email.relay.user": {"u"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("edit alert: %d %s", code, errorsIn(body))
	}
	if a2, _ := f.st.AlertByName(ctx, "pager"); a2.Secrets["relay.password"] != sealed || !strings.Contains(string(a2.Spec), "c@example.com") {
		t.Errorf("after the edit: %s %v", a2.Spec, a2.Secrets)
	}
	// What the form has no field for is kept.
	relay := "x"
	if _, err := f.saveAlert(ctx, a.ID, config.Alert{Name: "pager", Email: &config.Email{To: []string{"c@example.com"}, Subject: "mailmon: {{.Monitor}}",
		Relay: config.Leg{Host: "relay.example.com", TLS: "starttls", User: "u", ServerName: "relay-name.example.com"}}}, &relay); err != nil {
		fe, _ := catalog.Fields(err)
		t.Fatal(err, fe)
	}
	b.get(t, fmt.Sprintf("/alerts/%d/edit", a.ID))
	b.post(t, fmt.Sprintf("/alerts/%d/edit", a.ID), url.Values{"name": {"pager"}, "kind": {"email"}, "email.to": {"d@example.com"},
		"email.relay.host": {"relay.example.com"}, "email.relay.tls": {"starttls"}, "email.relay.user": {"u"}}, nil)
	if a3, _ := f.st.AlertByName(ctx, "pager"); !strings.Contains(string(a3.Spec), "d@example.com") || !strings.Contains(string(a3.Spec), "relay-name.example.com") || !strings.Contains(string(a3.Spec), "mailmon: {{.Monitor}}") {
		t.Errorf("the edit lost settings: %s", a3.Spec)
	}
	// Assigned in a monitor's form.
	d, m := f.seed(t, "dev", "mon", "")
	_, body = b.get(t, fmt.Sprintf("/monitors/%d/edit", m.ID))
	if !strings.Contains(body, fmt.Sprintf(`name="alerts" value="%d"`, a.ID)) {
		t.Fatal("the monitor form does not offer the alert")
	}
	code, body, _ = b.post(t, fmt.Sprintf("/monitors/%d/edit", m.ID), url.Values{"name": {"mon"}, "enabled": {"on"}, "port": {"1"}, "user": {"u"},
		"allow_plaintext_auth": {"on"}, "alerts": {fmt.Sprint(a.ID)}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("assign: %d %s", code, errorsIn(body))
	}
	if ids, _ := f.st.MonitorAlerts(ctx, m.ID); len(ids) != 1 || ids[0] != a.ID {
		t.Errorf("assigned alerts: %v", ids)
	}
	_ = d

	b.get(t, "/credentials")
	code, body, _ = b.post(t, "/credentials", url.Values{"name": {"root@mail1"}, "user": {"root"}, "known_host": {"not a key"}, "password": {"cred-Secret-2"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "authorized_keys") || strings.Contains(body, "cred-Secret-2") {
		t.Errorf("bad host key: %d %s", code, errorsIn(body))
	}
	const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	code, body, _ = b.post(t, "/credentials", url.Values{"name": {"root@mail1"}, "user": {"root"}, "known_host": {hostKey}, "password": {"cred-Secret-2"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("credential: %d %s", code, errorsIn(body))
	}
	_, body = b.get(t, "/credentials")
	if !strings.Contains(body, "root@mail1") || strings.Contains(body, "cred-Secret-2") || !strings.Contains(body, `password <span class="badge">set</span>`) {
		t.Error("the credentials page")
	}
}

// TestReportsPage: the report's monitors and devices come a page at a
// time; the CSV holds them all.
func TestReportsPage(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	var first *store.Device
	for i := 0; i < reportDevices+2; i++ {
		d, err := f.saveDevice(ctx, 0, fmt.Sprintf("dev %02d", i), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = d
		}
	}
	for i := 0; i < PageSize+5; i++ {
		if err := f.st.PutMonitor(ctx, &store.Monitor{DeviceID: first.ID, Name: fmt.Sprintf("mon %03d", i), Type: "smtp", Enabled: true, Spec: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	b := f.loggedIn(t)
	rows := func(body, table string) int {
		i := strings.Index(body, table)
		if i < 0 {
			return -1
		}
		rest := body[i:]
		rest = rest[:strings.Index(rest, "</table>")]
		return strings.Count(rest, "<tr>") - 1 // the header's
	}
	_, body := b.get(t, "/reports")
	if n := rows(body, "<h2>Per monitor"); n != PageSize {
		t.Errorf("monitors on page 1: %d", n)
	}
	if n := rows(body, "<h2>Per device"); n != reportDevices {
		t.Errorf("devices on page 1: %d", n)
	}
	_, body = b.get(t, "/reports?page=2&dpage=2")
	if rows(body, "<h2>Per monitor") != 5 || rows(body, "<h2>Per device") != 2 {
		t.Errorf("page 2: %d monitors, %d devices", rows(body, "<h2>Per monitor"), rows(body, "<h2>Per device"))
	}
	_, csv := b.get(t, "/reports.csv")
	if n := strings.Count(csv, "\n"); n != 1+PageSize+5+1 { // header, monitors, their one device
		t.Errorf("CSV has %d lines:\n%s", n, csv)
	}
}

// TestEventsEndWithTheSession: an idle session's stream ends at the next
// heartbeat after it expires, telling the page to log in again.
func TestEventsEndWithTheSession(t *testing.T) {
	f := newFixture(t, true)
	f.web.IdleTimeout = time.Hour
	b := f.loggedIn(t)
	resp, err := b.c.Get(f.srv.URL + "/events?ids=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Heartbeats while the session lives.
	deadline := time.After(5 * time.Second)
	for pings := 0; pings < 2; {
		select {
		case l := <-lines:
			if l == ": ping" {
				pings++
			}
		case <-deadline:
			t.Fatal("no heartbeats")
		}
	}
	f.clock.Add(2 * time.Hour)
	var sawLogout bool
	deadline = time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				if !sawLogout {
					t.Error("the stream ended without telling the page")
				}
				return
			}
			sawLogout = sawLogout || l == "event: logout"
		case <-deadline:
			t.Fatal("the stream outlived its session")
		}
	}
}

// TestLoginReplacesTheSession: a login gives a new session id and ends
// the session whose cookie the browser carried (no fixation).
func TestLoginReplacesTheSession(t *testing.T) {
	f := newFixture(t, false)
	u := mustURL(f.srv.URL)
	first := f.loggedIn(t).c.Jar.Cookies(u)[0].Value
	b := f.browser(t)
	b.get(t, "/login")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: first}}) // planted, or left from before
	if code, _, _ := b.post(t, "/login", url.Values{"name": {"admin"}, "password": {testPassword}}, nil); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	var second string
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			second = c.Value
		}
	}
	if second == "" || second == first {
		t.Fatalf("the session id did not change")
	}
	if _, err := f.st.SessionByHash(context.Background(), hashID(first)); err == nil {
		t.Error("the old session lives on")
	}
}

// TestStaticFiles: the script and style sheet are served from the binary
// with types a browser runs under nosniff; anything else is not found.
func TestStaticFiles(t *testing.T) {
	f := newFixture(t, false)
	for name, want := range map[string]string{"app.js": "text/javascript", "app.css": "text/css"} {
		resp, err := http.Get(f.srv.URL + "/static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/static/nope.js", "/static/..%2fweb.go", "/static/"} {
		resp, err := http.Get(f.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("%s: 200", p)
		}
	}
}

// TestUsersPage: users are added (the password's rules hold) and deleted,
// never oneself.
func TestUsersPage(t *testing.T) {
	f := newFixture(t, false)
	b := f.loggedIn(t)
	b.get(t, "/users")
	if code, body, _ := b.post(t, "/users", url.Values{"name": {"bob"}, "password": {"short"}, "again": {"short"}}, nil); code != http.StatusBadRequest || !strings.Contains(body, "at least 8") {
		t.Errorf("short password: %d", code)
	}
	if code, _, _ := b.post(t, "/users", url.Values{"name": {"bob"}, "password": {"bob's password"}, "again": {"bob's password"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("add bob: %d", code)
	}
	if code := f.browser(t).login(t, "bob", "bob's password"); code != http.StatusSeeOther {
		t.Errorf("bob cannot log in: %d", code)
	}
	admin, _ := f.st.UserByName(context.Background(), "admin")
	bob, _ := f.st.UserByName(context.Background(), "bob")
	if code, _, _ := b.post(t, fmt.Sprintf("/users/%d/delete", admin.ID), url.Values{}, nil); code != http.StatusBadRequest {
		t.Errorf("deleting oneself: %d", code)
	}
	if code, _, _ := b.post(t, fmt.Sprintf("/users/%d/delete", bob.ID), url.Values{}, nil); code != http.StatusSeeOther {
		t.Errorf("deleting bob: %d", code)
	}
	if _, err := f.st.UserByName(context.Background(), "bob"); err == nil {
		t.Error("bob survived")
	}
}

// TestEditKeepsWhatTheFormDoesNotShow: saving the edit form keeps the
// settings it has no field for or shows read-only (set by YAML).
func TestEditKeepsWhatTheFormDoesNotShow(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	ca, relayCA := certs.NewCA(t).File(t), certs.NewCA(t).File(t)
	operator.Apply(t, f.st, f.api.Vault, `
devices:
  - name: d
    address: 127.0.0.1
    monitors:
      - name: rt
        type: imap-roundtrip
        port: 993
        tls: implicit
        user: u
        auth: XOAUTH2
        oauth_token_file: /etc/mailmon/token
        ca: `+ca+`
        from: a@example.com
        to: u@example.com
        stale_after: 2h
        mailbox_check: status
        smtp: {port: 587, tls: starttls, ca: `+relayCA+`}
        recovery:
          - {command: [/usr/bin/restart, imap], timeout: 42s}
          - command: [/usr/bin/true]
`)
	d, _ := f.st.DeviceByName(ctx, "d")
	m, _ := f.st.MonitorByName(ctx, d.ID, "rt")
	b := f.loggedIn(t)
	_, page := b.get(t, fmt.Sprintf("/monitors/%d/edit", m.ID))
	for _, want := range []string{`id="ro-recovery">/usr/bin/restart imap
/usr/bin/true</pre>`, `id="ro-oauth_token_file">/etc/mailmon/token<`, `id="ro-ca">` + ca + `<`, `id="ro-smtp.ca">` + relayCA + `<`} {
		if !strings.Contains(page, want) {
			t.Errorf("the edit form does not show %q read-only", want)
		}
	}
	for _, field := range []string{`name="recovery"`, `name="ca"`, `name="smtp.ca"`, `name="oauth_token_file"`} {
		if strings.Contains(page, field) {
			t.Errorf("the edit form has an input %s", field)
		}
	}
	code, body, _ := b.post(t, fmt.Sprintf("/monitors/%d/edit", m.ID), url.Values{"name": {"rt renamed"}, "enabled": {"on"}, "port": {"993"}, "tls": {"implicit"},
		"user": {"u"}, "auth": {"XOAUTH2"}, "from": {"a@example.com"}, "to": {"u@example.com"}, "smtp.port": {"587"}, "smtp.tls": {"starttls"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", code, errorsIn(body))
	}
	got, _ := f.st.Monitor(ctx, m.ID)
	var spec config.Monitor
	json.Unmarshal(got.Spec, &spec)
	if got.Name != "rt renamed" || spec.StaleAfter.D() != 2*time.Hour || spec.MailboxCheck != "status" || spec.OAuthTokenFile != "/etc/mailmon/token" ||
		spec.CA != ca || spec.SMTP == nil || spec.SMTP.CA != relayCA ||
		len(spec.Recovery) != 2 || spec.Recovery[0].Timeout.D() != 42*time.Second || spec.Recovery[1].Timeout != 0 {
		t.Errorf("after the edit: %s", got.Spec)
	}
}

// TestEventsCapped: a session holds at most maxStreamsPerSession live
// streams; one more is refused until one of them ends, and another
// session is not held back by the first.
func TestEventsCapped(t *testing.T) {
	f := newFixture(t, true)
	b := f.loggedIn(t)
	open := func(b *browser) *http.Response {
		t.Helper()
		resp, err := b.c.Get(f.srv.URL + "/events?ids=1")
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	var live []*http.Response
	for i := 0; i < maxStreamsPerSession; i++ {
		resp := open(b)
		if resp.StatusCode != 200 {
			t.Fatalf("stream %d: HTTP %d", i+1, resp.StatusCode)
		}
		live = append(live, resp)
	}
	defer func() {
		for _, r := range live {
			r.Body.Close()
		}
	}()
	resp := open(b)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("stream %d: HTTP %d, want 429", maxStreamsPerSession+1, resp.StatusCode)
	}
	other := open(f.loggedIn(t))
	other.Body.Close()
	if other.StatusCode != 200 {
		t.Errorf("another session's stream: HTTP %d", other.StatusCode)
	}
	// A closed tab frees its place (once the server sees the close).
	live[0].Body.Close()
	live = live[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := open(b)
		if resp.StatusCode == 200 {
			live = append(live, resp)
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("after a stream ended: HTTP %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
