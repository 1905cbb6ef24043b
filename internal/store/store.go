// Package store is mailmon's storage: one interface, with a context on
// every method, behind which SQLite (the embedded default) and PostgreSQL
// sit. Every backend passes the same contract suite (storetest).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
)

// Errors every backend returns for the same cases.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict: the name is taken") // a unique name
	// ErrStale: a Test with CheckVersion found the status changed since
	// it was read (another node recorded a test in between).
	ErrStale = errors.New("stale: the monitor's status changed since it was read")
	// ErrLeaseLost: a fenced Test's node no longer holds the monitor.
	ErrLeaseLost = errors.New("the monitor's lease is no longer held by this node")
	// ErrUnavailable: the database could not be reached (refused, gone,
	// shutting down): the request may work later, and says nothing about
	// what it asked for (a token is not invalid because of it).
	ErrUnavailable = errors.New("database unavailable")
)

// Device is a host that holds monitors.
type Device struct {
	ID      int64
	Name    string
	Address string
	// NetworkTarget: the address was last set over the network (API, web
	// UI), not by the operator's apply; its monitors' tests are held to
	// the egress policy (internal/egress).
	NetworkTarget bool
	// Maintenance is the device's scheduled maintenance windows, as JSON
	// (config.Window; nil: none): they cover every monitor of the device.
	Maintenance []byte
	Created     time.Time
	Updated     time.Time
}

// Monitor is one monitor's definition. Spec holds its settings without
// secrets; Secrets holds sealed values (vault) by name. The store never
// sees a secret in the clear.
type Monitor struct {
	ID       int64
	DeviceID int64
	Name     string
	Type     string
	Enabled  bool
	Spec     json.RawMessage
	Secrets  map[string]string
	// NetworkTarget: the monitor's own target (type, port, TLS, SMTP leg)
	// was last set over the network; see Device.NetworkTarget.
	NetworkTarget bool
	Created       time.Time
	Updated       time.Time
}

// Alert is an alert definition (an action: e-mail, webhook, command).
type Alert struct {
	ID      int64
	Name    string
	Kind    string
	Spec    json.RawMessage
	Secrets map[string]string
	// NetworkTarget: an e-mail alert's relay was last set over the
	// network; see Device.NetworkTarget.
	NetworkTarget bool
	Created       time.Time
	Updated       time.Time
}

// Credential is a named login (user, password or key, known host key)
// used by recovery actions over SSH. Spec holds it without secrets;
// Secrets holds the sealed password or key.
type Credential struct {
	ID      int64
	Name    string
	Spec    json.RawMessage
	Secrets map[string]string
	Created time.Time
	Updated time.Time
}

// StatusPage is a status page (docs/status-pages.md). Spec holds its
// settings (config.StatusPage), the monitors and devices it shows by name;
// Public says whether it needs no login.
type StatusPage struct {
	ID      int64
	Name    string
	Public  bool
	Spec    json.RawMessage
	Created time.Time
	Updated time.Time
}

// Status is a monitor's state between tests.
type Status struct {
	MonitorID  int64
	Status     state.Status
	LastResult *probe.Result
	LastTest   time.Time
	// Version counts the tests recorded; Status returns it, and a Test
	// with CheckVersion is stored only if it is still the same.
	Version int64
}

// RollupWindow is the roll-ups of Period that start in [From, To).
type RollupWindow struct {
	Period   string
	From, To time.Time
}

// RecentSize is how many of a monitor's last results its status keeps
// (the board's bars).
const RecentSize = 40

// BoardStatus is a monitor's status as the board shows it.
type BoardStatus struct {
	Status
	// Recent are its last results, newest first, at most RecentSize,
	// without detail, node or location, times to the second. Nil with
	// RecentKnown false where the database has not kept them yet (a
	// status from before they were kept, until the store fills it in):
	// then read RecentResults.
	Recent      []Result
	RecentKnown bool
	// Ack is the acknowledgement stored for it, nil if none; whether it
	// covers the current outage is Ack.Covers'.
	Ack *Ack
}

// Result is one stored test result. Detail is kept only for tests that did
// not pass.
type Result struct {
	MonitorID int64
	Time      time.Time
	Status    probe.Status
	RTT       time.Duration
	Delivery  time.Duration
	Code      probe.Code
	Detail    *probe.Result
	Node      string // the node that ran the test ("" for a single node)
	Location  string // that node's location label
}

// StateChange is a recorded change of a monitor's state.
type StateChange struct {
	MonitorID int64
	Time      time.Time
	From, To  state.State
	Cause     string
}

// Notification statuses in the alert log.
const (
	NotifyPending = "pending"
	NotifySent    = "sent"
	NotifyFailed  = "failed"
	// NotifySuperseded: not delivered, because a later notification of
	// the same monitor to the same action (its recovery, say) was
	// delivered first: sent now, it would tell an old state as news.
	NotifySuperseded = "superseded"
	// NotifyDropped: not delivered, because it was raised outside the
	// action's schedule (its last error says which).
	NotifyDropped = "dropped"
)

// Notification is one alert to one action, in the outbox.
type Notification struct {
	ID        int64
	EventID   string // unique: the same notification is never stored twice
	MonitorID int64
	AlertID   int64
	Kind      string
	Payload   json.RawMessage
	Status    string
	Attempts  int
	LastError string
	Created   time.Time
	Done      time.Time
	// Reclaimed: a node had begun to send it (BeginNotification) and
	// did not finish with it (it died, or its attempt failed), so the
	// receiver may have it; set by ClaimNotifications. A claim that
	// lapsed before its send began (held for the action's hours, a node
	// killed before it sent) does not make it Reclaimed.
	Reclaimed bool
}

// Ack is an acknowledgement of a monitor's outage: no more alerts for it,
// its recovery still notifies.
type Ack struct {
	MonitorID int64
	Since     time.Time // the start of the outage acknowledged
	By        string    // who: a user, or an API token's name
	At        time.Time
	Comment   string
}

// MaintenanceNow is maintenance begun by hand on one monitor (MonitorID)
// or on every monitor of a device (DeviceID), until Until: no alerts.
type MaintenanceNow struct {
	MonitorID, DeviceID int64 // one of them
	Until               time.Time
	By                  string // who: a user, or an API token's name
	At                  time.Time
}

// Covers reports whether the acknowledgement is of the outage st is in
// (Down or Lost since Since, as stored: to the millisecond).
func (a *Ack) Covers(st state.Status) bool {
	return st.State.Failing() && a.Since.Equal(st.Since.UTC().Truncate(time.Millisecond))
}

// Test is everything one test changes, stored at once: the result, the new
// status, the state change if any and the notifications it calls for. A
// crash leaves either all of it or none.
type Test struct {
	Result        Result
	Status        Status
	Change        *StateChange
	Notifications []Notification
	// CheckVersion: store the test only if the status's version is still
	// Status.Version (0: no status yet), else ErrStale.
	CheckVersion bool
	// Fence, when set, stores the test only if Fence.Node still holds
	// the lease Fence.Lease, else ErrLeaseLost (PostgreSQL).
	Fence *Fence
	// Interval is how often the monitor is tested in the status's state
	// (0: unknown). It places the status among the others in the order
	// monitors are tested (phase.Slot), so that the statuses one
	// commit writes are neighbours; a status stored with another interval
	// moves.
	Interval time.Duration
}

// Fence names the lease a test was run under.
type Fence struct {
	Node  string
	Lease Lease
}

// RecoveryRun is one corrective action run for a monitor.
type RecoveryRun struct {
	MonitorID int64
	Time      time.Time
	Action    string // the command, and where it ran
	Status    string // ok, failed, not_run
	ExitCode  int    // -1 when there is none
	Output    string // capped
	Duration  time.Duration
}

// Roll-up periods.
const (
	Hour = "hour"
	Day  = "day"
)

// Rollup sums up a monitor's tests over an hour or a day.
type Rollup struct {
	MonitorID      int64
	Period         string
	Start          time.Time
	Tests          int
	Up, Warn, Down int
	RTTMin, RTTAvg time.Duration
	RTTP95, RTTMax time.Duration
	Delivered      int
	DeliveryAvg    time.Duration
	DeliveryP95    time.Duration
	DeliveryMax    time.Duration
}

// Truncate returns the start of the period holding t (UTC).
func Truncate(period string, t time.Time) time.Time {
	t = t.UTC()
	if period == Day {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t.Truncate(time.Hour)
}

// Token is an API bearer token; only its hash is stored. Scopes are what
// it may do (read, write, probe, metrics); a zero Expires never expires.
type Token struct {
	ID      int64
	Name    string
	Hash    string
	Scopes  []string
	Created time.Time
	Used    time.Time
	Expires time.Time
}

// User is a web UI login; Hash is its password's bcrypt hash ("" for a
// login made by single sign-on, which has no password). Role is viewer,
// editor or admin. TOTPSecret is its second factor's secret, sealed (""
// for none), TOTPStep the last time step a code was taken for (a code is
// good once), RecoveryCodes the hashes of its unused recovery codes.
// External names the identity provider's subject of a single sign-on
// login ("" for a local one).
type User struct {
	ID            int64
	Name          string
	Hash          string
	Role          string
	TOTPSecret    string
	TOTPStep      int64
	RecoveryCodes []string
	External      string
	Created       time.Time
	Updated       time.Time
}

// Session is a logged-in browser. Hash is the SHA-256 of the cookie's
// random id (the id itself is never stored); CSRF is the token its forms
// send back.
type Session struct {
	Hash    string
	UserID  int64
	CSRF    string
	Created time.Time
	Seen    time.Time
}

// Page selects part of a list: Limit rows from Offset in the list's own
// order, or with ByID the Limit rows of id above After in id order (Offset
// and the list's order aside; Devices, Monitors, Alerts, Credentials). A
// walk through every row goes ByID (Walk): an OFFSET page shifts when a
// row before it is deleted or created, so the walk skips or repeats
// another, and the database steps over every row before the offset again
// for each page.
type Page struct {
	Limit  int // 0: 100
	Offset int
	ByID   bool
	After  int64
}

// MonitorFilter selects monitors.
type MonitorFilter struct {
	Page
	DeviceID int64       // 0: all devices
	State    state.State // "": any state
	Type     string
	Search   string        // "": any name; else monitors whose name contains it (case-insensitive)
	Domain   *DomainFilter // nil: any; else the domain-health monitors of one domain
	Order    Order
}

// DomainFilter selects the domain-health monitors of one domain: those
// whose spec names it (its "domain" field), and those without one whose
// device's address stands for it — the address itself for OwnTypes, the
// address or (Registered) an address under it for HostTypes.
type DomainFilter struct {
	Domain     string // lower case, without the root dot
	OwnTypes   []string
	HostTypes  []string
	Registered bool // Domain is a registered domain: hosts under it belong to it
}

// Order is the order of a list of monitors.
type Order int

const (
	// ByDevice: by device (its id), then by name.
	ByDevice Order = iota
	// WorstFirst: Down, Lost, Warn, Up, Maintenance, Pending, Disabled,
	// by name within each (the status board).
	WorstFirst
	// DeviceWorstFirst: by device name, then worst first (the board
	// grouped by device).
	DeviceWorstFirst
)

// Shown is the state a monitor shows: a disabled one is Disabled, one never
// tested Pending.
func Shown(s state.State, enabled bool) state.State {
	switch {
	case !enabled:
		return state.Disabled
	case s == "":
		return state.Pending
	}
	return s
}

// WorstFirstStates are the states a monitor shows, worst first: the order
// of the status board. A state's index is its rank.
var WorstFirstStates = []state.State{state.Down, state.Lost, state.Warn, state.Up, state.Maintenance, state.Pending, state.Disabled}

// Rank is the place of a shown state in WorstFirstStates (an unknown one
// ranks as Pending).
func Rank(s state.State) int {
	for i, x := range WorstFirstStates {
		if x == s {
			return i
		}
	}
	return Rank(state.Pending)
}

// Counts are a monitor's tests in a period, by outcome; from roll-ups,
// Last is the start of the last roll-up counted.
type Counts struct {
	Tests, Down int
	Last        time.Time
}

// Config is the part of a Store that holds the configuration: devices,
// monitors, alerts and their assignments, credentials (what apply writes,
// in a Batch where the store is a Batcher).
type Config interface {
	PutDevice(ctx context.Context, d *Device) error // creates (ID 0) or updates
	Device(ctx context.Context, id int64) (*Device, error)
	DeviceByName(ctx context.Context, name string) (*Device, error)
	Devices(ctx context.Context, p Page) ([]Device, int, error)
	DeleteDevice(ctx context.Context, id int64) error

	PutMonitor(ctx context.Context, m *Monitor) error
	Monitor(ctx context.Context, id int64) (*Monitor, error)
	MonitorByName(ctx context.Context, deviceID int64, name string) (*Monitor, error)
	Monitors(ctx context.Context, f MonitorFilter) ([]Monitor, int, error)
	DeleteMonitor(ctx context.Context, id int64) error

	PutAlert(ctx context.Context, a *Alert) error
	Alert(ctx context.Context, id int64) (*Alert, error)
	AlertByName(ctx context.Context, name string) (*Alert, error)
	Alerts(ctx context.Context, p Page) ([]Alert, int, error)
	DeleteAlert(ctx context.Context, id int64) error
	SetMonitorAlerts(ctx context.Context, monitorID int64, alertIDs []int64) error
	MonitorAlerts(ctx context.Context, monitorID int64) ([]int64, error)

	PutCredential(ctx context.Context, c *Credential) error // creates (ID 0) or updates
	Credential(ctx context.Context, id int64) (*Credential, error)
	CredentialByName(ctx context.Context, name string) (*Credential, error)
	Credentials(ctx context.Context, p Page) ([]Credential, int, error)
	DeleteCredential(ctx context.Context, id int64) error

	// AddAudit records a change: in the change's own transaction.
	AddAudit(ctx context.Context, e *AuditEntry) error

	// PutMaintenanceNow begins (or moves the end of) maintenance on a
	// monitor or a device (ErrNotFound: no such one); EndMaintenanceNow
	// ends it (ErrNotFound: none); MaintenancesNow lists those not ended
	// at now.
	PutMaintenanceNow(ctx context.Context, m MaintenanceNow) error
	EndMaintenanceNow(ctx context.Context, monitorID, deviceID int64) error
	MaintenancesNow(ctx context.Context, now time.Time) ([]MaintenanceNow, error)

	// PutStatusPage creates (ID 0) or updates a status page;
	// StatusPageByName returns one (ErrNotFound: none); StatusPages lists
	// them by name.
	PutStatusPage(ctx context.Context, p *StatusPage) error
	StatusPageByName(ctx context.Context, name string) (*StatusPage, error)
	StatusPages(ctx context.Context) ([]StatusPage, error)
	DeleteStatusPage(ctx context.Context, id int64) error

	PutToken(ctx context.Context, t *Token) error
	Tokens(ctx context.Context) ([]Token, error)
	DeleteToken(ctx context.Context, id int64) error

	// PutUser creates (ID 0) or updates a user (every field).
	PutUser(ctx context.Context, u *User) error
	User(ctx context.Context, id int64) (*User, error)
	UserByName(ctx context.Context, name string) (*User, error)
	// DeleteUser deletes a user and the user's sessions.
	DeleteUser(ctx context.Context, id int64) error
	// DeleteSessions ends every session of a user but keep (a hash, or "").
	DeleteSessions(ctx context.Context, userID int64, keep string) error
}

// Store is the storage of every backend.
type Store interface {
	Close() error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Config
	Sealer // the sealed values as a whole: key check, rotation (sealed.go)

	// RecordTest stores a test and all it changes in one transaction.
	RecordTest(ctx context.Context, t Test) error
	Status(ctx context.Context, monitorID int64) (*Status, error)
	// Statuses are the statuses of the monitors that have one, by id.
	Statuses(ctx context.Context, ids []int64) (map[int64]*Status, error)
	Results(ctx context.Context, monitorID int64, from, to time.Time, limit int) ([]Result, error)
	// LatestResults returns the newest result of each location since
	// since, by location.
	LatestResults(ctx context.Context, monitorID int64, since time.Time) ([]Result, error)
	StateChanges(ctx context.Context, monitorID int64, limit int) ([]StateChange, error)

	// StateCounts counts the monitors f selects (its State and Page
	// aside) by the state they show (Shown).
	StateCounts(ctx context.Context, f MonitorFilter) (map[state.State]int, error)
	// RecentResults returns the monitors' last limit results each,
	// newest first, without their detail (the board's bars), by monitor.
	RecentResults(ctx context.Context, ids []int64, limit int) (map[int64][]Result, error)
	// BoardStatuses are the statuses of the monitors that have one, with
	// their last RecentSize results (kept next to the status, written with
	// it) and their acknowledgement: the board's rows in one query.
	BoardStatuses(ctx context.Context, ids []int64) (map[int64]*BoardStatus, error)
	// DeviceNames are the names of the devices ids, by id (a board page's
	// rows' devices in one query).
	DeviceNames(ctx context.Context, ids []int64) (map[int64]string, error)
	// RollupCounts sums the monitors' roll-ups in each window, in one
	// query: out[i] is ws[i]'s, by monitor (those with a roll-up in it);
	// RawCounts counts their raw results in [from, to).
	RollupCounts(ctx context.Context, ids []int64, ws ...RollupWindow) ([]map[int64]Counts, error)
	RawCounts(ctx context.Context, ids []int64, from, to time.Time) (map[int64]Counts, error)
	// RawRollup sums up a monitor's raw results in [from, to) as a roll-up
	// does (what the roll-ups do not hold yet).
	RawRollup(ctx context.Context, monitorID int64, from, to time.Time) (Rollup, error)

	// PendingNotifications returns the oldest pending notifications of
	// each alert action, at most limit of each, oldest first.
	PendingNotifications(ctx context.Context, limit int) ([]Notification, error)
	// LaterSent reports whether a notification of monitorID to alertID
	// stored after notification afterID was sent.
	LaterSent(ctx context.Context, monitorID, alertID, afterID int64) (bool, error)
	// MarkNotification writes down how a delivery attempt of
	// notification id ended. With node set (several nodes), only while
	// node still holds its claim: a node whose claim another node has
	// taken over since (its heartbeat lapsed during the attempt) leaves
	// that node's outcome (ErrNotClaimed). Node "": no claims (one node).
	MarkNotification(ctx context.Context, id int64, node, status string, attempts int, lastError string, at time.Time) error
	Notifications(ctx context.Context, monitorID int64, limit int) ([]Notification, error)
	// FiringNotifications returns, for each monitor still failing or
	// warning and each action of kind linked to it, its newest
	// notification when that is an alert, a warning or a re-post (no
	// recovery after it) done (sent or failed) before: what an
	// Alertmanager action posts again while the outage lasts.
	FiringNotifications(ctx context.Context, kind string, before time.Time) ([]Notification, error)
	// AddNotifications puts notifications in the outbox, but those whose
	// event id is there already (another node added it): it returns how
	// many it added.
	AddNotifications(ctx context.Context, ns []Notification) (int, error)

	// PutAck records an acknowledgement, replacing the monitor's earlier
	// one; AckOf returns the monitor's (ErrNotFound: none).
	PutAck(ctx context.Context, a Ack) error
	AckOf(ctx context.Context, monitorID int64) (*Ack, error)

	// Prune deletes raw results older than before; it returns how many.
	Prune(ctx context.Context, before time.Time) (int64, error)

	// RollUp computes the roll-ups of period ("hour" or "day") for every
	// bucket that starts in [from, to), from the raw results; it replaces
	// what was there, so running it twice changes nothing.
	RollUp(ctx context.Context, period string, from, to time.Time) error
	Rollups(ctx context.Context, monitorID int64, period string, from, to time.Time) ([]Rollup, error)
	// PruneRollups deletes roll-ups of period that start before before.
	PruneRollups(ctx context.Context, period string, before time.Time) (int64, error)
	// LastRollup is the start of the latest roll-up of period, zero if
	// there is none: where the janitor takes up after a restart.
	LastRollup(ctx context.Context, period string) (time.Time, error)
	// RecordRecovery logs a corrective action; Recoveries lists a
	// monitor's, newest first.
	RecordRecovery(ctx context.Context, r RecoveryRun) error
	Recoveries(ctx context.Context, monitorID int64, limit int) ([]RecoveryRun, error)
	// StateChangesBetween lists a monitor's state changes in [from, to),
	// oldest first, with the last change before from (the state at from).
	StateChangesBetween(ctx context.Context, monitorID int64, from, to time.Time) ([]StateChange, error)

	TokenByHash(ctx context.Context, hash string) (*Token, error)
	TouchToken(ctx context.Context, id int64, at time.Time) error

	Users(ctx context.Context) ([]User, error)

	// Audit lists audit entries, newest first, and how many match;
	// PruneAudit deletes those older than before.
	Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, int, error)
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
	// UseTOTPStep records that a user's code of step was taken, unless one
	// of that step or a later one was: it says whether it recorded it (a
	// code is good once).
	UseTOTPStep(ctx context.Context, userID, step int64) (bool, error)

	PutSession(ctx context.Context, s *Session) error
	SessionByHash(ctx context.Context, hash string) (*Session, error)
	TouchSession(ctx context.Context, hash string, at time.Time) error
	DeleteSession(ctx context.Context, hash string) error
	// PruneSessions deletes sessions last seen before idle or created
	// before absolute; it returns how many.
	PruneSessions(ctx context.Context, idle, absolute time.Time) (int64, error)
}

// Node is one "mailmon serve" sharing the database.
type Node struct {
	ID       string // unique per process start
	Name     string
	Location string
	Started  time.Time
	Expires  time.Time // its heartbeat's expiry (the database's clock)
	// Leaving: the node is stopping and hands its leases over; it takes
	// no share and is handed none.
	Leaving bool
}

// LeaseCount is how many leases of one class (Location) a node holds.
type LeaseCount struct {
	Node     string
	Location string
	N        int
}

// Lease names a unit of work: a monitor, tested by any node (Location ""),
// or one of the locations a K-of-N monitor is tested from.
type Lease struct {
	MonitorID int64
	Location  string
}

// ErrNodeExpired: a node's heartbeat had expired before it renewed it; its
// leases may have gone to other nodes.
var ErrNodeExpired = errors.New("this node's heartbeat expired")

// ErrNotClaimed: the node no longer holds the notification's claim
// (another node took it over), or it is no longer pending.
var ErrNotClaimed = errors.New("the notification is no longer claimed by this node")

// Cluster is what a store shared by several nodes offers (PostgreSQL). A
// lease is held while its node's heartbeat is fresh: one write a node
// renews them all.
type Cluster interface {
	// Heartbeat registers n or renews its heartbeat for ttl (and its
	// Leaving) and returns the live nodes. It returns ErrNodeExpired when
	// n's heartbeat had expired (the caller must drop its leases and
	// Leave).
	Heartbeat(ctx context.Context, n Node, ttl time.Duration) ([]Node, error)
	// Nodes returns the live nodes.
	Nodes(ctx context.Context) ([]Node, error)
	// Leases returns the leases node holds.
	Leases(ctx context.Context, node string) ([]Lease, error)
	// Acquire takes at most n of want that are free (never held, released,
	// or held by a node whose heartbeat expired), skipping any another
	// node is taking at the same moment; it returns those it took.
	Acquire(ctx context.Context, node string, want []Lease, n int) ([]Lease, error)
	// Release gives leases back.
	Release(ctx context.Context, node string, ls []Lease) error
	// Handover gives node's leases ls to node to (those node still
	// holds), which finds them among its Leases.
	Handover(ctx context.Context, node, to string, ls []Lease) error
	// LeaseCounts counts the leases each live node holds, by class.
	LeaseCounts(ctx context.Context) ([]LeaseCount, error)
	// Leave releases every lease of node and removes it.
	Leave(ctx context.Context, node string) error
	// ClaimNotifications returns pending notifications no other node is
	// delivering, claimed by node while its heartbeat is fresh, for hold
	// at most: a node that dies while delivering leaves them to the others
	// once its heartbeat expires. Reclaimed marks those another claim had
	// not finished with. It takes the oldest limit of each action, so that
	// one action's backlog starves no other. A node whose heartbeat is not
	// fresh (before its first, or expired) claims none.
	ClaimNotifications(ctx context.Context, node string, hold time.Duration, limit int) ([]Notification, error)
	// BeginNotification writes down, before node sends notification id,
	// that a send may begin: one claimed again after that is Reclaimed (a
	// late resend). It returns ErrNotClaimed, and node must not send,
	// unless node still holds a live claim on it (its heartbeat fresh,
	// the claim not expired) and it is pending.
	BeginNotification(ctx context.Context, node string, id int64) error
	// Unclaim ends node's claims on notifications it left undelivered
	// (rate limited), for any node to take (not as Reclaimed); those
	// another node claimed since (node's heartbeat expired meanwhile)
	// keep that node's claim.
	Unclaim(ctx context.Context, node string, ids []int64) error
}

// Limit returns the page size to use.
func (p Page) LimitOr(def int) int {
	if p.Limit <= 0 {
		return def
	}
	return p.Limit
}
