package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/report"
	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// Status pages (docs/status-pages.md): /status/NAME shows the chosen
// monitors' states, uptimes, incidents and maintenance to people outside
// the team, and /badge/… the same as images. They say nothing of the
// server's words or addresses: a monitor's name, its device's name, a
// state, times and percentages, nothing else (no host, port, address,
// transcript, error message or code).

// statusTTL is how long a status page's figures are reused: the page is
// unauthenticated, and its figures cost dozens of queries (a day of raw
// results each, before the roll-ups); reused, a request costs one (the
// page's record, for who may see it), three for a private page (the
// session and its user).
const statusTTL = 30 * time.Second

// statusHistoryDays is the history strip's length, in days.
const statusHistoryDays = 30

// Unknown is the state shown for a monitor never tested, or disabled.
const stateUnknown state.State = "unknown"

// publicState is the state a status page shows: Lost is Down (still
// failing after its alerts, docs/ui.md); Pending and Disabled are
// Unknown.
func publicState(s state.State) state.State {
	switch s {
	case state.Up, state.Warn, state.Down, state.Maintenance:
		return s
	case state.Lost:
		return state.Down
	}
	return stateUnknown
}

type statusDay struct{ Class, Title string }

type statusRow struct {
	Device, Name     string
	State            state.State
	Since            time.Time
	Up24, Up7, Up30  string
	month            store.Counts
	Days             []statusDay
	DaysLabel        string
	MaintFrom        time.Time // maintenance to come: its start
	MaintTo          time.Time // its end, or the end of the one now (zero: not known)
	deviceID, monID  int64
	upcoming, maintd bool
}

// statusView is what a status page shows.
type statusView struct {
	Name, Title, Description string
	Public                   bool
	Overall                  state.State
	Summary                  string
	Rows                     []statusRow
	Incidents                []statusRow // Down, oldest first
	Maintenance              []statusRow // in maintenance now, then to come
	Updated                  time.Time
}

type statusEntry struct {
	at      time.Time
	updated time.Time // the page's record, when the view was made
	view    *statusView
	html    []byte
}

// statusCache holds each page's view for statusTTL.
type statusCache struct {
	mu     sync.Mutex
	m      map[string]statusEntry
	making singleflight.Group
}

// fresh returns page p's view if it is at most statusTTL old at now and
// made from p as it is.
func (c *statusCache) fresh(p *store.StatusPage, now time.Time) (statusEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[p.Name]
	return e, ok && e.updated.Equal(p.Updated) && now.Sub(e.at) < statusTTL && !now.Before(e.at)
}

// statusPageOf returns the named page if the request may see it: a public
// one, or a private one with a session. Otherwise ErrNotFound, as for a
// page that does not exist: a private page is not told to exist.
func (s *Server) statusPageOf(w http.ResponseWriter, r *http.Request, publicOnly bool) (*store.StatusPage, error) {
	p, err := s.Store.StatusPageByName(r.Context(), r.PathValue("page"))
	if err != nil {
		return nil, err
	}
	if p.Public {
		return p, nil
	}
	if publicOnly {
		return nil, store.ErrNotFound
	}
	u, _, err := s.authenticate(r)
	if name := s.proxyUser(r); name != "" && !errors.Is(err, store.ErrUnavailable) && (err != nil || u.Name != name) {
		u, _, err = s.proxySession(w, r, name) // as every page does (wrap)
	}
	if errors.Is(err, store.ErrUnavailable) {
		return nil, err
	}
	if err != nil || s.mustEnrol(u) {
		return nil, store.ErrNotFound
	}
	return p, nil
}

// statusOf returns a page's view, made again after statusTTL or a change
// of the page.
func (s *Server) statusOf(ctx context.Context, p *store.StatusPage) (statusEntry, error) {
	now := s.Now()
	if e, ok := s.statusCache.fresh(p, now); ok {
		return e, nil
	}
	// Requests that miss together wait for one computation
	// (golang.org/x/sync/singleflight), not one each; one that comes
	// just after finds it made.
	made, err, _ := s.statusCache.making.Do(p.Name, func() (any, error) {
		if e, ok := s.statusCache.fresh(p, now); ok {
			return e, nil
		}
		sp, err := catalog.StatusPage(p)
		if err != nil {
			return nil, err
		}
		// Not the request's context: a client that leaves must not fail
		// the others waiting for the same computation.
		v, err := s.statusView(context.WithoutCancel(ctx), sp, now)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := s.pages["statuspage"].ExecuteTemplate(&b, "statuspage.html", v); err != nil {
			return nil, err
		}
		e := statusEntry{at: now, updated: p.Updated, view: v, html: b.Bytes()}
		s.statusCache.mu.Lock()
		if s.statusCache.m == nil || len(s.statusCache.m) > 1000 {
			s.statusCache.m = map[string]statusEntry{}
		}
		s.statusCache.m[p.Name] = e
		s.statusCache.mu.Unlock()
		return e, nil
	})
	if err != nil {
		return statusEntry{}, err
	}
	return made.(statusEntry), nil
}

// statusView reads the page's monitors and their figures.
func (s *Server) statusView(ctx context.Context, sp config.StatusPage, now time.Time) (*statusView, error) {
	v := &statusView{Name: sp.Name, Title: sp.Title, Description: sp.Description, Public: sp.Public, Updated: now}
	devices := map[string]*store.Device{}
	device := func(name string) (*store.Device, error) {
		d, ok := devices[name]
		if !ok {
			var err error
			if d, err = s.Store.DeviceByName(ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			devices[name] = d
		}
		return d, nil
	}
	seen := map[int64]bool{}
	var ms []store.Monitor
	var devNames []string
	add := func(m store.Monitor, dev string) {
		if !seen[m.ID] {
			seen[m.ID] = true
			ms = append(ms, m)
			devNames = append(devNames, dev)
		}
	}
	// A name that is gone since apply (a device or monitor deleted) is
	// left out.
	for _, name := range sp.Monitors {
		dn, mn, _ := config.SplitMonitorName(name)
		d, err := device(dn)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		m, err := s.Store.MonitorByName(ctx, d.ID, mn)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		}
		add(*m, d.Name)
	}
	for _, dn := range sp.Devices {
		d, err := device(dn)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		dms, _, err := s.Store.Monitors(ctx, store.MonitorFilter{DeviceID: d.ID, Page: store.Page{Limit: 1000}})
		if err != nil {
			return nil, err
		}
		for _, m := range dms {
			add(m, d.Name)
		}
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	statuses, err := s.Store.Statuses(ctx, ids)
	if err != nil {
		return nil, err
	}
	day, over, err := report.UptimesOver(ctx, s.Store, ids, now, 7, 30)
	if err != nil {
		return nil, err
	}
	daily, err := report.Daily(ctx, s.Store, ids, now, statusHistoryDays)
	if err != nil {
		return nil, err
	}
	maints, err := s.Store.MaintenancesNow(ctx, now)
	if err != nil {
		return nil, err
	}
	for i, m := range ms {
		r := statusRow{Device: devNames[i], Name: m.Name, deviceID: m.DeviceID, monID: m.ID}
		var shown state.State
		if st := statuses[m.ID]; st != nil {
			shown, r.Since = st.Status.State, st.Status.Since
		}
		r.State = publicState(store.Shown(shown, m.Enabled))
		r.Up24, r.Up7, r.Up30 = uptime(day[m.ID]), uptime(over[0][m.ID]), uptime(over[1][m.ID])
		r.month = over[1][m.ID]
		r.Days, r.DaysLabel = statusDays(daily[m.ID], now)
		// Only the windows of the monitor's settings are read.
		var spec struct {
			Maintenance []config.Window `json:"maintenance"`
		}
		json.Unmarshal(m.Spec, &spec)
		if r.State == state.Maintenance {
			r.maintd, r.MaintTo = true, schedule.Until(maints, m.ID, m.DeviceID)
		} else if from, to, ok := schedule.NextWindow(spec.Maintenance, now, 7*24*time.Hour); ok {
			r.upcoming, r.MaintFrom, r.MaintTo = true, from, to
		}
		v.Rows = append(v.Rows, r)
	}
	v.Overall, v.Summary = overall(v.Rows)
	for _, r := range v.Rows {
		if r.State == state.Down {
			v.Incidents = append(v.Incidents, r)
		}
	}
	for _, r := range v.Rows {
		if r.maintd {
			v.Maintenance = append(v.Maintenance, r)
		}
	}
	for _, r := range v.Rows {
		if r.upcoming {
			v.Maintenance = append(v.Maintenance, r)
		}
	}
	return v, nil
}

// overall is the page's state, the worst of its monitors', and its words.
func overall(rows []statusRow) (state.State, string) {
	has := map[state.State]bool{}
	for _, r := range rows {
		has[r.State] = true
	}
	switch {
	case has[state.Down]:
		return state.Down, "Some services are down."
	case has[state.Warn]:
		return state.Warn, "Some services are slow or degraded."
	case has[state.Maintenance]:
		return state.Maintenance, "Maintenance is under way."
	case has[state.Up]:
		return state.Up, "All services are up."
	}
	return stateUnknown, "No test results yet."
}

// statusDays are a monitor's days as bars, oldest first, and what they
// say for a screen reader.
func statusDays(cs []store.Counts, now time.Time) ([]statusDay, string) {
	out := make([]statusDay, len(cs))
	first := now.UTC().AddDate(0, 0, -(len(cs) - 1))
	bad := 0
	for i, c := range cs {
		date := first.AddDate(0, 0, i).Format("2006-01-02")
		p, ok := report.Percent(c)
		switch {
		case !ok:
			out[i] = statusDay{"b-none", date + ": no tests"}
			continue
		case c.Down == 0:
			out[i].Class = "b-up"
		case p >= 99:
			out[i].Class = "b-warn"
			bad++
		default:
			out[i].Class = "b-down"
			bad++
		}
		out[i].Title = fmt.Sprintf("%s: %s of %d tests passed", date, uptime(c), c.Tests)
	}
	return out, fmt.Sprintf("the last %d days: %d with failed tests", len(cs), bad)
}

// statusPage is /status/NAME.
func (s *Server) statusPage(w http.ResponseWriter, r *http.Request, _ *call) error {
	if !s.statusLimit(w, r) {
		return nil
	}
	p, err := s.statusPageOf(w, r, false)
	if err != nil {
		return s.statusFail(w, r, err)
	}
	e, err := s.statusOf(r.Context(), p)
	if err != nil {
		return s.statusFail(w, r, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if p.Public {
		// Shared caches may keep it as long as the server does.
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(statusTTL/time.Second)))
	} else {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	w.Write(e.html)
	return nil
}

// statusFail answers a status page or badge that cannot be shown in as
// few words as the default 404 does: the error page would show the
// node's own troubles (its banner).
func (s *Server) statusFail(w http.ResponseWriter, r *http.Request, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, "404 page not found", http.StatusNotFound)
	case s.unavailable(err):
		w.Header().Set("Retry-After", "5")
		http.Error(w, "the status is not available now: try again in a minute", http.StatusServiceUnavailable)
	default:
		s.Log.Error("web: status page", "path", r.URL.Path, "err", err)
		http.Error(w, "the status is not available now", http.StatusInternalServerError)
	}
	return nil
}

// statusPagesList is the list of status pages, for the team.
func (s *Server) statusPagesList(w http.ResponseWriter, r *http.Request, c *call) error {
	ps, err := s.Store.StatusPages(r.Context())
	if err != nil {
		return err
	}
	var d []config.StatusPage
	for i := range ps {
		sp, err := catalog.StatusPage(&ps[i])
		if err != nil {
			return err
		}
		d = append(d, sp)
	}
	s.render(w, c, http.StatusOK, "statuspages", "Status pages", d)
	return nil
}
