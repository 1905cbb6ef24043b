package api

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

// probeGet calls /probe with the fixture's token and an optional scrape
// timeout header; it returns the status and the body.
func (f *fixture) probeGet(t *testing.T, query string, scrapeTimeout string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+"/probe?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	if scrapeTimeout != "" {
		req.Header.Set(ScrapeTimeoutHeader, scrapeTimeout)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// series reads a text exposition into series (as written, labels sorted)
// → value.
func series(t *testing.T, body string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, l := range strings.Split(body, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("not a sample: %q", l)
		}
		out[l[:i]] = v
	}
	return out
}

func TestProbeBadParameters(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		query, header, field string
	}{
		{"target=127.0.0.1:25", "", "type"},
		{"type=smtp", "", "target"},
		{"type=http&target=127.0.0.1:80", "", "type"},
		{"type=imap-roundtrip&target=127.0.0.1:143", "", "type"},
		{"type=smtp&target=127.0.0.1:99999", "", "target"},
		{"type=smtp&target=127.0.0.1:x", "", "target"},
		{"type=smtp&target=::1:25", "", "target"},
		{"type=tcp&target=127.0.0.1", "", "target"},
		{"type=smtp&target=a%20b:25", "", "target"},
		{"type=smtp&target=127.0.0.1:25&tls=ssl", "", "tls"},
		{"type=imap&target=127.0.0.1:143&ehlo=x", "", "ehlo"},
		{"type=smtp&target=127.0.0.1:25&ehlo=a%20b", "", "ehlo"},
		{"type=smtp&target=127.0.0.1:25&expect=x", "", "expect"},
		{"type=smtp&target=127.0.0.1:25&servername=a/b", "", "servername"},
		{"type=smtp&target=127.0.0.1:25&insecure_skip_verify=maybe", "", "insecure_skip_verify"},
		{"type=smtp&target=127.0.0.1:25&user=u", "", "user"},
		{"type=smtp&target=127.0.0.1:25&password=p", "", "password"},
		{"type=smtp&target=127.0.0.1:25&ca=/etc/shadow", "", "ca"},
		{"type=smtp&type=imap&target=127.0.0.1:25", "", "type"},
		{"type=smtp&target=127.0.0.1:25", "soon", ScrapeTimeoutHeader},
		{"type=smtp&target=127.0.0.1:25", "-1", ScrapeTimeoutHeader},
		{"monitor=nosuch/monitor", "", "monitor"},
		{"monitor=12345", "", "monitor"},
		{"monitor=nosuch", "", "monitor"},
		{"monitor=1&type=smtp", "", "type"},
		{"monitor=1&target=127.0.0.1:25", "", "target"},
	} {
		t.Run(c.query, func(t *testing.T) {
			code, body := f.probeGet(t, c.query, c.header)
			var out struct {
				Fields map[string]string `json:"fields"`
			}
			json.Unmarshal([]byte(body), &out)
			if code != http.StatusBadRequest || out.Fields[c.field] == "" {
				t.Errorf("%d %s, want 400 naming %s", code, body, c.field)
			}
		})
	}
}

func TestProbeExposition(t *testing.T) {
	f := newFixture(t)
	ca := certs.NewCA(t)
	cert := ca.Issue(t, certs.Leaf{})
	tlsSrv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(cert)})
	plain := fakesmtp.Start(t, fakesmtp.Options{})
	closed := freeClosedPort(t)

	t.Run("starttls up", func(t *testing.T) {
		code, body := f.probeGet(t, "type=smtp&tls=starttls&insecure_skip_verify=true&ehlo=probe.test&target="+
			url.QueryEscape(net.JoinHostPort(tlsSrv.Host, strconv.Itoa(tlsSrv.Port))), "")
		s := series(t, body)
		want := map[string]float64{
			"probe_success": 1,
			`probe_tls_version_info{version="TLS 1.3"}`: 1,
			`probe_ssl_earliest_cert_expiry`:            float64(cert.Leaf.NotAfter.Unix()),
			`mailmon_probe_status{status="up"}`:         1,
			`mailmon_probe_status{status="down"}`:       0,
		}
		for k, v := range want {
			if got, ok := s[k]; code != http.StatusOK || !ok || got != v {
				t.Errorf("%s = %v (present %v), want %v; status %d\n%s", k, got, ok, v, code, body)
			}
		}
		for _, p := range []string{"connect", "greeting", "starttls", "tls"} {
			if v, ok := s[`probe_phase_duration_seconds{phase="`+p+`"}`]; !ok || v < 0 {
				t.Errorf("no %s phase in\n%s", p, body)
			}
		}
		if d := s["probe_duration_seconds"]; d <= 0 || d > 5 {
			t.Errorf("probe_duration_seconds %v", d)
		}
		if strings.Contains(body, "mailmon_probe_error_code_info") {
			t.Errorf("an error code on success:\n%s", body)
		}
	})
	t.Run("starttls required but not offered", func(t *testing.T) {
		_, body := f.probeGet(t, "type=smtp&tls=starttls&target="+net.JoinHostPort(plain.Host, strconv.Itoa(plain.Port)), "")
		s := series(t, body)
		if s["probe_success"] != 0 || s[`mailmon_probe_error_code_info{code="tls_unavailable"}`] != 1 {
			t.Errorf("want failure with tls_unavailable:\n%s", body)
		}
	})
	t.Run("down", func(t *testing.T) {
		code, body := f.probeGet(t, "type=smtp&target=127.0.0.1:"+strconv.Itoa(closed), "")
		s := series(t, body)
		if code != http.StatusOK || s["probe_success"] != 0 || s[`mailmon_probe_error_code_info{code="connect_failed"}`] != 1 || s[`mailmon_probe_status{status="down"}`] != 1 {
			t.Errorf("%d\n%s", code, body)
		}
	})
	t.Run("tcp banner", func(t *testing.T) {
		_, body := f.probeGet(t, "type=tcp&expect=ESMTP&target="+net.JoinHostPort(plain.Host, strconv.Itoa(plain.Port)), "")
		if s := series(t, body); s["probe_success"] != 1 {
			t.Errorf("tcp:\n%s", body)
		}
	})
	t.Run("ipv6", func(t *testing.T) {
		if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
			t.Skip("no IPv6 loopback here")
		} else {
			ln.Close()
		}
		six := fakesmtp.Start(t, fakesmtp.Options{Network: "tcp6"})
		_, body := f.probeGet(t, "type=smtp&target="+url.QueryEscape("[::1]:"+strconv.Itoa(six.Port)), "")
		if s := series(t, body); s["probe_success"] != 1 {
			t.Errorf("[::1]:\n%s", body)
		}
	})
	t.Run("server text never a label", func(t *testing.T) {
		evil := hostile.Start(t, func(c *hostile.Conn) {
			c.Send("554 evil\"} injected{x=\"1\r\n")
		})
		_, body := f.probeGet(t, "type=smtp&target="+evil.Addr(), "")
		if strings.Contains(body, "evil") || strings.Contains(body, "injected") || series(t, body)["probe_success"] != 0 {
			t.Errorf("server text in the exposition or not a failure:\n%s", body)
		}
	})
}

// freeClosedPort is a loopback port nobody listens on.
func freeClosedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

// TestProbeScrapeTimeout: a server that never answers costs the scrape
// timeout less the margin, and the answer is a failure, not a timed-out
// scrape.
func TestProbeScrapeTimeout(t *testing.T) {
	f := newFixture(t)
	silent := hostile.Start(t, func(c *hostile.Conn) { c.Hang() })
	const budget = 1500 * time.Millisecond // 2 s less the 0.5 s margin
	var code int
	var body string
	// late: how late the machine itself woke at the budget's end, and
	// stalled: the longest it stalled during the whole request (a loaded
	// one, by a few hundred ms), which neither the probe's deadline nor
	// the HTTP exchange around it can make up for.
	var took, late time.Duration
	_, stalled := hostile.Stalled(func() {
		took, late = hostile.Timed(budget, func() { code, body = f.probeGet(t, "type=smtp&target="+silent.Addr(), "2") })
	})
	s := series(t, body)
	if code != http.StatusOK || s["probe_success"] != 0 || s[`mailmon_probe_error_code_info{code="timeout"}`] != 1 {
		t.Errorf("%d\n%s", code, body)
	}
	// The probe's own budget is the scrape timeout less the margin, as
	// the probe measured it, and the answer comes before Prometheus
	// gives up at 2 s, unless the machine itself was that late.
	probed := time.Duration(s["probe_duration_seconds"] * float64(time.Second))
	if probed < budget-100*time.Millisecond || probed > budget+100*time.Millisecond+late {
		t.Errorf("the probe took %v, want its budget %v (2 s less the 0.5 s margin; the machine woke %v late)", probed, budget, late)
	}
	if took < budget-100*time.Millisecond || took >= 2*time.Second+stalled {
		t.Errorf("took %v, want about 1.5 s, and an answer before Prometheus gives up at 2 s (the machine stalled up to %v)", took, stalled)
	}
	t.Logf("the probe took %v, the request %v; the machine woke %v late at the deadline, stalled up to %v", probed, took, late, stalled)
	// The server's cap wins over a longer scrape timeout.
	f.api.ProbeMaxTimeout = 300 * time.Millisecond
	start := time.Now()
	f.probeGet(t, "type=smtp&target="+silent.Addr(), "30")
	if took := time.Since(start); took > time.Second {
		t.Errorf("with --probe-max-timeout 300ms a probe took %v", took)
	}
}

// TestProbeInFlightLimit: past the cap, a probe that cannot start within
// its budget is refused.
func TestProbeInFlightLimit(t *testing.T) {
	f := newFixture(t)
	f.api.ProbeMaxInFlight = 1
	silent := hostile.Start(t, func(c *hostile.Conn) { c.Hang() })
	busy := make(chan int)
	go func() {
		req, _ := http.NewRequest("GET", f.srv.URL+"/probe?type=smtp&target="+silent.Addr(), nil)
		req.Header.Set("Authorization", "Bearer "+f.token)
		req.Header.Set(ScrapeTimeoutHeader, "3")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			busy <- 0
			return
		}
		resp.Body.Close()
		busy <- resp.StatusCode
	}()
	// Wait until the first probe holds the slot (its connection is open).
	deadline := time.Now().Add(2 * time.Second)
	for len(f.api.probeSlots()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if code, body := f.probeGet(t, "type=smtp&target="+silent.Addr(), "1"); code != http.StatusServiceUnavailable {
		t.Errorf("second probe: %d %s, want 503", code, body)
	}
	if code := <-busy; code != http.StatusOK {
		t.Errorf("first probe: %d", code)
	}
}

// TestProbeMonitor: a stored monitor, by id and by DEVICE/NAME, is tested
// with its own secret; nothing of the test is recorded.
func TestProbeMonitor(t *testing.T) {
	f := newFixture(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{AllowInsecureAuth: true,
		Accounts: saslsrv.Accounts{Passwords: map[string]string{"u@example.test": "probe-s3cret"}}})
	code, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("device: %d %v", code, dev)
	}
	mk := func(name, pw string) string {
		code, m := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": dev["id"], "password": pw,
			"settings": map[string]any{"name": name, "type": "smtp", "port": srv.Port, "user": "u@example.test",
				"allow_plaintext_auth": true, "auth": "PLAIN", "timing": map[string]any{"up_every": "1h"}}}, f.token)
		if code != http.StatusCreated {
			t.Fatalf("monitor: %d %v", code, m)
		}
		return strconv.Itoa(int(m["id"].(float64)))
	}
	good := mk("Submission/587", "probe-s3cret")
	mk("Wrong password", "nope")
	for _, ref := range []string{good, "mail1/Submission/587"} {
		code, body := f.probeGet(t, "monitor="+url.QueryEscape(ref), "")
		s := series(t, body)
		if code != http.StatusOK || s["probe_success"] != 1 || s[`probe_phase_duration_seconds{phase="auth"}`] <= 0 {
			t.Errorf("monitor=%s: %d\n%s", ref, code, body)
		}
	}
	_, body := f.probeGet(t, "monitor="+url.QueryEscape("mail1/Wrong password"), "")
	if s := series(t, body); s["probe_success"] != 0 || s[`mailmon_probe_error_code_info{code="auth_failed"}`] != 1 {
		t.Errorf("wrong password:\n%s", body)
	}
	if strings.Contains(f.seen.String()+body, "probe-s3cret") {
		t.Error("the password was in a response")
	}
	// /probe records nothing: the monitor is still pending, without results.
	_, m := f.do(t, "GET", "/api/v1/monitors/"+good, nil, f.token)
	_, res := f.do(t, "GET", "/api/v1/monitors/"+good+"/results", nil, f.token)
	if m["state"] != "pending" || len(res["items"].([]any)) != 0 {
		t.Errorf("a /probe test was recorded: %v %v", m["state"], res)
	}
}

// TestProbeRoundTripMonitor: a stored round trip through /probe sends its
// probe, finds and deletes it, and reports the delivery time.
func TestProbeRoundTripMonitor(t *testing.T) {
	f := newFixture(t)
	const user = "probe@example.test"
	pop := fakepop3.Start(t, fakepop3.Options{Users: []fakepop3.User{{Name: user, Password: "rt-s3cret"}}})
	pop.Deliver(user, []byte("From: a@example.test\r\nSubject: keep me\r\n\r\nhello\r\n"))
	smtp := fakesmtp.Start(t, fakesmtp.Options{OnData: func(m fakesmtp.Message) { pop.Deliver(user, m.Data) }})
	code, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("device: %d %v", code, dev)
	}
	code, m := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": dev["id"], "password": "rt-s3cret",
		"settings": map[string]any{"name": "Round trip", "type": "pop3-roundtrip", "port": pop.Port, "user": user,
			"allow_plaintext_auth": true, "from": user, "to": user, "smtp": map[string]any{"port": smtp.Port},
			"timing": map[string]any{"up_every": "1h"}}}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("monitor: %d %v", code, m)
	}
	code, body := f.probeGet(t, "monitor="+url.QueryEscape("mail1/Round trip"), "5")
	s := series(t, body)
	if code != http.StatusOK || s["probe_success"] != 1 || s["probe_delivery_seconds"] <= 0 ||
		s[`probe_phase_duration_seconds{phase="smtp_data"}`] <= 0 {
		t.Errorf("%d\n%s", code, body)
	}
	if msgs := pop.Messages(user); len(msgs) != 1 || !strings.Contains(string(msgs[0].Data), "keep me") {
		t.Errorf("the mailbox after the round trip: %d messages, want only the one that was there", len(msgs))
	}
}
