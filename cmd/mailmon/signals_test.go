package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
)

// TestSIGTERMFinishesWhatRuns is issue 22's SIGTERM test: stopped while a
// test is running (its server holds the greeting) and an alert is being
// delivered (the receiver holds its answer), the daemon stores the test's
// result, marks the alert sent, exits 0, and after a restart sends nothing
// twice.
func TestSIGTERMFinishesWhatRuns(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mailmon.db")
	var healthy atomic.Bool
	failing := smtpTarget(t, &healthy)
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free)
	held := make(chan struct{}, 8)
	slow := hostile.Start(t, func(c *hostile.Conn) {
		held <- struct{}{}
		select {
		case <-release:
		case <-c.Ctx.Done():
			return
		}
		answerSMTP(c, "slow")
	})
	var mu sync.Mutex
	delivered := map[string]int{}
	var events []string
	arrived := make(chan struct{}, 8)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct{ ID, Event, State string }
		json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&p)
		mu.Lock()
		delivered[p.ID]++
		events = append(events, p.Event+":"+p.State)
		mu.Unlock()
		arrived <- struct{}{}
		<-release // the answer waits: the delivery is in flight
	}))
	t.Cleanup(rcv.Close)
	t.Cleanup(free) // before rcv.Close, which waits for the handlers
	cfg := filepath.Join(dir, "signals.yaml")
	os.WriteFile(cfg, []byte(alertOnceYAML(rcv.URL, failing.Port, `      - name: slow
        type: smtp
        port: `+strconv.Itoa(slow.Port)+`
        timing: {max_duration: 20s, up_every: 1h}
`)), 0o600)
	env := []string{"MAILMON_SECRET=signals-test-installation-secret-01"}
	if code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	_, tok, _, _ := mailmon(t, nil, "token", "create", "--name", "t", "--db", db)
	tok = strings.TrimSpace(tok)

	d := startNode(t, db, env, "--min-interval", "100ms", "--log-format", "json")
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(20 * time.Second):
			t.Fatalf("no %s\n%s", what, d.stderr.String())
		}
	}
	wait(arrived, "alert delivery")
	wait(held, "test of the slow server")
	d.cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, "the daemon to say it is stopping", 10*time.Second, func() bool { return strings.Contains(d.stderr.String(), "stopping") })
	free()
	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve on SIGTERM: %v\n%s", err, d.stderr.String())
		}
	case <-time.After(30 * time.Second):
		d.kill()
		t.Fatalf("serve did not exit within 30 s of SIGTERM\n%s", d.stderr.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(d.stderr.String()), "\n") {
		if !json.Valid([]byte(l)) {
			t.Errorf("--log-format json wrote a line that is not JSON: %q", l)
		}
	}

	// The slow server's test, running at SIGTERM, is stored, and passed.
	d = startNode(t, db, env, "--min-interval", "100ms")
	var res struct {
		Items []struct {
			Status string
			Error  *struct{ Code string }
		}
	}
	if code := d.get("/api/v1/monitors/2/results", tok, &res); code != 200 || len(res.Items) != 1 || res.Items[0].Status != "up" {
		t.Errorf("the test in flight at SIGTERM: %d %+v, want its one result, up", code, res)
	}
	var log struct{ Items []map[string]any }
	d.get("/api/v1/monitors/1/alert-log", tok, &log)
	if len(log.Items) != 1 || log.Items[0]["status"] != "sent" {
		t.Errorf("the alert being delivered at SIGTERM: %v, want it sent", log.Items)
	}
	// The failing server recovers: the recovery reaches the receiver, and
	// the alert, sent before, is not sent again.
	healthy.Store(true)
	wait(arrived, "recovery")
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(events, ",") != "alert:lost,recovery:up" {
		t.Errorf("received %v, want the alert then the recovery, once each", events)
	}
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
}

// TestSIGHUPReloadsCertificate: a certificate renewed on disk is served to
// new connections after SIGHUP, without a restart; a broken one is
// refused and the previous one kept.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := certs.NewCA(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func(c tls.Certificate) {
		t.Helper()
		key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600)
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	}
	old := ca.ExpiringIn(t, 24*time.Hour)
	write(old)
	d := startNode(t, filepath.Join(dir, "mailmon.db"), nil, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(d.url, "https://") {
		t.Fatalf("serve with --tls-cert listens on %s", d.url)
	}
	served := func() *x509.Certificate {
		t.Helper()
		c, err := tls.Dial("tcp", strings.TrimPrefix(d.url, "https://"), &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0]
	}
	if got := served(); !got.Equal(old.Leaf) {
		t.Fatalf("served %v, want the first certificate", got.SerialNumber)
	}
	renewed := ca.ExpiringIn(t, 90*24*time.Hour)
	write(renewed)
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", 10*time.Second, func() bool { return strings.Contains(d.stderr.String(), "TLS certificate reloaded") })
	if got := served(); !got.Equal(renewed.Leaf) {
		t.Errorf("after SIGHUP a new connection gets %v (not after %v), want the renewed certificate", got.SerialNumber, got.NotAfter)
	}
	os.WriteFile(certFile, []byte("not a certificate"), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the failed reload's error", 10*time.Second, func() bool { return strings.Contains(d.stderr.String(), "previous one is served still") })
	if got := served(); !got.Equal(renewed.Leaf) {
		t.Errorf("after a broken renewal a new connection gets %v, want the last good certificate", got.SerialNumber)
	}
	if err := d.stop(); err != nil {
		t.Errorf("serve on SIGTERM: %v\n%s", err, d.stderr.String())
	}
}
