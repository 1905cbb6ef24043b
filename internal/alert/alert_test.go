package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

var ev = Event{
	ID: "12-alert-1700000000000-1", Kind: "alert", MonitorID: 12, Monitor: "IMAP login", Device: "mail1",
	Type: "imap", State: "down", Code: "auth_failed", Message: "The server rejected the credentials",
	Detail: "a2 NO [AUTHENTICATIONFAILED] Authentication failed.", RTT: 12345 * time.Microsecond,
	Time: time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC), URL: "https://mailmon.example/monitors/12",
}

type receiver struct {
	mu     sync.Mutex
	bodies [][]byte
	status []int // answers in order; then 200
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, b)
	if len(r.status) > 0 {
		w.WriteHeader(r.status[0])
		r.status = r.status[1:]
	}
}

func TestWebhookGeneric(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	if err := (&Webhook{URL: srv.URL}).Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(rc.bodies[0], &got)
	want := map[string]any{"event": "alert", "monitor": "IMAP login", "device": "mail1", "type": "imap", "state": "down",
		"rtt_ms": 12.345, "time": "2026-11-22T01:02:03Z", "url": "https://mailmon.example/monitors/12", "id": ev.ID}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if e, _ := got["error"].(map[string]any); e["code"] != "auth_failed" || e["message"] != ev.Message {
		t.Errorf("error = %v", got["error"])
	}
}

func TestWebhookSlackAndTeams(t *testing.T) {
	b, _ := (&Webhook{Format: FormatSlack}).Payload(ev)
	var slack map[string]string
	if json.Unmarshal(b, &slack); !strings.Contains(slack["text"], "IMAP login on mail1 is down: auth_failed") || !strings.Contains(slack["text"], "|open>") {
		t.Errorf("slack: %s", b)
	}
	b, _ = (&Webhook{Format: FormatTeams}).Payload(Event{Kind: "recovery", Monitor: "m", Device: "d", State: "up"})
	var teams map[string]any
	if json.Unmarshal(b, &teams); teams["@type"] != "MessageCard" || teams["themeColor"] != "2E7D32" || !strings.Contains(teams["summary"].(string), "recovered") {
		t.Errorf("teams: %s", b)
	}
	if _, err := (&Webhook{Format: "xml"}).Payload(ev); err == nil {
		t.Error("unknown format accepted")
	}
}

// A webhook's 5xx is worth another try (the outbox retries it), a 4xx is
// Permanent: no retry.
func TestWebhookStatusTemporaryOrPermanent(t *testing.T) {
	rc := &receiver{status: []int{500, 503, 404}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	var perm *Permanent
	for _, want := range []string{"500", "503"} {
		err := (&Webhook{URL: srv.URL}).Notify(context.Background(), ev)
		if err == nil || errors.As(err, &perm) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want a temporary error", want, err)
		}
	}
	if err := (&Webhook{URL: srv.URL}).Notify(context.Background(), ev); !errors.As(err, &perm) {
		t.Fatalf("404: %v, want Permanent", err)
	}
	if err := (&Webhook{URL: srv.URL}).Notify(context.Background(), ev); err != nil {
		t.Fatalf("200: %v", err)
	}
}

func TestCommandNoShellTokensInEnv(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	script := filepath.Join(dir, "notify.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s|%s|%s|%s' \"$MAILMON_MONITOR\" \"$MAILMON_STATE\" \"$MAILMON_ERROR_CODE\" \"$1\" > \""+out+"\"\n"), 0o700)
	c := &Command{Argv: []string{script, "$(touch " + filepath.Join(dir, "pwned") + ")"}}
	if err := c.Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if string(b) != "IMAP login|down|auth_failed|$(touch "+filepath.Join(dir, "pwned")+")" {
		t.Errorf("command saw %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("an argument was run through a shell")
	}
	slow := &Command{Argv: []string{"sleep", "10"}, Timeout: 200 * time.Millisecond}
	start := time.Now()
	if err := slow.Notify(context.Background(), ev); err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("timeout not enforced: %v after %v", err, time.Since(start))
	}
	if err := (&Command{Argv: []string{"false"}}).Notify(context.Background(), ev); err == nil {
		t.Error("a failing command reported success")
	}
	// A failed command's output goes into the error (the alert log's
	// last_error): capped, its secrets redacted, no daemon environment.
	t.Setenv("MAILMON_SECRET_KEY", "daemon-storage-key-0123456789")
	loud := &Command{Argv: []string{"/bin/sh", "-c", `env; echo relay-Passw0rd; head -c 9000 /dev/zero | tr '\0' y; exit 2`}, Secrets: []string{"relay-Passw0rd"}}
	err := loud.Notify(context.Background(), ev)
	if err == nil || strings.Contains(err.Error(), "relay-Passw0rd") || strings.Contains(err.Error(), "daemon-storage-key") ||
		!strings.Contains(err.Error(), "[redacted]") || !strings.Contains(err.Error(), "MAILMON_MONITOR=IMAP login") || len(err.Error()) > 4096+200 {
		t.Errorf("a failed command's error: %.300v", err)
	}
}

func TestEmailThroughRelay(t *testing.T) {
	ca := certs.NewCA(t)
	relay := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{})),
		Accounts: saslsrv.Accounts{Passwords: map[string]string{"alerts@example.test": "relay-pw"}}})
	e := &Email{
		Relay: probe.Config{Host: relay.Host, Port: relay.Port, TLS: probe.TLSStartTLS, CAFile: ca.File(t),
			User: "alerts@example.test", Password: "relay-pw"},
		From: "alerts@example.test", To: []string{"oncall@example.test", "boss@example.test"},
	}
	if err := e.Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	msgs := relay.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 2 || msgs[0].User != "alerts@example.test" {
		t.Fatalf("relay got %+v", msgs)
	}
	m := string(msgs[0].Data)
	for _, want := range []string{"Subject: [mailmon] IMAP login on mail1 is down", "Error: auth_failed: The server rejected the credentials", ev.URL} {
		if !strings.Contains(m, want) {
			t.Errorf("message lacks %q:\n%s", want, m)
		}
	}
	bad := *e
	bad.Relay.Password = "wrong"
	var perm *Permanent
	if err := bad.Notify(context.Background(), ev); !errors.As(err, &perm) {
		t.Errorf("rejected relay credentials are not permanent: %v", err)
	}
}

func TestExpand(t *testing.T) {
	got := Expand("{monitor}@{device} {state} {error_code} {rtt} {time} {link} {unknown}", ev)
	want := "IMAP login@mail1 down auth_failed 12.3 ms 2026-11-22T01:02:03Z https://mailmon.example/monitors/12 {unknown}"
	if got != want {
		t.Errorf("got %q", got)
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}
