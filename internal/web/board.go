package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// PageSize is how many monitors a board or list page shows.
const PageSize = 50

type boardRow struct {
	ID, DeviceID       int64
	Name, Device, Type string
	State              state.State
	RTT                time.Duration
	HasRTT             bool
	ErrCode, ErrMsg    string
	LastTest           time.Time
	Unknown            []string // K-of-N locations that do not count now (health.go)
	Acked              string   // who acknowledged the current outage
}

type boardData struct {
	Rows               []boardRow
	Total, Page, Pages int
	Q, State, Type     string
	Device             int64
	States             []state.State
	Types              []string
	Prev, Next         string
}

var allStates = []state.State{state.Up, state.Warn, state.Down, state.Lost, state.Pending, state.Disabled, state.Maintenance}

// monitorRows is one page of monitors with their states: the store pages
// and filters, so the cost of a page does not grow with the number of
// monitors.
func (s *Server) monitorRows(ctx context.Context, q url.Values, device int64, base string) (*boardData, error) {
	d := &boardData{Q: q.Get("q"), State: q.Get("state"), Type: q.Get("type"), Device: device, States: allStates, Types: kinds.Names()}
	if d.State != "" && !slices.Contains(allStates, state.State(d.State)) {
		d.State = ""
	}
	if !slices.Contains(d.Types, d.Type) {
		d.Type = ""
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	f := store.MonitorFilter{Page: store.Page{Limit: PageSize, Offset: (d.Page - 1) * PageSize}, DeviceID: device,
		State: state.State(d.State), Type: d.Type, Search: d.Q}
	ms, total, err := s.Store.Monitors(ctx, f)
	if err != nil {
		return nil, err
	}
	d.Total, d.Pages = total, max((total+PageSize-1)/PageSize, 1)
	devices := map[int64]string{}
	for _, m := range ms {
		r := boardRow{ID: m.ID, DeviceID: m.DeviceID, Name: m.Name, Type: m.Type, State: state.Pending}
		name, ok := devices[m.DeviceID]
		if !ok {
			if dev, err := s.Store.Device(ctx, m.DeviceID); err == nil {
				name = dev.Name
			}
			devices[m.DeviceID] = name
		}
		r.Device = name
		if st, err := s.Store.Status(ctx, m.ID); err == nil {
			r.State, r.LastTest = st.Status.State, st.LastTest
			if a := s.Catalog.Ack(ctx, m.ID, st); a != nil {
				r.Acked = a.By
			}
			if res := st.LastResult; res != nil {
				r.RTT, r.HasRTT = res.RTT, true
				if res.Error != nil {
					r.ErrCode, r.ErrMsg = string(res.Error.Code), res.Error.Message
				}
			}
		}
		if r.State == "" {
			r.State = state.Pending
		}
		if !m.Enabled {
			r.State = state.Disabled
		}
		r.Unknown = s.unknownLocations(ctx, &m)
		d.Rows = append(d.Rows, r)
	}
	link := func(p int) string {
		v := url.Values{}
		for _, k := range []string{"q", "state", "type"} {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		if base == "/" && device != 0 {
			v.Set("device", strconv.FormatInt(device, 10))
		}
		v.Set("page", strconv.Itoa(p))
		return base + "?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.Next = link(d.Page + 1)
	}
	return d, nil
}

func (s *Server) board(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	device, _ := strconv.ParseInt(q.Get("device"), 10, 64)
	d, err := s.monitorRows(r.Context(), q, device, "/")
	if err != nil {
		return err
	}
	s.render(w, c, http.StatusOK, "board", "Status", d)
	return nil
}
