package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/bench/harness"
)

// TestAnswersOfARealServe runs the benchmark's answers against a real
// "mailmon serve": the admin it makes logs in through the login form, and
// /metrics, the board's first page and the API's first page answer 200
// with the credentials the benchmark holds, /metrics gzipped.
func TestAnswersOfARealServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs mailmon")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mailmon")
	if out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/mailmon").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg, db := filepath.Join(dir, "bench.yaml"), filepath.Join(dir, "mailmon.db")
	os.WriteFile(cfg, []byte("devices:\n  - name: d\n    address: 127.0.0.1\n    monitors:\n      - {name: t, type: tcp, port: 9, timing: {up_every: 1h}}\n"), 0o600)
	applied, err := harness.Apply(bin, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if applied.Wall <= 0 || applied.CPU <= 0 {
		t.Errorf("apply measured as %+v: want its wall time and CPU", applied)
	}
	tok, err := harness.Token(bin, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := harness.AddUser(bin, db, webUser, webPassword); err != nil {
		t.Fatal(err)
	}
	d, err := harness.Serve(bin, db, tok)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)

	if _, err := harness.Login(d.URL, webUser, "not-the-password"); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("a login with a wrong password: %v, want HTTP 401", err)
	}
	web, err := harness.Login(d.URL, webUser, webPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range endpoints(d.URL, tok, web) {
		f := e.fetch()
		if f.err != nil || f.bytes == 0 {
			t.Errorf("%s: %+v", e.name, f)
		}
		if e.name == "/metrics" && (f.encoding != "gzip" || f.unzipped <= f.bytes) {
			t.Errorf("/metrics answered with Content-Encoding %q, %d bytes unzipped to %d: want gzip as Prometheus asks", f.encoding, f.bytes, f.unzipped)
		}
	}
	// Without the session, the board sends the browser to log in: a fetch
	// that failed, not an answer.
	anon := endpoints(d.URL, tok, harness.NoRedirects())[1]
	if f := anon.fetch(); f.err == nil || !strings.Contains(f.err.Error(), "HTTP 303") {
		t.Errorf("the board without a session: %+v, want HTTP 303", f)
	}
}
