package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/hostile"
)

// applyWithToken applies a configuration to db, as the operator does, and
// creates an API token.
func applyWithToken(t *testing.T, env []string, db, yaml string) (token string) {
	t.Helper()
	cfg := filepath.Join(filepath.Dir(db), "applied.yaml")
	os.WriteFile(cfg, []byte(yaml), 0o600)
	if code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	code, tok, errOut, _ := mailmon(t, nil, "token", "create", "--name", "test", "--db", db)
	if code != 0 {
		t.Fatalf("token create: exit %d\n%s", code, errOut)
	}
	return strings.TrimSpace(tok)
}

// send makes an API request with token and returns the status and the
// body.
func (d *daemon) send(t *testing.T, method, path, token string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeEgressAndMinInterval is finding 4 of the attack on the daemon:
// through the API, /probe scanned loopback ports and a monitor with
// up_every 10ms made hundreds of sessions a second. Now serve refuses
// loopback and link-local targets set through the API unless
// --allow-targets lists them, refuses intervals under --min-interval, and
// tests a monitor applied with 10ms no more often than that minimum.
func TestServeEgressAndMinInterval(t *testing.T) {
	var conns atomic.Int64
	srv := hostile.Start(t, func(c *hostile.Conn) {
		conns.Add(1)
		c.Send("220 local ESMTP\r\n")
	})
	db := filepath.Join(t.TempDir(), "mailmon.db")
	env := []string{"MAILMON_SECRET=egress-test-installation-secret-01"}
	tok := applyWithToken(t, env, db, `devices:
  - name: local
    address: 127.0.0.1
    monitors:
      - name: fast
        type: tcp
        port: `+strconv.Itoa(srv.Port)+`
        timing: {max_duration: 5ms, up_every: 10ms, down_every: 10ms, lost_every: 10ms}
`)

	d := startNode(t, db, env)
	target := "127.0.0.1:" + strconv.Itoa(srv.Port)
	refused := func(what string, code int, body, field, flag string) {
		t.Helper()
		var out struct{ Fields map[string]string }
		json.Unmarshal([]byte(body), &out)
		if code != http.StatusBadRequest || !strings.Contains(out.Fields[field], flag) {
			t.Errorf("%s: %d %s, want 400 naming %s and %s", what, code, body, field, flag)
		}
	}
	for _, tgt := range []string{target, "169.254.169.254:80", "[::1]:22"} {
		code, body := d.send(t, "GET", "/probe?type=tcp&expect=220&target="+url.QueryEscape(tgt), tok, nil)
		refused("/probe "+tgt, code, body, "target", "--allow-targets")
	}
	code, body := d.send(t, "POST", "/api/v1/devices", tok, map[string]any{"name": "lo", "address": "127.0.0.1"})
	refused("a loopback device", code, body, "address", "--allow-targets")
	code, body = d.send(t, "POST", "/api/v1/devices", tok, map[string]any{"name": "pub", "address": "192.0.2.10"})
	if code != http.StatusCreated {
		t.Fatalf("a public device: %d %s", code, body)
	}
	var dev struct{ ID int64 }
	json.Unmarshal([]byte(body), &dev)
	code, body = d.send(t, "POST", "/api/v1/monitors", tok, map[string]any{"device": dev.ID,
		"settings": map[string]any{"name": "fast", "type": "smtp", "timing": map[string]any{"max_duration": "5ms", "up_every": "10ms"}}})
	refused("up_every 10ms", code, body, "timing.up_every", "--min-interval")

	// The applied monitor is the operator's: tested (loopback and all),
	// but at the minimum interval of 10 s, not every 10 ms.
	deadline := time.Now().Add(10 * time.Second)
	for conns.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	first := conns.Load()
	<-time.After(3 * time.Second)
	if n := conns.Load() - first; first == 0 || n > 1 {
		t.Errorf("%d tests of the applied loopback monitor in the 3 s after its first (%d), want at most 1 at a 10 s minimum\n%s",
			n, first, d.stderr.String())
	}
	if log := d.stderr.String(); !strings.Contains(log, "up_every 10ms raised to 10s (serve --min-interval)") {
		t.Errorf("the clamp is not logged:\n%s", log)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}

	// With --allow-targets listing it, /probe reaches the loopback server.
	d = startNode(t, db, env, "--allow-targets", "127.0.0.1/32")
	code, body = d.send(t, "GET", "/probe?type=tcp&expect=220&target="+url.QueryEscape(target), tok, nil)
	if code != http.StatusOK || !strings.Contains(body, "\nprobe_success 1\n") {
		t.Errorf("/probe with --allow-targets 127.0.0.1/32: %d\n%s", code, body)
	}
}
