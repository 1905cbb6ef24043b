package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/domainprobe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
	"github.com/mailmon/mailmon/internal/vault"
)

// mtaSTSAt are the probers with MTA-STS policies fetched from port.
func mtaSTSAt(port int) func(string) (probe.Prober, bool) {
	return func(typ string) (probe.Prober, bool) {
		if typ == domainprobe.MTASTSName {
			return domainprobe.MTASTSAt(port), true
		}
		return kinds.Prober(typ)
	}
}

// TestMTASTSMonitorInTheDaemon: mta-sts monitors in the engine against a
// local policy server with test-CA certificates (ca: in the monitor),
// NSD and a validating unbound: the good policy is Up, an expired
// certificate Down with cert_invalid, an MX not covered Down with
// policy_mismatch; the state follows (Down at the first failure, as
// failures_per_alert: 1 says).
func TestMTASTSMonitorInTheDaemon(t *testing.T) {
	ctx := context.Background()
	ca := certs.NewCA(t)
	zone, port, _ := realdns.STSVariants(t, ca)
	dns := realdns.Start(t, zone)
	st := openTestStore(t)
	dev := putDevice(t, st, "mail", false)
	caFile := ca.File(t)
	put := func(name string) *store.Monitor {
		spec, _ := json.Marshal(config.Monitor{Domain: name + ".sts.test", CA: caFile,
			Timing: config.Timing{MaxDuration: config.Duration(10 * time.Second), UpEvery: config.Duration(time.Hour)},
			Notify: config.Notify{FailuresPerAlert: 1}})
		m := &store.Monitor{DeviceID: dev.ID, Name: name, Type: domainprobe.MTASTSName, Enabled: true, Spec: spec}
		must(t, st.PutMonitor(ctx, m))
		return m
	}
	e := New(Options{Store: st, DNSServer: dns.Resolver, Probers: mtaSTSAt(port)})
	mons := map[string]*store.Monitor{"good": put("good"), "expired": put("expired"), "uncovered": put("uncovered")}
	must(t, e.Load(ctx))
	for name, want := range map[string]struct {
		status probe.Status
		code   probe.Code
		state  state.State
	}{
		"good":      {probe.StatusUp, "", state.Up},
		"expired":   {probe.StatusDown, probe.CertInvalid, state.Down},
		"uncovered": {probe.StatusDown, probe.PolicyMismatch, state.Down},
	} {
		res, err := e.TestNow(ctx, mons[name].ID)
		must(t, err)
		code := probe.Code("")
		if res.Error != nil {
			code = res.Error.Code
		}
		if res.Status != want.status || code != want.code {
			t.Errorf("%s: %s %s %+v, want %s %s", name, res.Status, code, res.Error, want.status, want.code)
		}
		for _, s := range e.Snapshot() {
			if s.ID == mons[name].ID && s.State != want.state {
				t.Errorf("%s: state %s, want %s", name, s.State, want.state)
			}
		}
	}
}

// receiver is a webhook's receiving end: each payload on a channel.
func receiver(t *testing.T) (url string, got <-chan alert.GenericPayload) {
	t.Helper()
	ch := make(chan alert.GenericPayload, 100)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var p alert.GenericPayload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("webhook payload: %v: %s", err, b)
		}
		select {
		case ch <- p:
		default:
			t.Errorf("webhook payloads pile up: %+v", p)
		}
	}))
	t.Cleanup(hs.Close)
	return hs.URL, ch
}

// TestDANEAlertWhenTLSAStopsMatching: a dane monitor of the harness
// Postfix, its TLSA records signed by NSD and validated by unbound, runs
// Up in the daemon; the zone is then re-signed with a TLSA record of
// another key (a renewal whose record was not published) and the
// daemon's webhook alert says down, tlsa_mismatch.
func TestDANEAlertWhenTLSAStopsMatching(t *testing.T) {
	e := realmail.StartWith(t, realmail.Options{})
	dom := realdns.StartMailDomain(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := openTestStore(t)
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	dev := &store.Device{Name: "mx", Address: dom.MX}
	must(t, st.PutDevice(ctx, dev))
	url, got := receiver(t)
	a := webhookAlert(t, st, v, url)
	every := config.Duration(200 * time.Millisecond)
	mspec, _ := json.Marshal(config.Monitor{Port: dom.SMTP, Resolver: dom.Resolver, EHLO: "engine.test",
		Timing: config.Timing{MaxDuration: config.Duration(10 * time.Second), UpEvery: every, DownEvery: every, LostEvery: every},
		Notify: config.Notify{FailuresPerAlert: 1, MaxAlerts: 1000}})
	m := &store.Monitor{DeviceID: dev.ID, Name: "DANE", Type: domainprobe.DANEName, Enabled: true, Spec: mspec}
	must(t, st.PutMonitor(ctx, m))
	must(t, st.SetMonitorAlerts(ctx, m.ID, []int64{a.ID}))

	en := New(Options{Store: st, Vault: v, OutboxEvery: 20 * time.Millisecond, Timing: config.TimingLimits{MinInterval: time.Millisecond}})
	must(t, en.Load(ctx))
	res, err := en.TestNow(ctx, m.ID)
	must(t, err)
	if res.Status != probe.StatusUp {
		t.Fatalf("before the renewal: %s %+v %q", res.Status, res.Error, res.Warnings)
	}
	done := make(chan struct{})
	go func() { en.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	dom.Update(t, dom.Zone(realdns.MailZone{TLSA: []string{realdns.TLSA311(realdns.OldCert(t)), "3 1 1 " + strings.Repeat("ab", 32)}}))
	timeout := time.After(60 * time.Second) // unbound's cache holds the old records up to 5 s
	for {
		select {
		case p := <-got:
			if p.Event == "up" || p.State == "up" {
				continue
			}
			if p.State != "down" || p.Error.Code != string(probe.TLSAMismatch) || p.Monitor != "DANE" || !strings.Contains(p.Error.Message+p.Detail, "TLSA") {
				t.Fatalf("alert %+v, want down with tlsa_mismatch", p)
			}
			return
		case <-timeout:
			t.Fatal("no alert within 60 s of the TLSA record's change")
		}
	}
}
