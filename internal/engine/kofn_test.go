package engine

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/postgres"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
	"github.com/mailmon/mailmon/internal/testutil/syncbuf"
	"github.com/mailmon/mailmon/internal/vault"
)

// pgCluster is a PostgreSQL store shared by engines started in this
// process, each a node, with a webhook alert to rcv.
type pgCluster struct {
	t     *testing.T
	st    *postgres.Store
	v     *vault.Vault
	rcv   *hook
	alert int64
	lease time.Duration
	log   *syncbuf.Buffer // every node's log, shown when the test fails
}

func newPGCluster(t *testing.T, lease time.Duration) *pgCluster {
	ctx := context.Background()
	st, err := postgres.Open(ctx, realpg.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	rcv := &hook{}
	hs := httptest.NewServer(rcv)
	t.Cleanup(hs.Close)
	a := webhookAlert(t, st, v, hs.URL)
	c := &pgCluster{t: t, st: st, v: v, rcv: rcv, alert: a.ID, lease: lease, log: &syncbuf.Buffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the nodes' log:\n%s", c.log.String())
		}
	})
	return c
}

// monitor adds a tcp monitor with spec's settings, alerting the webhook.
func (c *pgCluster) monitor(name string, m config.Monitor) *store.Monitor {
	ctx := context.Background()
	d, err := c.st.DeviceByName(ctx, "d")
	if err != nil {
		d = &store.Device{Name: "d", Address: "127.0.0.1"}
		must(c.t, c.st.PutDevice(ctx, d))
	}
	m.Type, m.Port = "tcp", 25
	m.ApplyDefaults()
	spec, _ := json.Marshal(m)
	sm := &store.Monitor{DeviceID: d.ID, Name: name, Type: "tcp", Enabled: true, Spec: spec}
	must(c.t, c.st.PutMonitor(ctx, sm))
	must(c.t, c.st.SetMonitorAlerts(ctx, sm.ID, []int64{c.alert}))
	return sm
}

// node starts an engine as node name at loc, testing with prober; stop
// stops it gracefully (it hands its leases over and leaves).
func (c *pgCluster) node(name, loc string, prober probe.Prober) (e *Engine, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	e = c.engine(name, loc, prober)
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	c.t.Cleanup(stop)
	return e, stop
}

// engine is node name at loc, its monitors loaded, not running.
func (c *pgCluster) engine(name, loc string, prober probe.Prober) *Engine {
	log := slog.New(slog.NewTextHandler(c.log, nil)).With("node", name)
	e := New(Options{Log: log, Store: c.st, Vault: c.v, Node: store.Node{ID: name + "-" + time.Now().Format("150405.000000"), Name: name, Location: loc},
		Cluster: c.st, Lease: c.lease, WatchEvery: 200 * time.Millisecond, OutboxEvery: 50 * time.Millisecond,
		Probers: func(string) (probe.Prober, bool) { return prober, true }, Timing: config.TimingLimits{MinInterval: time.Millisecond}})
	must(c.t, e.Load(context.Background()))
	return e
}

// changes are a monitor's state changes, oldest first.
func (c *pgCluster) changes(id int64) []store.StateChange {
	cs, err := c.st.StateChanges(context.Background(), id, 1000)
	if err != nil {
		c.t.Fatal(err)
	}
	for i, j := 0, len(cs)-1; i < j; i, j = i+1, j-1 {
		cs[i], cs[j] = cs[j], cs[i]
	}
	return cs
}

func path(cs []store.StateChange) string {
	var p []string
	for _, c := range cs {
		p = append(p, string(c.From)+">"+string(c.To))
	}
	return strings.Join(p, " ")
}

// switchable is a prober whose target is reachable while up is true.
func switchable(up *atomic.Bool) probe.Prober {
	return func(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
		if !up.Load() {
			return denied(ctx, cfg, t)
		}
		return t.Step("connect", func() error { return nil })
	}
}

// TestKOfNLocationLossIsNoRecovery: a monitor that needs two locations,
// failing from both, is Lost; the only node of one location goes: the
// monitor stays Lost (no recovery, no notice) and shows that location as
// unknown; the node comes back: still no second alert; the target
// recovers: one recovery.
func TestKOfNLocationLossIsNoRecovery(t *testing.T) {
	c := newPGCluster(t, time.Second)
	iv := config.Duration(300 * time.Millisecond)
	m := c.monitor("kofn", config.Monitor{Locations: &config.Locations{Require: 2, At: []string{"fra", "nyc"}},
		Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: iv, DownEvery: iv, LostEvery: iv},
		Notify: config.Notify{FailuresPerAlert: 1, MaxAlerts: 1}})
	var up atomic.Bool // down everywhere
	fra, _ := c.node("fra1", "fra", switchable(&up))
	_, stopNYC := c.node("nyc1", "nyc", switchable(&up))
	waitState(t, c.st, m.ID, state.Lost, 10*time.Second)
	waitFor(t, "the alert", 5*time.Second, func() bool { return len(c.rcv.kinds()) == 1 })

	stopNYC()
	// Beyond the freshness of nyc's last result (2 intervals and a test's
	// duration) and its node's lease: fra alone keeps failing.
	time.Sleep(3 * time.Second)
	if got := path(c.changes(m.ID)); strings.Contains(got, ">up") || !strings.HasSuffix(got, ">lost") {
		t.Errorf("nyc lost its only node: state changes %s", got)
	}
	views, v, err := fra.Locations(context.Background(), m)
	if err != nil || len(views) != 2 || views[1].Location != "nyc" || views[1].Unknown != "no live node there" || views[0].Unknown != "" || v.Status != "" {
		t.Errorf("the locations as shown: %+v %+v %v", views, v, err)
	}

	c.node("nyc2", "nyc", switchable(&up))
	time.Sleep(2 * time.Second) // nyc tests again, still failing: the same outage
	if got := c.rcv.kinds(); len(got) != 1 || got[0] != "alert:lost" {
		t.Errorf("notifications %v, want the one alert", got)
	}
	up.Store(true)
	waitState(t, c.st, m.ID, state.Up, 10*time.Second)
	waitFor(t, "the recovery", 5*time.Second, func() bool { return len(c.rcv.kinds()) == 2 })
	time.Sleep(500 * time.Millisecond)
	if got := c.rcv.kinds(); strings.Join(got, " ") != "alert:lost recovery:up" {
		t.Errorf("notifications %v", got)
	}
	if got := path(c.changes(m.ID)); got != "pending>lost lost>up" {
		t.Errorf("state changes %s, want pending>lost lost>up", got)
	}
}

// TestKOfNCountsRounds: a monitor tested from two locations takes one
// verdict a round: one change at start, and failures_per_alert, the
// alerts before Lost, count rounds, not each location's test.
func TestKOfNCountsRounds(t *testing.T) {
	c := newPGCluster(t, time.Second)
	// Rounds are told apart by time: counted per test, the two
	// locations' tests of a round (at the same moment: the same place in
	// the interval) take the state from warn to down at once, and from
	// down to lost in one round instead of two. The bounds sit half a
	// round from either: a round of a second leaves room for a loaded
	// machine's delays in storing and judging results (up to a quarter
	// second seen at load 20).
	const every = time.Second
	iv := config.Duration(every)
	m := c.monitor("kofn", config.Monitor{Locations: &config.Locations{Require: 2, At: []string{"fra", "nyc"}},
		Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: iv, DownEvery: iv, LostEvery: iv},
		Notify: config.Notify{FailuresPerAlert: 2, MaxAlerts: 2}})
	var up atomic.Bool
	up.Store(true)
	c.node("fra1", "fra", switchable(&up))
	c.node("nyc1", "nyc", switchable(&up))
	waitState(t, c.st, m.ID, state.Up, 30*time.Second)
	time.Sleep(3 * every) // Up for a few rounds, not a synchronisation
	up.Store(false)
	waitState(t, c.st, m.ID, state.Lost, 30*time.Second)
	cs := c.changes(m.ID)
	if got := path(cs); got != "pending>up up>warn warn>down down>lost" {
		t.Fatalf("state changes %s, want one at start, then warn, down and lost", got)
	}
	// Failure 1 warns, 2 alerts (down), 4 alerts again (lost): a round
	// apart, then two.
	t.Logf("warn to down in %v, down to lost in %v (interval %v)", cs[2].Time.Sub(cs[1].Time), cs[3].Time.Sub(cs[2].Time), every)
	if d := cs[2].Time.Sub(cs[1].Time); d < every/2 {
		t.Errorf("warn to down in %v: the two locations' tests of one round counted twice (interval %v)", d, every)
	}
	if d := cs[3].Time.Sub(cs[2].Time); d < every*3/2 {
		t.Errorf("down to lost in %v, want two rounds (interval %v)", d, every)
	}
	waitFor(t, "two alerts", 5*time.Second, func() bool { return len(c.rcv.kinds()) == 2 })
	if got := strings.Join(c.rcv.kinds(), " "); got != "alert:down alert:lost" {
		t.Errorf("notifications %s", got)
	}
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	if !waitUntil(within, cond) {
		t.Fatalf("%s: not within %v", what, within)
	}
}

// waitUntil polls cond until it holds (true) or within passed (false).
func waitUntil(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
