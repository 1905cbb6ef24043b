package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

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

// TestFetchReusesItsBuffer: an endpoint's answer is read into the buffer
// of its last one, as Prometheus reads a scrape into one of the last
// one's size: a second 4 MiB answer allocates well under its size (into
// a new bytes.Buffer, grown from 512 bytes, it allocated about twice it),
// and is still read whole.
func TestFetchReusesItsBuffer(t *testing.T) {
	const size = 4 << 20
	answer := bytes.Repeat([]byte("x"), size)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(answer) }))
	t.Cleanup(srv.Close)
	e := endpoint{name: "/metrics", client: &http.Client{Timeout: 30 * time.Second}, body: new(bytes.Buffer),
		req: func() *http.Request { r, _ := http.NewRequest("GET", srv.URL, nil); return r }}
	if f := e.fetch(); f.err != nil || f.bytes != size {
		t.Fatalf("first fetch: %+v", f)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f := e.fetch()
	runtime.ReadMemStats(&m1)
	if f.err != nil || f.bytes != size {
		t.Fatalf("second fetch: %+v", f)
	}
	if got := m1.TotalAlloc - m0.TotalAlloc; got > size/4 {
		t.Errorf("the second fetch allocated %d bytes for a %d-byte answer: want it read into the first's buffer", got, size)
	}
	if !bytes.Equal(e.body.Bytes(), answer) {
		t.Errorf("the second answer was not read whole into the buffer: %d bytes", e.body.Len())
	}
}
