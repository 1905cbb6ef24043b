// Package engine is the monitoring daemon's scheduler loop: it loads
// monitors from the store, tests each on the schedule of its state (on
// several nodes, those it holds a lease on: cluster.go), decides states
// with the state machine (K-of-N locations: locations.go), and stores every
// test with what it changes in one transaction. The notifications that
// calls for go out through alert's outbox, corrective actions through
// package recovery.
package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"
	"unique"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/recovery"
	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Options configure an engine.
type Options struct {
	Store           store.Store
	Vault           *vault.Vault
	InstallationKey keyfile.Key // signs round-trip probes
	MaxInFlight     int         // tests at once (default DefaultMaxInFlight())
	BaseURL         string      // for links in alerts
	// AckLinks signs the one-click acknowledgement links of alerts (nil:
	// none; serve makes them with an --external-url).
	AckLinks *alert.AckLinks
	Log      *slog.Logger
	Now      func() time.Time
	// OutboxEvery is how often pending notifications are looked for
	// (default 1 s); each is tried at most MaxAttempts times (default 12,
	// with back-off: about an hour). See alert.OutboxOptions.
	OutboxEvery time.Duration
	MaxAttempts int
	// WatchEvery is how often the store is checked for monitors changed
	// by someone else (default 10 s).
	WatchEvery time.Duration
	// JanitorEvery is how often statistics are rolled up and old raw
	// results pruned (default 5 min); RawRetention is how long raw results
	// are kept (default 7 days).
	JanitorEvery time.Duration
	RawRetention time.Duration
	// AuditRetention is how long audit entries are kept (default 365
	// days): a retention of their own, longer than the results'.
	AuditRetention time.Duration
	// AlertBurst notifications may go to one alert action at once, then
	// one every AlertEvery (defaults 20 and 3 s: a storm of failures does
	// not flood a pager).
	AlertBurst int
	AlertEvery time.Duration
	// Probers overrides the table of probers (tests).
	Probers func(typ string) (probe.Prober, bool)

	// Node is this node: its name and location go with every result.
	Node store.Node
	// Cluster, when set (PostgreSQL), shares the monitors with the other
	// nodes on the database: this node tests only those it holds a lease
	// on (see cluster.go). Lease is the lease period (default 15 s): a
	// dead node's monitors move to others within it.
	Cluster store.Cluster
	Lease   time.Duration
	// Deny, when set, makes tests of the targets it matches (host:port)
	// fail as if refused: a location whose path to a target is cut, for
	// tests of K-of-N.
	Deny func(hostport string) bool

	// HealthEvery is how often the database is checked (default 5 s, or
	// a round of the lease if shorter). While it has been unreachable for
	// OutageAfter (default 15 s), every action of OutageAlerts (set on
	// the host: they need no database) is told, then again every
	// OutageEvery (default 15 min) while it lasts, and once when it ends.
	HealthEvery  time.Duration
	OutageAlerts []alert.Notifier
	OutageAfter  time.Duration
	OutageEvery  time.Duration

	// Egress is where tests of targets set over the network may go (nil:
	// egress.Default()); Resolver resolves every test's names (nil: the
	// system's). Timing holds every monitor to serve's limits (targets.go).
	Egress   *egress.Policy
	Resolver *net.Resolver
	Timing   config.TimingLimits
	// DNSServer is the domain monitors' resolver ("IP:PORT", serve
	// --resolver) where a monitor names none; "": the system's.
	DNSServer string
	// KeyExchange is the tls_key_exchange of monitors that name none
	// (serve --tls-key-exchange); "": Go's default.
	KeyExchange string

	// StoreRefreshToken stores a monitor's refresh token that its token
	// endpoint rotated, sealed (catalog): the monitor's oauth block's (leg
	// "") or its SMTP leg's ("smtp"); nil: kept in memory only.
	StoreRefreshToken func(ctx context.Context, monitor int64, leg, refresh string) error
}

// Engine runs the monitors.
type Engine struct {
	o        Options
	maints   maintCache // maintenance begun by hand, read at most once a second (maintenance.go)
	sched    *schedule.Scheduler
	outbox   *alert.Outbox
	mu       sync.Mutex
	monitors map[int64]*entry
	// credUsers are the loaded monitors that read each credential (their
	// entries' credSeen), by its name (credentials.go).
	credUsers map[string]map[int64]struct{}
	status    map[int64]state.Status

	tested map[int64]tested // the last test and counts of tests since start, by monitor
	// clamped is the timing clamp last logged, by monitor: interned, as
	// a file's monitors share one (an 80-B message a monitor was 8 MB at
	// 100,000).
	clamped map[int64]unique.Handle[string]
	// escalations are when each failing monitor's next escalation is
	// due, as its last test found (escalate.go).
	escalations map[int64]time.Time
	events      events // live subscribers (Subscribe)

	recordLat latency // time of each RecordTest, for /metrics

	synced syncMark // the store's counts of writes at the last look (sync.go)

	recovery *recovery.Runner

	cl     *cluster // nil on a single node
	health dbHealth // health.go

	tokens *oauth.Cache // OAuth tokens, one per credential, shared by its monitors

	configs configTable // the loaded monitors' probe configs, shared (configs.go)

	rolled rolled // where the janitor's roll-ups stand (janitor.go)
}

// entry is a loaded monitor, ready to test. It keeps what is read after
// loading, and no more: of the monitor what the record, alerts, /metrics
// and the watch read (m), of its device what events show (device,
// interned), of its settings its timing and alert policy (spec), its
// probe config shared with the monitors of the same settings (cfg,
// configs.go) and what few monitors have behind one pointer (x, nil for
// most). It was 1,024 B (the 1,152-B size class, with the malloc header
// of an object with pointers over 512 B) while it kept a store.Monitor, a
// probe.Config and a keptSpec by value and three maps.
type entry struct {
	m      monitorRef
	device unique.Handle[deviceRef]
	spec   keptSpec
	// cfg is the monitor's probe config, shared: its target (Host, Port,
	// Monitor) blank, kept in host and port (and m.Name); config() makes
	// the whole, a test's own.
	cfg    *probe.Config
	host   string
	port   int
	alerts []int64
	err    error // why it cannot be tested (a secret that does not decrypt)
	x      *rare
}

// monitorRef is what a loaded monitor keeps of its store.Monitor.
type monitorRef struct {
	ID, DeviceID int64
	Name, Type   string // Type interned: a handful of values
	Updated      int64  // UnixNano of the stored version: a newer one reloads it
	Enabled      bool
}

// keptSpec is what a loaded monitor keeps of its config.Monitor read on
// every test: pointer-free.
type keptSpec struct {
	Timing                      config.Timing
	FailuresPerAlert, MaxAlerts int // notify's
}

// rare is what a loaded monitor keeps that most do not have: nil on an
// entry without any of it (load).
type rare struct {
	escalate  *config.Escalation
	locations *config.Locations
	recovery  []config.Recovery
	// windows are the monitor's maintenance windows and its device's.
	windows []config.Window
	parents []int64
	// creds are the credentials of recoveries over SSH, by name; one that
	// cannot be used is in credErrs instead (the monitor is still tested).
	creds    map[string]*recovery.Credential
	credErrs map[string]error
	// credSeen is the version (Updated) of each credential the entry
	// read, the zero time for one missing: a change reloads the monitor
	// (credentials.go).
	credSeen map[string]time.Time
}

// The accessors of what rare keeps, nothing for an entry without it.

func (en *entry) locations() *config.Locations {
	if en.x == nil {
		return nil
	}
	return en.x.locations
}

func (en *entry) escalation() *config.Escalation {
	if en.x == nil {
		return nil
	}
	return en.x.escalate
}

func (en *entry) recoveries() []config.Recovery {
	if en.x == nil {
		return nil
	}
	return en.x.recovery
}

func (en *entry) windows() []config.Window {
	if en.x == nil {
		return nil
	}
	return en.x.windows
}

func (en *entry) parents() []int64 {
	if en.x == nil {
		return nil
	}
	return en.x.parents
}

func (en *entry) credSeen() map[string]time.Time {
	if en.x == nil {
		return nil
	}
	return en.x.credSeen
}

// cred is the credential name of a recovery over SSH, or why it cannot
// be used.
func (en *entry) cred(name string) (*recovery.Credential, error) {
	if en.x == nil {
		return nil, nil
	}
	return en.x.creds[name], en.x.credErrs[name]
}

// deviceRef is what a loaded monitor keeps of its device, interned: the
// hundred monitors of a device share one.
type deviceRef struct {
	Name    string
	Updated time.Time // a newer device reloads its monitors
}

// dev is what en keeps of its device (nothing for an entry not loaded).
func (en *entry) dev() deviceRef {
	if en.device == (unique.Handle[deviceRef]{}) {
		return deviceRef{}
	}
	return en.device.Value()
}

// New makes an engine; Load and Run start it.
func New(o Options) *Engine {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WatchEvery <= 0 {
		o.WatchEvery = 10 * time.Second
	}
	if o.JanitorEvery <= 0 {
		o.JanitorEvery = 5 * time.Minute
	}
	if o.RawRetention <= 0 {
		o.RawRetention = 7 * 24 * time.Hour
	}
	if o.AuditRetention <= 0 {
		o.AuditRetention = DefaultAuditRetention
	}
	if o.Probers == nil {
		o.Probers = kinds.Prober
	}
	if o.HealthEvery <= 0 {
		o.HealthEvery = 5 * time.Second
		if o.Cluster != nil && o.Lease > 0 {
			o.HealthEvery = min(o.HealthEvery, o.Lease/5)
		}
	}
	if o.OutageAfter <= 0 {
		o.OutageAfter = 15 * time.Second
	}
	if o.OutageEvery <= 0 {
		o.OutageEvery = 15 * time.Minute
	}
	if o.Egress == nil {
		o.Egress = egress.Default()
	}
	o.Timing = o.Timing.WithDefaults()
	e := &Engine{o: o, monitors: map[int64]*entry{}, credUsers: map[string]map[int64]struct{}{}, status: map[int64]state.Status{},
		tested: map[int64]tested{}, clamped: map[int64]unique.Handle[string]{}, escalations: map[int64]time.Time{},
		tokens: &oauth.Cache{Now: o.Now}}
	e.recovery = &recovery.Runner{Store: o.Store, Log: o.Log}
	if o.Cluster != nil {
		if o.Lease <= 0 {
			o.Lease = 15 * time.Second
		}
		e.o.Lease = o.Lease
		e.cl = newCluster(o.Cluster, o.Node, o.Lease)
	}
	ob := alert.OutboxOptions{Store: o.Store, Every: o.OutboxEvery, MaxAttempts: o.MaxAttempts,
		Burst: o.AlertBurst, Rate: o.AlertEvery, Log: o.Log, Now: o.Now,
		Actions: &alert.Actions{Vault: o.Vault, InstallationKey: o.InstallationKey, MonitorSecrets: e.monitorSecrets, Egress: o.Egress, Resolver: o.Resolver}}
	if o.Cluster != nil {
		ob.Claims, ob.Node, ob.Alive = o.Cluster, o.Node.ID, e.cl.alive
	}
	e.outbox = alert.NewOutbox(ob)
	e.sched = schedule.NewTimed(e.test, o.MaxInFlight, o.Log)
	return e
}

// Scheduler exposes the scheduler's health.
func (e *Engine) Scheduler() *schedule.Scheduler { return e.sched }

// ActionHealth reports how each alert action's deliveries from this node
// go (alert.Outbox.Health).
func (e *Engine) ActionHealth() []alert.ActionHealth { return e.outbox.Health() }

// Load reads every monitor and schedules the enabled ones, each first run
// spread over its interval (within two seconds for one never tested).
// They are placed once all are read, from the time reading ended: reading
// 10,000 monitors takes seconds, and placing each as it is read made the
// ones due in those seconds late (the soak's first tests lagged 2.1 s at
// p99).
//
// Each monitor is loaded as listed (not read again), its device read
// once for all its monitors and the states all at once, in the order the
// store keeps them (store.States; else the statuses a page at a time)
// (loadCache): the four reads a monitor of the load's start-up CPU were
// 2.3 of its 4 CPU seconds at 20,000 monitors.
func (e *Engine) Load(ctx context.Context) error {
	var due []placement
	lc := &loadCache{devices: map[int64]*store.Device{}}
	if err := lc.readStates(ctx, e.o.Store); err != nil {
		return err
	}
	err := store.Walk(ctx, 500, store.AllMonitors(e.o.Store), store.MonitorID, func(ms []store.Monitor, total int) error {
		if err := lc.readPage(ctx, e.o.Store, ms); err != nil {
			return err
		}
		for i := range ms {
			p, err := e.place(ctx, &ms[i], startWindow(total), lc)
			if err != nil {
				return err
			}
			if p != nil {
				due = append(due, *p)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	lc.logClamps(e.o.Log)
	now := e.o.Now()
	firsts := slices.DeleteFunc(slices.Clone(due), func(p placement) bool { return !p.first })
	for _, p := range due {
		if !p.first {
			e.sched.Add(p.id, schedule.Spread(p.id, p.spread, now), p.limit)
		}
	}
	// The monitors never tested start in blocks of neighbours by id, each
	// at its slot's share of its spread (the start window or its
	// interval), rather than at its place by id (schedule.Spread, a hash)
	// (schedule.FirstSlots). Later tests move to each monitor's place (schedule.Next),
	// as the first tests of a start window shorter than the interval
	// always did.
	slices.SortFunc(firsts, func(a, b placement) int { return cmp.Compare(a.id, b.id) })
	slots, total := schedule.FirstSlots(len(firsts))
	for k, p := range firsts {
		e.sched.Add(p.id, now.Add(schedule.FirstAt(slots[k], total, p.spread)), p.limit)
	}
	return nil
}

// Reload (re)reads one monitor after it was created or changed, and
// schedules it; a deleted monitor is unscheduled.
func (e *Engine) Reload(ctx context.Context, id int64) error {
	return e.reload(ctx, id, startWindow(1))
}

// DefaultMaxInFlight is the default cap on tests at once: 2,048, or a
// quarter of the open-files limit if that is less (but 64 at least). It is
// large on purpose: a test of a server that accepts and never answers holds
// its slot for its whole maximum duration (a descriptor and a goroutine,
// little memory), and while such tests fill the slots every other monitor
// waits. The soak with 5% black-holed targets showed it: with 256 slots,
// 10,000 monitors (250 tests hung at any time) lagged 30 s at p99.
func DefaultMaxInFlight() int {
	n := 2048
	if lim := openFilesLimit(); lim > 0 && lim/4 < uint64(n) {
		n = max(64, int(lim/4))
	}
	return n
}

// startWindow is how long the first tests of n monitors never tested are
// spread over: two seconds for a few, growing by 3 ms a monitor (20,000 new
// monitors start over a minute rather than in one burst).
func startWindow(n int) time.Duration { return 2*time.Second + time.Duration(n)*3*time.Millisecond }

// reload is Reload; a monitor never tested starts within window (or its
// interval, if shorter).
func (e *Engine) reload(ctx context.Context, id int64, window time.Duration) error {
	p, err := e.prepare(ctx, id, window)
	if err != nil {
		// What is loaded of it may be older than the store's counts of
		// writes say: the next look compares every monitor (sync.go).
		e.synced.forget()
	}
	if p != nil {
		e.sched.Add(id, schedule.Spread(id, p.spread, e.o.Now()), p.limit)
	}
	return err
}

// placement is where a monitor is to be scheduled: at its place in spread
// (schedule.Spread), each test limited to limit. first: never tested
// (Load starts those in the order of their ids).
type placement struct {
	id            int64
	spread, limit time.Duration
	first         bool
}

// prepare (re)reads monitor id and says where to schedule it; nil when it
// is not to be scheduled here (deleted, disabled or another node's), in
// which case it is unscheduled.
func (e *Engine) prepare(ctx context.Context, id int64, window time.Duration) (*placement, error) {
	m, err := e.o.Store.Monitor(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		e.mu.Lock()
		e.setEntry(id, nil)
		delete(e.status, id)
		delete(e.tested, id)
		delete(e.clamped, id)
		delete(e.escalations, id)
		e.mu.Unlock()
		e.sched.Remove(id)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return e.place(ctx, m, window, nil)
}

// place is prepare of monitor m, read; lc (nil: none) has what Load read
// for all the monitors it loads.
func (e *Engine) place(ctx context.Context, m *store.Monitor, window time.Duration, lc *loadCache) (*placement, error) {
	id := m.ID
	en, err := e.load(ctx, m, lc)
	if err != nil {
		return nil, err
	}
	prev, err := lc.state(ctx, e.o.Store, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	e.mu.Lock()
	e.setEntry(id, en)
	e.status[id] = prev
	e.mu.Unlock()
	if !e.holds(id) {
		e.sched.Remove(id) // another node's to test
		return nil, nil
	}
	if !m.Enabled {
		e.sched.Remove(id)
		// Record the change to Disabled so that it shows and survives.
		e.record(ctx, en, nil)
		return nil, nil
	}
	// Monitors keep their place in the interval across restarts; new
	// ones, and ones just enabled again, start soon, spread so that
	// thousands do not fire together.
	spread := e.interval(en, prev.State)
	first := prev.State == "" || prev.State == state.Pending
	if first || prev.State == state.Disabled {
		spread = min(spread, window)
	}
	if prev.State.Failing() {
		// An outage under way (a restart): its first test comes before
		// its next escalation, which then comes at the minute.
		for _, s := range e.steps(ctx, en) {
			if wait := prev.Outage.Add(s.after).Sub(e.o.Now()); wait > 0 {
				spread = min(spread, wait)
			}
		}
	}
	return &placement{id: id, spread: spread, limit: en.spec.Timing.MaxDuration.D() + 5*time.Second, first: first}, nil
}

func (e *Engine) load(ctx context.Context, m *store.Monitor, lc *loadCache) (*entry, error) {
	en := &entry{m: monitorRef{ID: m.ID, DeviceID: m.DeviceID, Name: m.Name, Type: unique.Make(m.Type).Value(),
		Updated: m.Updated.UnixNano(), Enabled: m.Enabled}}
	d, err := lc.device(ctx, e.o.Store, m.DeviceID)
	if err != nil {
		return nil, fmt.Errorf("monitor %d: device: %w", m.ID, err)
	}
	en.device = unique.Make(deviceRef{Name: d.Name, Updated: d.Updated})
	var spec config.Monitor
	if err := json.Unmarshal(m.Spec, &spec); err != nil {
		return nil, fmt.Errorf("monitor %d: spec: %w", m.ID, err)
	}
	spec.Name, spec.Type = m.Name, m.Type
	spec.ApplyDefaults()
	x := &rare{escalate: spec.Notify.Escalate, locations: spec.Locations, recovery: spec.Recovery,
		windows: append(slices.Clip(spec.Maintenance), config.StoredWindows(d.Maintenance)...)}
	e.limit(m, &spec.Timing, lc)
	en.spec = keptSpec{Timing: spec.Timing, FailuresPerAlert: spec.Notify.FailuresPerAlert, MaxAlerts: spec.Notify.MaxAlerts}
	cfg := spec.ProbeConfig(d.Address)
	cfg.InstallationKey = e.o.InstallationKey
	e.guard(&cfg, m.NetworkTarget || d.NetworkTarget)
	if v, ok := m.Secrets["password"]; ok {
		pw, err := e.open(v, vault.MonitorRecord(m.ID, "password"))
		cfg.Password, en.err = probe.Password(pw), err
	}
	if v, ok := m.Secrets["smtp.password"]; ok && cfg.SMTP != nil {
		pw, err := e.open(v, vault.MonitorRecord(m.ID, "smtp.password"))
		cfg.SMTP.Password = probe.Password(pw)
		en.err = errors.Join(en.err, err)
	}
	if v, ok := m.Secrets[config.SecretDQSKey]; ok && m.Type == "dnsbl" {
		key, err := e.open(v, vault.MonitorRecord(m.ID, config.SecretDQSKey))
		cfg.DQSKey = probe.Password(key)
		en.err = errors.Join(en.err, err)
	}
	en.err = errors.Join(en.err, e.loadOAuth(m, &cfg, &spec))
	if k, ok := kinds.Lookup(m.Type); ok && en.err == nil {
		en.err = cfg.Validate(k) // an unknown type is reported when it runs
	}
	en.host, en.port = cfg.Host, cfg.Port
	cfg.Host, cfg.Port, cfg.Monitor = "", 0, ""
	en.cfg = e.configs.intern(&cfg)
	if err := e.loadCredentials(ctx, m.ID, x); err != nil {
		return nil, err
	}
	if en.alerts, err = lc.monitorAlerts(ctx, e.o.Store, m.ID); err != nil {
		return nil, err
	}
	for _, name := range spec.DependsOn {
		p, err := e.o.Store.MonitorByName(ctx, m.DeviceID, name)
		if err == nil {
			x.parents = append(x.parents, p.ID)
		}
	}
	if !reflect.ValueOf(*x).IsZero() {
		en.x = x
	}
	return en, nil
}

func (e *Engine) open(sealed, record string) (string, error) {
	if e.o.Vault == nil {
		return "", errors.New("no vault to open secrets with")
	}
	b, err := e.o.Vault.Open(sealed, record)
	return string(b), err
}

// interval is how long to wait before the next test in state s.
func (e *Engine) interval(en *entry, s state.State) time.Duration {
	t := en.spec.Timing
	switch s {
	case state.Warn, state.Down:
		return t.DownEvery.D()
	case state.Lost:
		return t.LostEvery.D()
	}
	return t.UpEvery.D()
}

// Run runs the scheduler, alert's outbox, the watch for changes made by others
// (mailmon apply on the same database), the statistics' upkeep and the
// health checks until ctx ends. On several nodes, the node then hands its
// leases over to the others while it keeps testing them (for at most half
// a lease period, 2 to 10 s), gives back the rest, and leaves once the
// alert deliveries under way have ended: its heartbeat lasts until then,
// since it holds their claims (else another node would send them again).
func (e *Engine) Run(ctx context.Context) {
	if e.cl == nil {
		e.loops(ctx)
		return
	}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	hctx, stopBeats := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBeats()
	var beats sync.WaitGroup
	beats.Add(1)
	go func() { defer beats.Done(); e.heartbeats(hctx) }()
	go func() {
		<-ctx.Done()
		e.drain(lctx, min(max(e.cl.lease/2, 2*time.Second), 10*time.Second))
		stop()
	}()
	e.loops(lctx)
	stopBeats()
	beats.Wait()
	e.leave(lctx)
}

// loops runs the loops until ctx ends and returns once they have: on several
// nodes, the outbox's last, after every lease was given back (release: no
// test runs any more, so the others may take the rest at once).
func (e *Engine) loops(ctx context.Context) {
	fns := []func(context.Context){e.sched.Run, e.watch, e.janitor, e.checkHealth}
	if e.cl != nil {
		fns = append(fns, e.leases)
	}
	var wg, out sync.WaitGroup
	for _, fn := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); fn(ctx) }()
	}
	out.Add(1)
	go func() { defer out.Done(); e.outbox.Run(ctx) }()
	wg.Wait()
	if e.cl != nil {
		e.release(ctx)
	}
	out.Wait()
}

// watch reloads monitors created, changed or deleted behind the engine's
// back, every WatchEvery.
func (e *Engine) watch(ctx context.Context) {
	tick := time.NewTicker(e.o.WatchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := e.sync(ctx); err != nil && ctx.Err() == nil {
			e.o.Log.Error("watching for changes failed", "err", err)
		}
	}
}

// sync reloads the monitors whose stored version, or their device's,
// differs from the loaded one (a device's windows changed by apply), or
// that use a credential changed since they were loaded. While the store's
// counts of writes are those of the last look, it reads nothing else.
func (e *Engine) sync(ctx context.Context) (err error) {
	c, look := e.changed(ctx)
	switch look {
	case lookNothing:
		return nil
	case lookCredentials:
		if err := e.syncCredentials(ctx); err != nil {
			return err
		}
		e.synced.set(c, false)
		return nil
	}
	devices, err := e.deviceVersions(ctx)
	if err != nil {
		return err
	}
	seen, err := monitorVersions(ctx, e.o.Store)
	if err != nil {
		return err
	}
	defer func() {
		if err == nil {
			e.synced.set(c, true)
		}
	}()
	var changed []int64
	e.mu.Lock()
	for id, updated := range seen {
		if en := e.monitors[id]; en == nil || en.m.Updated != updated.UnixNano() || !en.dev().Updated.Equal(devices[en.m.DeviceID]) {
			changed = append(changed, id)
		}
	}
	e.mu.Unlock()
	slices.Sort(changed) // reloaded in id order, as listed before
	stale, err := e.staleCredentials(ctx)
	if err != nil {
		return err
	}
	for _, id := range stale {
		if !slices.Contains(changed, id) {
			changed = append(changed, id)
		}
	}
	for _, id := range changed {
		if err := e.reload(ctx, id, startWindow(len(changed))); err != nil {
			return err
		}
	}
	e.mu.Lock()
	var gone []int64
	for id := range e.monitors {
		if _, ok := seen[id]; !ok {
			gone = append(gone, id)
		}
	}
	e.mu.Unlock()
	for _, id := range gone {
		if err := e.Reload(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// test is the scheduler's TimedTest: one test of one monitor, ended by
// deadline (zero: none). The probe runs under its own timeout (earlier
// than the deadline, the limit being the longest test plus 5 s) and its
// recording under the deadline, each context derived from ctx: neither
// nests in the other, so that neither registers with a parent that can be
// cancelled (a children map) unless ctx can be (a cluster's lease).
func (e *Engine) test(ctx context.Context, id int64, deadline time.Time) time.Duration {
	e.mu.Lock()
	en := e.monitors[id]
	e.mu.Unlock()
	if en == nil {
		return time.Hour
	}
	if e.cl != nil {
		var ok bool
		if ctx, _, ok = e.cl.begin(ctx, id); !ok {
			if e.holds(id) {
				// Ours, but the heartbeat is late: try again next
				// round rather than skip a whole interval (the
				// heartbeat lands, or the lease is dropped and the
				// monitor unscheduled).
				return e.cl.round()
			}
			return e.o.Lease // not ours (any more): it is unscheduled
		}
		defer e.cl.end(id)
	}
	res := e.runBy(ctx, en, deadline)
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	st := e.record(ctx, en, res)
	if e.cl != nil {
		e.handOffAfterTest(ctx, id)
	}
	return e.untilEscalation(id, e.interval(en, st))
}

// TestNow runs one test of a monitor at once and records it.
func (e *Engine) TestNow(ctx context.Context, id int64) (*probe.Result, error) {
	e.mu.Lock()
	en := e.monitors[id]
	e.mu.Unlock()
	if en == nil {
		return nil, store.ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, en.spec.Timing.MaxDuration.D()+5*time.Second)
	defer cancel()
	res := e.run(ctx, en)
	e.record(ctx, en, res)
	return res, nil
}

// runBy runs a test that must end by deadline (zero: none): under the
// probe's own timeout alone when that ends first (probe.Run then makes the
// only context), else under the deadline (probe.Run then reuses it). A
// timeout left to the kind's default (0) is not known here: the deadline
// then bounds the probe too.
func (e *Engine) runBy(ctx context.Context, en *entry, deadline time.Time) *probe.Result {
	if !deadline.IsZero() && (en.cfg.Timeout <= 0 || time.Until(deadline) < en.cfg.Timeout) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	return e.run(ctx, en)
}

func (e *Engine) run(ctx context.Context, en *entry) *probe.Result {
	if en.err != nil {
		t, cfg := probe.NewTrace(ctx, e.o.Now), en.config()
		return t.Result(&cfg, &probe.ConfigError{Errs: []probe.FieldError{{Field: "monitor", Msg: en.err.Error()}}})
	}
	k, _ := kinds.Lookup(en.m.Type)
	p, ok := e.o.Probers(en.m.Type)
	if !ok {
		t, cfg := probe.NewTrace(ctx, e.o.Now), en.config()
		return t.Result(&cfg, &probe.ConfigError{Errs: []probe.FieldError{{Field: "type", Msg: "unknown type " + en.m.Type}}})
	}
	if e.o.Deny != nil && e.o.Deny(net.JoinHostPort(en.host, strconv.Itoa(en.port))) {
		p = denied
	}
	k.Probe = p
	return probe.Run(ctx, k, en.config())
}

// record runs the state machine on a result (nil: only the enabled flag or
// a window changed) and stores it all at once. On several nodes, a test is
// stored only under this node's lease, and a monitor tested from several
// locations starts from the stored status (the other locations' nodes
// write it too), retried if another stored a test in between.
func (e *Engine) record(ctx context.Context, en *entry, res *probe.Result) state.State {
	if res != nil {
		e.count(en.m.ID, res)
	}
	var fence *store.Fence
	if e.cl != nil {
		l, ok := e.cl.holds(en.m.ID)
		if !ok {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.status[en.m.ID].State // not ours: another node records it
		}
		fence = &store.Fence{Node: e.o.Node.ID, Lease: l}
	}
	shared := e.cl != nil && en.locations() != nil
	for try := 0; ; try++ {
		st, err := e.record1(ctx, en, res, fence, shared)
		if errors.Is(err, store.ErrStale) && try < 5 {
			continue
		}
		if errors.Is(err, store.ErrLeaseLost) {
			e.o.Log.Warn("a test's result was dropped: the lease went to another node", "monitor", en.m.ID)
			e.drop(en.m.ID)
		} else if err != nil && ctx.Err() != nil && e.cl != nil && !e.holds(en.m.ID) {
			// The node dropped the lease during the test (its
			// heartbeat could not be renewed): logged once, by the
			// drop.
			e.o.Log.Warn("a test's result was dropped: the node gave its lease up", "monitor", en.m.ID)
		} else if err != nil {
			e.o.Log.Error("recording a test failed", "monitor", en.m.ID, "err", err)
		}
		return st
	}
}

func (e *Engine) record1(ctx context.Context, en *entry, res *probe.Result, fence *store.Fence, shared bool) (state.State, error) {
	now := e.o.Now()
	e.mu.Lock()
	prev := e.status[en.m.ID]
	parentFailing := false
	for _, p := range en.parents() {
		if e.status[p].State.Failing() {
			parentFailing = true
		}
	}
	e.mu.Unlock()
	var version int64
	var stored store.Status // the status read, for a K-of-N test that only adds its result
	if shared {
		st, err := e.o.Store.Status(ctx, en.m.ID)
		switch {
		case err == nil:
			prev, version, stored = st.Status, st.Version, *st
		case !errors.Is(err, store.ErrNotFound):
			return prev.State, err
		}
	}
	if e.cl != nil {
		// The parents may be tested by other nodes: their stored state.
		for _, p := range en.parents() {
			if st, err := e.o.Store.Status(ctx, p); err == nil && st.Status.State.Failing() {
				parentFailing = true
			}
		}
	}
	inMaintenance, parentInMaintenance := e.maintenance(ctx, en, now)
	in := state.Input{Now: now, Enabled: en.m.Enabled, Maintenance: inMaintenance, ParentFailing: parentFailing || parentInMaintenance}
	var agreement string
	if res != nil {
		in.Result = res.Status
		if res.Error != nil {
			in.Code = res.Error.Code
		}
		if shared && in.Enabled && !in.Maintenance {
			views, v, err := e.verdict(ctx, en, res, prev.State, now)
			if err != nil {
				return prev.State, err
			}
			if v.Status == "" {
				e.o.Log.Info("too few locations to decide: the state is kept", "monitor", en.m.ID, "detail", v.String())
			}
			if v.Status == "" || !roundDone(views, stored.LastTest, e.interval(en, prev.State), now) {
				return e.addResult(ctx, en, res, fence, stored, version)
			}
			in.Result, in.Code, agreement = v.Status, v.Code, v.String()
			if len(v.Failing) > 0 && v.Status != probe.StatusDown {
				e.o.Log.Info("a failure not confirmed by enough locations", "monitor", en.m.ID, "detail", agreement)
			}
		}
	}
	d := state.Next(prev, in, state.Policy{FailuresPerAlert: en.spec.FailuresPerAlert, MaxAlerts: en.spec.MaxAlerts})
	t := store.Test{Status: store.Status{MonitorID: en.m.ID, Status: d.Status, LastResult: res, LastTest: now, Version: version},
		CheckVersion: shared, Fence: fence, Interval: e.interval(en, d.Status.State)}
	if res != nil {
		t.Result = store.Result{MonitorID: en.m.ID, Time: res.Started, Status: res.Status, RTT: res.RTT, Delivery: res.Delivery, Detail: res,
			Node: e.o.Node.Name, Location: e.o.Node.Location}
		if res.Error != nil {
			t.Result.Code = res.Error.Code
		}
		if shared {
			// One location's results must not overwrite another's.
			t.Result.Location = fence.Lease.Location
		}
	} else {
		t.Result = store.Result{MonitorID: en.m.ID, Time: now, Status: probe.StatusUp}
		if prevSt, err := e.o.Store.Status(ctx, en.m.ID); err == nil {
			t.Status.LastResult, t.Status.LastTest = prevSt.LastResult, prevSt.LastTest
		}
	}
	if d.Changed {
		from := prev.State
		if from == "" {
			from = state.Pending
		}
		cause := d.Cause
		if agreement != "" {
			cause += " (" + agreement + ")"
		}
		if d.Held != "" {
			cause += " (alert held back: " + d.Held + ")"
		}
		t.Change = &store.StateChange{MonitorID: en.m.ID, Time: now, From: from, To: d.Status.State, Cause: cause}
	}
	if d.Alert != state.NoAlert && res != nil && !e.acknowledged(ctx, en.m.ID, d) {
		t.Notifications = e.notifications(en, d, res, now, recipients(en, d, prev))
	}
	if res != nil {
		esc, next := e.escalate(ctx, en, &d, now, func() alert.Event { return e.event(en, d, res, now) })
		t.Notifications = append(t.Notifications, esc...)
		t.Status.Status = d.Status
		defer func() { e.setEscalateAt(en.m.ID, next) }()
	}
	if res == nil && !d.Changed {
		return d.Status.State, nil
	}
	if res == nil {
		t.Result = store.Result{} // no test ran: only the status and the change
	}
	began := time.Now() // real time, not the injected clock: this measures the store
	err := e.o.Store.RecordTest(ctx, t)
	e.recordLat.observe(time.Since(began))
	if err != nil {
		return prev.State, err
	}
	e.mu.Lock()
	e.status[en.m.ID] = d.Status
	e.mu.Unlock()
	ev := Event{MonitorID: en.m.ID, State: d.Status.State, Changed: d.Changed, Time: now}
	if res != nil {
		ev.Time, ev.RTT, ev.Error, ev.Result = res.Started, res.RTT, res.Error, res.Status
	}
	e.publish(ev)
	if len(t.Notifications) > 0 {
		e.outbox.Wake()
	}
	if d.Recovery {
		go e.recover(ctx, en)
	}
	return d.Status.State, nil
}

// addResult stores a K-of-N location's result alone: the round is not
// complete (another location's test decides it), or the evidence does not
// decide. The status stays as read (st, at version), so that a test of
// another location recorded meanwhile makes this one read it again.
func (e *Engine) addResult(ctx context.Context, en *entry, res *probe.Result, fence *store.Fence, st store.Status, version int64) (state.State, error) {
	st.MonitorID, st.Version = en.m.ID, version
	if st.Status.State == "" {
		st.Status.State = state.Pending
	}
	t := store.Test{Status: st, CheckVersion: true, Fence: fence, Interval: e.interval(en, st.Status.State),
		Result: store.Result{MonitorID: en.m.ID, Time: res.Started, Status: res.Status, RTT: res.RTT, Delivery: res.Delivery, Detail: res,
			Node: e.o.Node.Name, Location: fence.Lease.Location}}
	if res.Error != nil {
		t.Result.Code = res.Error.Code
	}
	if err := e.o.Store.RecordTest(ctx, t); err != nil {
		return st.Status.State, err
	}
	e.mu.Lock()
	e.status[en.m.ID] = st.Status
	e.mu.Unlock()
	return st.Status.State, nil
}

// notifications are the outbox's entries for a decision that calls for
// an alert: the event, to each of the actions alerts.
func (e *Engine) notifications(en *entry, d state.Decision, res *probe.Result, now time.Time, alerts []int64) []store.Notification {
	var links func(alert int64) string
	if d.Alert == state.FailureAlert {
		links = e.ackURL(en.m.ID, d.Status)
	}
	return alert.Notifications(e.event(en, d, res, now), res.Started, d.Status.AlertsSent, alerts, links)
}

// event is what decision d tells of monitor en.
func (e *Engine) event(en *entry, d state.Decision, res *probe.Result, now time.Time) alert.Event {
	kind := d.Alert
	if kind == state.NoAlert {
		kind = state.FailureAlert // an escalation's
	}
	ev := alert.Event{
		Kind: string(kind), MonitorID: en.m.ID, Monitor: en.m.Name, Device: en.dev().Name, Type: en.m.Type,
		State: string(d.Status.State), RTT: res.RTT, Time: now,
	}
	if e.o.BaseURL != "" {
		ev.URL = fmt.Sprintf("%s/monitors/%d", e.o.BaseURL, en.m.ID)
	}
	if res.Error != nil && d.Alert != state.RecoveryAlert {
		ev.Code, ev.Message = string(res.Error.Code), res.Error.Message
		ev.Detail = res.Error.Reply
		if ev.Detail == "" {
			ev.Detail = res.Error.Detail
		}
	}
	return ev
}

// TestAlert sends a test alert through alert id's action now (rate
// limited: alert.ErrTestTooSoon) and says how it went.
func (e *Engine) TestAlert(ctx context.Context, id int64) error {
	a, err := e.o.Store.Alert(ctx, id)
	if err != nil {
		return err
	}
	return e.outbox.Test(ctx, a)
}

// monitorVersions is every stored monitor's id and last change: from the
// store's MonitorVersions when it has one (no settings read), else from
// its full listing.
func monitorVersions(ctx context.Context, st store.Store) (map[int64]time.Time, error) {
	if mv, ok := st.(store.MonitorVersions); ok {
		return mv.MonitorVersions(ctx)
	}
	return versions(ctx, store.AllMonitors(st), store.MonitorID, func(m *store.Monitor) time.Time { return m.Updated })
}

// versions are the versions (Updated) of a list's rows, by id.
func versions[T any](ctx context.Context, list func(context.Context, store.Page) ([]T, int, error), id func(*T) int64, updated func(*T) time.Time) (map[int64]time.Time, error) {
	out := map[int64]time.Time{}
	err := store.Walk(ctx, 1000, list, id, func(rows []T, _ int) error {
		for i := range rows {
			out[id(&rows[i])] = updated(&rows[i])
		}
		return nil
	})
	return out, err
}
