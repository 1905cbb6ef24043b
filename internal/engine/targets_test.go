package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/sqlitetest"
)

func openTestStore(t *testing.T) *sqlite.Store { return sqlitetest.Open(t) }

// bannerServer greets with banner and hangs up; it counts connections.
func bannerServer(t *testing.T, banner string) (*hostile.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := hostile.Start(t, func(c *hostile.Conn) {
		n.Add(1)
		c.Send(banner + "\r\n")
	})
	return srv, &n
}

func putDevice(t *testing.T, st store.Store, name string, network bool) *store.Device {
	t.Helper()
	d := &store.Device{Name: name, Address: "127.0.0.1", NetworkTarget: network}
	must(t, st.PutDevice(context.Background(), d))
	return d
}

func putTCP(t *testing.T, st store.Store, dev int64, name string, port int, expect string, network bool) *store.Monitor {
	t.Helper()
	spec, _ := json.Marshal(config.Monitor{Port: port, Expect: expect,
		Timing: config.Timing{MaxDuration: config.Duration(2 * time.Second), UpEvery: config.Duration(time.Hour)}})
	m := &store.Monitor{DeviceID: dev, Name: name, Type: "tcp", Enabled: true, Spec: spec, NetworkTarget: network}
	must(t, st.PutMonitor(context.Background(), m))
	return m
}

// TestNetworkTargetsHeldToEgress: a monitor whose target was set over the
// network, or whose device's address was, is refused a loopback target
// when dialling (nothing reaches the server); the operator's own monitor
// of the same target is tested; the policy's list lets it through.
func TestNetworkTargetsHeldToEgress(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	srv, conns := bannerServer(t, "220 target ESMTP")
	opDev, netDev := putDevice(t, st, "operator", false), putDevice(t, st, "network", true)
	// The operator's monitor waits for the banner, which the server sends
	// after counting the connection: the count is settled when it is Up.
	operator := putTCP(t, st, opDev.ID, "operator", srv.Port, "ESMTP", false)
	network := putTCP(t, st, opDev.ID, "network", srv.Port, "", true)
	onNetDev := putTCP(t, st, netDev.ID, "on network device", srv.Port, "", false)

	e := New(Options{Store: st})
	must(t, e.Load(ctx))
	res, err := e.TestNow(ctx, operator.ID)
	must(t, err)
	if res.Status != probe.StatusUp || conns.Load() != 1 {
		t.Fatalf("the operator's monitor: %s %+v, %d connections", res.Status, res.Error, conns.Load())
	}
	for _, m := range []*store.Monitor{network, onNetDev} {
		res, err := e.TestNow(ctx, m.ID)
		must(t, err)
		if res.Status != probe.StatusDown || res.Error == nil || res.Error.Code != probe.ConnectFailed ||
			!strings.Contains(res.Error.Detail, "loopback") || !strings.Contains(res.Error.Detail, egress.Flag) {
			t.Errorf("%s: %s %+v, want connect_failed naming loopback and %s", m.Name, res.Status, res.Error, egress.Flag)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("the server got %d connections, want only the operator's", n)
	}

	allowed, err := egress.Parse([]string{"127.0.0.1/32"})
	must(t, err)
	e = New(Options{Store: st, Egress: allowed})
	must(t, e.Load(ctx))
	res, err = e.TestNow(ctx, network.ID)
	must(t, err)
	if res.Status != probe.StatusUp {
		t.Errorf("with --allow-targets 127.0.0.1/32: %s %+v", res.Status, res.Error)
	}
}

// TestNetworkTCPMonitorHidesBanner: a tcp monitor set over the network
// reports whether the expected text came and how many bytes, never the
// banner, in its result, its stored results and its alerts; the operator's
// tcp monitor keeps the banner.
func TestNetworkTCPMonitorHidesBanner(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	const banner = "SSH-2.0-OpenSSH_9.6 secret-build-77"
	srv, _ := bannerServer(t, banner)
	d := putDevice(t, st, "d", false)
	// The outbox does not run: an alert's payload is stored with the test.
	spec, _ := json.Marshal(config.Alert{Name: "ops", Webhook: &config.Webhook{URL: config.SecretRef{Value: "http://alerts.example.test/hook"}}})
	a := &store.Alert{Name: "ops", Kind: "webhook", Spec: spec}
	must(t, st.PutAlert(ctx, a))
	found := putTCP(t, st, d.ID, "found", srv.Port, "OpenSSH", true)
	missing := putTCP(t, st, d.ID, "missing", srv.Port, "Postfix", true)
	operator := putTCP(t, st, d.ID, "operator", srv.Port, "Postfix", false)
	for _, m := range []*store.Monitor{missing, operator} {
		mspec, _ := json.Marshal(config.Monitor{Port: srv.Port, Expect: "Postfix",
			Timing: config.Timing{MaxDuration: config.Duration(2 * time.Second), UpEvery: config.Duration(time.Hour)},
			Notify: config.Notify{FailuresPerAlert: 1, MaxAlerts: 1}})
		m.Spec = mspec
		must(t, st.PutMonitor(ctx, m))
		must(t, st.SetMonitorAlerts(ctx, m.ID, []int64{a.ID}))
	}

	e := New(Options{Store: st, Egress: egress.Default().AllowLoopback()})
	must(t, e.Load(ctx))

	leaks := func(what string, v any) {
		t.Helper()
		b, _ := json.Marshal(v)
		if bytes.Contains(b, []byte("secret-build")) || bytes.Contains(b, []byte("OpenSSH_9")) {
			t.Errorf("%s shows the banner: %s", what, b)
		}
	}
	res, err := e.TestNow(ctx, found.ID)
	must(t, err)
	if res.Status != probe.StatusUp || res.Details["expect_found"] != true || res.Details["banner_bytes"] != len(banner) {
		t.Errorf("expected text found: %s %+v details %v", res.Status, res.Error, res.Details)
	}
	leaks("an Up result", res)
	res, err = e.TestNow(ctx, missing.ID)
	must(t, err)
	if res.Status != probe.StatusDown || res.Error == nil || res.Error.Code != probe.ProtocolViolation || res.Details["expect_found"] != false {
		t.Errorf("expected text missing: %s %+v details %v", res.Status, res.Error, res.Details)
	}
	leaks("a Down result", res)
	rs, err := st.Results(ctx, missing.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 10)
	must(t, err)
	if len(rs) == 0 || rs[0].Detail == nil {
		t.Fatalf("stored results %+v", rs)
	}
	leaks("the stored result", rs)
	status, err := st.Status(ctx, missing.ID)
	must(t, err)
	leaks("the stored status", status)

	res, err = e.TestNow(ctx, operator.ID)
	must(t, err)
	if res.Details["greeting"] != banner || res.Error == nil || !strings.Contains(res.Error.Detail, "secret-build") {
		t.Errorf("the operator's tcp monitor lost its banner: %v %+v", res.Details, res.Error)
	}

	// The alert of the network monitor's outage carries no banner either.
	ns, err := st.Notifications(ctx, missing.ID, 10)
	must(t, err)
	if len(ns) == 0 {
		t.Fatal("no alert for the network monitor's outage")
	}
	leaks("the alert", ns)
}

// TestTimingClamped: a monitor stored with up_every 10ms (apply cannot
// check serve's flags) is tested at the minimum interval, and the clamp is
// logged once however often the monitor is reloaded.
func TestTimingClamped(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	srv, conns := bannerServer(t, "220 fast")
	d := putDevice(t, st, "d", false)
	spec, _ := json.Marshal(config.Monitor{Port: srv.Port, Timing: config.Timing{MaxDuration: config.Duration(5 * time.Millisecond),
		UpEvery: config.Duration(10 * time.Millisecond), DownEvery: config.Duration(10 * time.Millisecond), LostEvery: config.Duration(10 * time.Millisecond)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "fast", Type: "tcp", Enabled: true, Spec: spec}
	must(t, st.PutMonitor(ctx, m))

	var logs bytes.Buffer // written by Load and Reload, read before Run
	const floor = 250 * time.Millisecond
	e := New(Options{Store: st, Log: slog.New(slog.NewTextHandler(&logs, nil)), Timing: config.TimingLimits{MinInterval: floor}})
	must(t, e.Load(ctx))
	for range 3 {
		must(t, e.Reload(ctx, m.ID))
	}
	if n := strings.Count(logs.String(), "outside this server's limits"); n != 1 || !strings.Contains(logs.String(), "up_every 10ms raised to 250ms (serve --min-interval)") {
		t.Errorf("%d clamp lines logged, want 1 naming the field and flag:\n%s", n, logs.String())
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(rctx); close(done) }()
	// The first test comes within the start window (2 s); then count
	// over a window of eight floors: about eight tests, never the 200 of
	// a 10 ms interval.
	deadline := time.Now().Add(5 * time.Second)
	for conns.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	first := conns.Load()
	<-time.After(8 * floor)
	cancel()
	<-done
	if n := conns.Load() - first; first == 0 || n > 12 {
		t.Errorf("%d tests in %v after the first, want about 8 (a floor of %v)", n, 8*floor, floor)
	}
}

// TestMaxDurationCapped: a test's budget is cut to the cap.
func TestMaxDurationCapped(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	d := putDevice(t, st, "d", false)
	spec, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(time.Hour), UpEvery: config.Duration(2 * time.Hour)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "slow", Type: "tcp", Enabled: true, Spec: spec}
	must(t, st.PutMonitor(ctx, m))
	e := New(Options{Store: st, Timing: config.TimingLimits{MaxDuration: 3 * time.Second}})
	must(t, e.Load(ctx))
	cfg, err := e.MonitorConfig(m.ID)
	must(t, err)
	if cfg.Timeout != 3*time.Second {
		t.Errorf("timeout %v, want the cap 3s", cfg.Timeout)
	}
}

// TestLoadLogsEachClampOnce: monitors loaded with the same timing below
// serve's limits are logged in one line with their number, not one line
// each (100,000 lines at start for a file whose down_every is below
// --min-interval); another clamp has its own line, and a monitor reloaded
// later logs nothing more.
func TestLoadLogsEachClampOnce(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	d := putDevice(t, st, "d", false)
	fast, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(time.Second),
		UpEvery: config.Duration(time.Minute), DownEvery: config.Duration(10 * time.Second), LostEvery: config.Duration(time.Minute)}})
	faster, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(time.Second),
		UpEvery: config.Duration(time.Minute), DownEvery: config.Duration(5 * time.Second), LostEvery: config.Duration(time.Minute)}})
	var first int64
	for i := range 600 { // more than a page of the load
		spec := fast
		if i == 7 {
			spec = faster
		}
		m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("m", i), Type: "tcp", Enabled: true, Spec: spec}
		must(t, st.PutMonitor(ctx, m))
		if i == 0 {
			first = m.ID
		}
	}
	var logs bytes.Buffer
	e := New(Options{Store: st, Log: slog.New(slog.NewTextHandler(&logs, nil)), Timing: config.TimingLimits{MinInterval: time.Minute}})
	must(t, e.Load(ctx))
	must(t, e.Reload(ctx, first))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var clamps []string
	for _, l := range lines {
		if strings.Contains(l, "outside this server's limits") {
			clamps = append(clamps, l)
		}
	}
	if len(clamps) != 2 || !strings.Contains(clamps[0], "down_every 10s raised to 1m0s (serve --min-interval)") || !strings.Contains(clamps[0], "monitors=599") ||
		!strings.Contains(clamps[0], fmt.Sprint("first=", first)) || !strings.Contains(clamps[1], "down_every 5s raised to 1m0s") || !strings.Contains(clamps[1], "name=m7") {
		t.Errorf("%d clamp lines, want 2: the 599 monitors' clamp with their number and the first, and m7's:\n%s", len(clamps), strings.Join(clamps, "\n"))
	}
}
