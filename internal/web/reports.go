package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mailmon/mailmon/internal/report"
	"github.com/mailmon/mailmon/internal/store"
)

var periods = []struct{ Value, Label string }{
	{"1h", "last hour"}, {"24h", "last 24 hours"}, {"168h", "last 7 days"}, {"720h", "last 30 days"}, {"8760h", "last year"},
}

type reportData struct {
	Period, From, To string
	Periods          []struct{ Value, Label string }
	Device, Monitor  int64
	Devices          []store.Device
	Report           *report.Report
	Error            string
	AvailChart       template.HTML
	RTTChart         template.HTML
	HourChart        template.HTML
	MonitorName      string
	CSV              string
	// Pages of monitors and of devices.
	Page, DPage, Total, DTotal int
	Prev, Next, DPrev, DNext   string
}

// reportQuery reads the period (a preset, or from/to dates) and filters.
func (s *Server) reportQuery(q url.Values) (d reportData, from, to time.Time, err error) {
	now := s.Now()
	d = reportData{Period: q.Get("period"), From: q.Get("from"), To: q.Get("to"), Periods: periods}
	d.Device, _ = strconv.ParseInt(q.Get("device"), 10, 64)
	d.Monitor, _ = strconv.ParseInt(q.Get("monitor"), 10, 64)
	if d.From != "" || d.To != "" {
		d.Period = ""
		from, err = time.Parse("2006-01-02", d.From)
		if err != nil {
			return d, from, to, httpError{http.StatusBadRequest, "from is a date (YYYY-MM-DD)"}
		}
		to = now
		if d.To != "" {
			if to, err = time.Parse("2006-01-02", d.To); err != nil {
				return d, from, to, httpError{http.StatusBadRequest, "to is a date (YYYY-MM-DD)"}
			}
			to = to.Add(24 * time.Hour) // the whole last day
		}
		if !to.After(from) {
			return d, from, to, httpError{http.StatusBadRequest, "to must be after from"}
		}
		return d, from, to, nil
	}
	p, perr := time.ParseDuration(d.Period)
	if perr != nil || p <= 0 || p > 5*365*24*time.Hour {
		d.Period, p = "24h", 24*time.Hour
	}
	return d, now.Add(-p), now, nil
}

// reportDevices is how many devices a page of the report shows: a
// device's row reads all its monitors' roll-ups.
const reportDevices = 10

// makeReport reports on one page of monitors and one page of devices, so
// that the page costs the same with 20 monitors or 20,000.
func (s *Server) makeReport(r *http.Request) (reportData, error) {
	d, from, to, err := s.reportQuery(r.URL.Query())
	if err != nil {
		return d, err
	}
	ctx := r.Context()
	q := r.URL.Query()
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	d.DPage, _ = strconv.Atoi(q.Get("dpage"))
	d.DPage = max(d.DPage, 1)
	var ms []store.Monitor
	if d.Monitor != 0 {
		m, err := s.Store.Monitor(ctx, d.Monitor)
		if err != nil {
			return d, err
		}
		ms, d.Total, d.Device = []store.Monitor{*m}, 1, m.DeviceID
		d.MonitorName = m.Name
	} else {
		ms, d.Total, err = s.Store.Monitors(ctx, store.MonitorFilter{DeviceID: d.Device, Page: store.Page{Limit: PageSize, Offset: (d.Page - 1) * PageSize}})
		if err != nil {
			return d, err
		}
	}
	rep, err := report.Of(ctx, s.Store, ms, from, to, s.Now())
	if err != nil {
		return d, err
	}
	// Device rows, each of all the device's monitors.
	var devs []store.Device
	if d.Device != 0 {
		dev, err := s.Store.Device(ctx, d.Device)
		if err != nil {
			return d, err
		}
		devs, d.DTotal = []store.Device{*dev}, 1
	} else if devs, d.DTotal, err = s.Store.Devices(ctx, store.Page{Limit: reportDevices, Offset: (d.DPage - 1) * reportDevices}); err != nil {
		return d, err
	}
	rep.Devices = nil
	for _, dev := range devs {
		all, _, err := s.Store.Monitors(ctx, store.MonitorFilter{DeviceID: dev.ID, Page: store.Page{Limit: 1 << 30}})
		if err != nil {
			return d, err
		}
		dr, err := report.Of(ctx, s.Store, all, from, to, s.Now())
		if err != nil {
			return d, err
		}
		if len(dr.Devices) == 1 {
			rep.Devices = append(rep.Devices, dr.Devices[0])
		} else {
			rep.Devices = append(rep.Devices, report.Row{Device: dev.Name})
		}
	}
	link := func(k string, p int) string {
		v := r.URL.Query()
		v.Set(k, strconv.Itoa(p))
		return "/reports?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link("page", d.Page-1)
	}
	if d.Page*PageSize < d.Total {
		d.Next = link("page", d.Page+1)
	}
	if d.DPage > 1 {
		d.DPrev = link("dpage", d.DPage-1)
	}
	if d.DPage*reportDevices < d.DTotal {
		d.DNext = link("dpage", d.DPage+1)
	}
	d.Report = rep
	return d, nil
}

func (s *Server) reports(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := s.makeReport(r)
	if he, ok := err.(httpError); ok && he.status == http.StatusBadRequest {
		d.Error = he.msg
	} else if err != nil {
		return err
	}
	if d.Devices, _, err = s.Store.Devices(r.Context(), store.Page{Limit: 1000}); err != nil {
		return err
	}
	if rep := d.Report; rep != nil {
		var avail, rtt []bar
		for i, x := range rep.Monitors {
			if i == 40 {
				break
			}
			label := x.Device + " / " + x.Monitor
			cls := "ok"
			if x.Availability < 99 {
				cls = "low"
			}
			// No tests: no bar (not a 0 % one); no passed test: no rtt.
			if x.Tests == 0 {
				avail = append(avail, bar{Label: label, Text: "no data yet"})
			} else {
				avail = append(avail, bar{Label: label, V: x.Availability, Class: cls})
			}
			if x.HasRTT() {
				rtt = append(rtt, bar{Label: label, V: float64(x.RTTAvg) / 1e6, Extra: float64(x.RTTP95) / 1e6, Class: "rtt"})
			} else {
				rtt = append(rtt, bar{Label: label, Text: "–"})
			}
		}
		if len(avail) > 0 {
			d.AvailChart = barChart("availability-chart", "Availability per monitor (%)", "%", avail, 100)
			d.RTTChart = barChart("rtt-report-chart", "Response time per monitor: average (bar) and p95 (tick)", "ms", rtt, 0)
		}
		if d.Monitor != 0 {
			if d.HourChart, err = s.hourChart(r, d.Monitor, rep.From, rep.To); err != nil {
				return err
			}
		}
		q := r.URL.Query()
		q.Del("page")
		q.Del("dpage")
		d.CSV = "/reports.csv?" + q.Encode()
	}
	s.render(w, c, http.StatusOK, "reports", "Reports", d)
	return nil
}

// hourChart draws a monitor's average rtt per hour (per day over long
// periods): from the roll-ups, and from the raw results where they are
// not rolled up yet, as the table beside it counts them.
func (s *Server) hourChart(r *http.Request, id int64, from, to time.Time) (template.HTML, error) {
	period := store.Hour
	if to.Sub(from) > 14*24*time.Hour {
		period = store.Day
	}
	rs, err := report.Periods(r.Context(), s.Store, id, period, from, to, s.Now())
	if err != nil {
		return "", err
	}
	var pts []point
	for _, x := range rs {
		if x.Up+x.Warn > 0 {
			pts = append(pts, point{T: x.Start, V: float64(x.RTTAvg) / 1e6})
		}
		if x.Down > 0 {
			pts = append(pts, point{T: x.Start, Bad: true})
		}
	}
	return lineChart("period-chart", "Average response time per "+period, "ms", pts, from, to), nil
}

// reportCSV is the whole report (every monitor and device of the filter)
// as a download.
func (s *Server) reportCSV(w http.ResponseWriter, r *http.Request, c *call) error {
	d, from, to, err := s.reportQuery(r.URL.Query())
	if err != nil {
		return err
	}
	var rep *report.Report
	if d.Monitor != 0 {
		m, err := s.Store.Monitor(r.Context(), d.Monitor)
		if err != nil {
			return err
		}
		rep, err = report.Of(r.Context(), s.Store, []store.Monitor{*m}, from, to, s.Now())
		if err != nil {
			return err
		}
	} else if rep, err = report.Make(r.Context(), s.Store, d.Device, from, to, s.Now()); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="mailmon-report.csv"`)
	return rep.CSV(w)
}
