package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/wire"
)

// K of N locations (a monitor with locations: {require: K, at: […]} on
// several nodes): each location's node tests the monitor and stores its
// result; the monitor's state follows one verdict a round, from every
// location's evidence together.
//
// Evidence is fresh: a location's latest result counts while it is
// younger than about two of the monitor's intervals and the location has a
// live node. A location without either is unknown, never Up. The verdict
// is Down when at least K locations fail; Up when enough pass that fewer
// than K can be failing; otherwise there is no verdict and the state is
// kept (a location that lost its last node is no recovery).
//
// One verdict a round: every location's test stores its result, and the
// test that completes the round (each location that counts has reported
// since the last verdict), or the first after a round and a half, decides
// for all. failures_per_alert, flapping and Lost thus count rounds of the
// monitor, as on one location; concurrent tests take turns through the
// status's version.

// LocationView is one location's evidence on a K-of-N monitor.
type LocationView struct {
	Location string
	Latest   *store.Result // its newest result; nil if none recently
	// Unknown says why the location does not count now ("" when it
	// does): no live node there, or no result fresh enough.
	Unknown string
}

// Verdict is what the locations' evidence says together.
type Verdict struct {
	// Status is up, warn or down; "" when the evidence does not decide,
	// and the monitor keeps its state.
	Status probe.Status
	Code   probe.Code
	// The locations that fail, pass, and do not count.
	Failing, Passing, Unknown []string
	Require                   int
	Of                        int // the locations counted (at least Require)
}

// String says what the verdict rests on, for a state change's cause and
// the log ("" when every location passes).
func (v Verdict) String() string {
	var unknown string
	if len(v.Unknown) > 0 {
		unknown = "; unknown: " + strings.Join(v.Unknown, ", ")
	}
	switch {
	case v.Status == probe.StatusDown:
		return fmt.Sprintf("%d of %d locations failing, %d required: %s%s", len(v.Failing), v.Of, v.Require, strings.Join(v.Failing, ", "), unknown)
	case v.Status == "":
		failing := ""
		if len(v.Failing) > 0 {
			failing = " (" + strings.Join(v.Failing, ", ") + ")"
		}
		return fmt.Sprintf("too few locations to decide: %d of %d failing%s, %d passing, %d required%s; the state is kept",
			len(v.Failing), v.Of, failing, len(v.Passing), v.Require, unknown)
	case len(v.Failing) > 0:
		return fmt.Sprintf("locations disagree: %d of %d failing (%s), %d required%s", len(v.Failing), v.Of, strings.Join(v.Failing, ", "), v.Require, unknown)
	}
	return ""
}

// judge weighs each location's latest result (latest: the newest of each
// location) as of now. A result counts while it is younger than fresh and
// its location has a live node (live: the locations with one; nil: every
// location has). The locations are those in at, or, when at is left out,
// every location with a live node or a result in latest.
func judge(l *config.Locations, latest []store.Result, live map[string]bool, fresh time.Duration, now time.Time) ([]LocationView, Verdict) {
	byLoc := map[string]*store.Result{}
	for i := range latest {
		if r := &latest[i]; r.Location != "" {
			byLoc[r.Location] = r
		}
	}
	locs := slices.Clone(l.At)
	if len(locs) == 0 {
		for loc := range byLoc {
			locs = append(locs, loc)
		}
		for loc := range live {
			locs = append(locs, loc)
		}
	}
	slices.Sort(locs)
	locs = slices.Compact(locs)
	v := Verdict{Require: max(l.Require, 1), Of: max(len(locs), l.Require, 1)}
	var views []LocationView
	var warn *store.Result
	for _, loc := range locs {
		view := LocationView{Location: loc, Latest: byLoc[loc]}
		r := view.Latest
		switch {
		case live != nil && !live[loc]:
			view.Unknown = "no live node there"
		case r == nil:
			view.Unknown = "no result yet"
		case now.Sub(r.Time) > fresh:
			view.Unknown = fmt.Sprintf("its latest result is %v old", now.Sub(r.Time).Round(time.Second))
		}
		views = append(views, view)
		switch {
		case view.Unknown != "":
			v.Unknown = append(v.Unknown, loc)
		case r.Status == probe.StatusDown:
			if len(v.Failing) == 0 {
				v.Code = r.Code
			}
			v.Failing = append(v.Failing, loc)
		default:
			if r.Status == probe.StatusWarn && warn == nil {
				warn = r
			}
			v.Passing = append(v.Passing, loc)
		}
	}
	switch {
	case len(v.Failing) >= v.Require:
		v.Status = probe.StatusDown
	case v.Of-len(v.Passing) < v.Require:
		v.Status, v.Code = probe.StatusUp, ""
		if warn != nil {
			v.Status, v.Code = probe.StatusWarn, warn.Code
		}
	default:
		v.Code = ""
	}
	return views, v
}

// roundDone reports whether a test completes a round of a K-of-N monitor,
// so that its verdict is due: every location that counts has reported
// since the last verdict (at last), or the last verdict is older than one
// and a half intervals (a location did not report this round).
func roundDone(views []LocationView, last time.Time, interval time.Duration, now time.Time) bool {
	if now.Sub(last) >= interval*3/2 {
		return true
	}
	for _, v := range views {
		if v.Unknown == "" && !v.Latest.Time.After(last) {
			return false
		}
	}
	return true
}

// freshness is how long a location's latest result counts: about two of
// the intervals its node tests at (up or down, and lost while Lost: the
// locations change pace a round apart), and a test's duration.
func freshness(t config.Timing, s state.State) time.Duration {
	iv := max(t.UpEvery.D(), t.DownEvery.D())
	if s == state.Lost {
		iv = max(iv, t.LostEvery.D())
	}
	return 2*iv + t.MaxDuration.D()
}

// locationsSince is how far back a K-of-N monitor's results are read: a
// location left out of at counts while it has a result within an hour
// (or two intervals, if longer), even once its node is gone.
func locationsSince(l *config.Locations, fresh time.Duration, now time.Time) time.Time {
	if len(l.At) > 0 {
		return now.Add(-fresh)
	}
	return now.Add(-max(fresh, time.Hour))
}

// verdict judges a K-of-N monitor with res, this location's result just
// now: the other locations' latest results are read from the store.
func (e *Engine) verdict(ctx context.Context, en *entry, res *probe.Result, st state.State, now time.Time) ([]LocationView, Verdict, error) {
	l := en.locations()
	fresh := freshness(en.spec.Timing, st)
	latest, err := e.o.Store.LatestResults(ctx, en.m.ID, locationsSince(l, fresh, now))
	if err != nil {
		return nil, Verdict{}, err
	}
	mine := e.cl.node.Location
	own := store.Result{MonitorID: en.m.ID, Time: res.Started, Status: res.Status, Node: e.o.Node.Name, Location: mine}
	if res.Error != nil {
		own.Code = res.Error.Code
	}
	latest = slices.DeleteFunc(latest, func(r store.Result) bool { return r.Location == mine })
	latest = append(latest, own)
	views, v := judge(l, latest, e.cl.liveLocations(), fresh, now)
	if v.Status == probe.StatusDown && res.Status == probe.StatusDown {
		v.Code = own.Code // this location's own failure names it
	}
	return views, v, nil
}

// Locations is the evidence of each location of a K-of-N monitor as the
// verdict sees it now, for the API and the web UI; nil for other monitors.
// The latest results are of the last day, so that a location gone quiet
// shows with the age of its last one.
func (e *Engine) Locations(ctx context.Context, m *store.Monitor) ([]LocationView, Verdict, error) {
	var spec config.Monitor
	if err := json.Unmarshal(m.Spec, &spec); err != nil || spec.Locations == nil {
		return nil, Verdict{}, err
	}
	spec.Type = m.Type
	spec.ApplyDefaults()
	var s state.State
	if st, err := e.o.Store.Status(ctx, m.ID); err == nil {
		s = st.Status.State
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, Verdict{}, err
	}
	now := e.o.Now()
	latest, err := e.o.Store.LatestResults(ctx, m.ID, now.Add(-24*time.Hour))
	if err != nil {
		return nil, Verdict{}, err
	}
	var live map[string]bool
	if e.cl != nil {
		live = e.cl.liveLocations()
	}
	views, v := judge(spec.Locations, latest, live, freshness(spec.Timing, s), now)
	return views, v, nil
}

// denied is the prober of a target Options.Deny cuts off: refused.
func denied(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	return t.Step("connect", func() error {
		return &wire.DialError{Addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), Err: syscall.ECONNREFUSED}
	})
}
