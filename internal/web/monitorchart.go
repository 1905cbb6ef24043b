package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/report"
	"github.com/mailmon/mailmon/internal/store"
)

// monitorPeriod is the period a monitor's page shows.
type monitorPeriod struct {
	Value    string // 1h, 24h, 7d, 30d; "" for custom
	Label    string
	From, To time.Time
	// FromDate, ToDate are a custom period's dates (YYYY-MM-DD).
	FromDate, ToDate string
	Error            string
}

type periodLink struct {
	Value, Label, Link string
	Current            bool
}

var monitorPeriods = []struct {
	Value, Label string
	D            time.Duration
}{
	{"1h", "1 hour", time.Hour}, {"24h", "24 hours", 24 * time.Hour}, {"7d", "7 days", 7 * 24 * time.Hour}, {"30d", "30 days", 30 * 24 * time.Hour},
}

// monitorPeriod reads the period of a monitor's page: a preset (24 hours
// by default) or from/to dates.
func (s *Server) monitorPeriod(q url.Values, id int64, now time.Time) (monitorPeriod, []periodLink) {
	p := monitorPeriod{Value: "24h", Label: "last 24 hours", From: now.Add(-24 * time.Hour), To: now}
	if f, t := q.Get("from"), q.Get("to"); f != "" || t != "" {
		from, err1 := time.Parse("2006-01-02", f)
		to, err2 := time.Parse("2006-01-02", t)
		if t == "" {
			to, err2 = store.Truncate(store.Day, now), nil
		}
		to = to.Add(24 * time.Hour) // the whole last day
		switch {
		case err1 != nil || err2 != nil:
			p.Error = "from and to are dates (YYYY-MM-DD)"
		case !to.After(from):
			p.Error = "to must be on or after from"
		default:
			p = monitorPeriod{Label: from.Format("2006-01-02") + " – " + to.Add(-time.Hour).Format("2006-01-02"), From: from, To: to, FromDate: f, ToDate: t}
		}
	} else {
		for _, x := range monitorPeriods {
			if q.Get("period") == x.Value {
				p = monitorPeriod{Value: x.Value, Label: "last " + x.Label, From: now.Add(-x.D), To: now}
			}
		}
	}
	var links []periodLink
	for _, x := range monitorPeriods {
		links = append(links, periodLink{Value: x.Value, Label: x.Label, Current: x.Value == p.Value,
			Link: "/monitors/" + strconv.FormatInt(id, 10) + "?period=" + x.Value})
	}
	return p, links
}

// rawDays is how far back a monitor's charts draw each test; further
// back they draw the hourly roll-ups (raw results are kept a week).
const rawDays = 7 * 24 * time.Hour

// monitorCharts draws a monitor's response (and delivery) time over
// [from, to), with its failures as marks on the time axis, and lists its
// latest results and failures, newest first.
func (s *Server) monitorCharts(r *http.Request, d *monitorData, from, to time.Time) error {
	ctx := r.Context()
	var rtt, del []point
	if to.Sub(from) <= rawDays+time.Hour {
		rs, err := s.Store.Results(ctx, d.Monitor.ID, from, to.Add(time.Minute), 20000)
		if err != nil {
			return err
		}
		// Newest first, from the store.
		for i, x := range rs {
			if i < 50 {
				d.Results = append(d.Results, x)
			}
			if x.Detail != nil && x.Status != probe.StatusUp && len(d.Failures) < 20 {
				d.Failures = append(d.Failures, x)
			}
		}
		for i := len(rs) - 1; i >= 0; i-- {
			x := rs[i]
			rtt = append(rtt, point{T: x.Time, V: float64(x.RTT) / 1e6, Bad: x.Status == probe.StatusDown, Code: string(x.Code)})
			if x.Delivery > 0 {
				del = append(del, point{T: x.Time, V: float64(x.Delivery) / 1e6})
			}
		}
	} else {
		// The hours not rolled up yet (the janitor rolls an hour once it
		// is final, an hour or more after its end) from the raw results.
		ru, err := report.Periods(ctx, s.Store, d.Monitor.ID, store.Hour, store.Truncate(store.Hour, from), to, s.Now())
		if err != nil {
			return err
		}
		for _, x := range ru {
			if x.Up+x.Warn > 0 {
				rtt = append(rtt, point{T: x.Start, V: float64(x.RTTAvg) / 1e6})
			}
			if x.Down > 0 {
				rtt = append(rtt, point{T: x.Start, Bad: true}) // an hour with failures
			}
			if x.Delivered > 0 {
				del = append(del, point{T: x.Start, V: float64(x.DeliveryAvg) / 1e6})
			}
		}
		rs, err := s.Store.Results(ctx, d.Monitor.ID, to.Add(-rawDays), to.Add(time.Minute), 50)
		if err != nil {
			return err
		}
		d.Results = rs
		for _, x := range rs {
			if x.Detail != nil && x.Status != probe.StatusUp && len(d.Failures) < 20 {
				d.Failures = append(d.Failures, x)
			}
		}
	}
	d.RTTChart = lineChart("rtt-chart", "Response time, "+d.Period.Label, "ms", rtt, from, to)
	if d.RoundTrip {
		d.DeliveryChart = lineChart("delivery-chart", "Delivery time, "+d.Period.Label, "ms", del, from, to)
	}
	return nil
}
