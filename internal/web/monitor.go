package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/report"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

type notificationRow struct {
	store.Notification
	Alert string
	Event alert.Event
}

type monitorData struct {
	Monitor       store.Monitor
	Device        store.Device
	Spec          config.Monitor
	State         state.State
	Since         time.Time
	Why           string // the cause of the last change
	Last          *probe.Result
	LastTest      time.Time
	Results       []store.Result // newest first
	Failures      []store.Result // newest first, with their transcripts
	LastFailed    bool           // the last result is Failures[0]: shown there, once
	Period        monitorPeriod
	Periods       []periodLink
	Uptime        string // over the period
	UptimeTests   int
	Changes       []store.StateChange
	Notifications []notificationRow
	Recoveries    []store.RecoveryRun
	RTTChart      template.HTML
	DeliveryChart template.HTML
	RoundTrip     bool
	Alerts        []string
	Secrets       []string
	Live          bool
	Ack           *store.Ack // of the current outage (alerting.go)
	Maint         maintView  // maintenance begun by hand (maintenance.go)
}

func (s *Server) monitor(w http.ResponseWriter, r *http.Request, c *call) error {
	m, dev, err := s.loadMonitor(r.Context(), r)
	if err != nil {
		return err
	}
	c.notice = monitorNotice(r.URL.Query())
	ctx := r.Context()
	d := monitorData{Monitor: *m, Device: *dev, State: state.Pending, RoundTrip: kinds.RoundTrip(m.Type), Live: s.Engine != nil}
	d.Maint = s.maintView(r, catalog.MaintenanceTarget{Monitor: m.ID}, m.DeviceID)
	if err := json.Unmarshal(m.Spec, &d.Spec); err != nil {
		return err
	}
	for k := range m.Secrets {
		d.Secrets = append(d.Secrets, k)
	}
	if st, err := s.Store.Status(ctx, m.ID); err == nil {
		d.State, d.Since, d.Last, d.LastTest = st.Status.State, st.Status.Since, st.LastResult, st.LastTest
		d.Ack = s.Catalog.Ack(ctx, m.ID, st)
	}
	if d.State == "" {
		d.State = state.Pending
	}
	if !m.Enabled {
		d.State = state.Disabled
	}
	now := s.Now()
	d.Period, d.Periods = s.monitorPeriod(r.URL.Query(), m.ID, now)
	from, to := d.Period.From, d.Period.To
	if err := s.monitorCharts(r, &d, from, to); err != nil {
		return err
	}
	rep, err := report.Of(ctx, s.Store, []store.Monitor{*m}, from, to, now)
	if err != nil {
		return err
	}
	if row := rep.Monitors[0]; row.Tests > 0 {
		d.Uptime, d.UptimeTests = fmt.Sprintf("%.3f %%", row.Availability), row.Tests
	} else {
		d.Uptime = "no tests in this period"
	}
	d.LastFailed = len(d.Failures) > 0 && d.Last != nil && d.Failures[0].Detail.Started.Equal(d.Last.Started)
	if d.Changes, err = s.Store.StateChanges(ctx, m.ID, 20); err != nil {
		return err
	}
	if len(d.Changes) > 0 {
		d.Why = d.Changes[0].Cause
	}
	ns, err := s.Store.Notifications(ctx, m.ID, 20)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, n := range ns {
		row := notificationRow{Notification: n}
		if _, ok := names[n.AlertID]; !ok {
			if a, err := s.Store.Alert(ctx, n.AlertID); err == nil {
				names[n.AlertID] = a.Name
			}
		}
		row.Alert = names[n.AlertID]
		json.Unmarshal(n.Payload, &row.Event)
		d.Notifications = append(d.Notifications, row)
	}
	if d.Recoveries, err = s.Store.Recoveries(ctx, m.ID, 20); err != nil {
		return err
	}
	ids, err := s.Store.MonitorAlerts(ctx, m.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if a, err := s.Store.Alert(ctx, id); err == nil {
			d.Alerts = append(d.Alerts, a.Name)
		}
	}
	s.render(w, c, http.StatusOK, "monitor", m.Name, d)
	return nil
}
