// Package report makes the historical reports: availability, outages and
// response times of monitors and devices over a period, from the hourly
// (or, past their retention, daily) roll-ups and the state changes.
package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// HourlyRetention is how long hourly roll-ups are kept; older periods are
// reported from daily ones.
const HourlyRetention = 90 * 24 * time.Hour

// Row is one monitor's or one device's figures over the period.
type Row struct {
	MonitorID    int64         `json:"monitor_id,omitempty"`
	Monitor      string        `json:"monitor,omitempty"`
	Device       string        `json:"device"`
	Tests        int           `json:"tests"`
	Up           int           `json:"up"`
	Warn         int           `json:"warn"`
	Down         int           `json:"down"`
	Availability float64       `json:"availability_pct"` // tests that did not fail
	Outages      int           `json:"outages"`
	OutageTime   time.Duration `json:"-"`
	RTTMin       time.Duration `json:"-"`
	RTTAvg       time.Duration `json:"-"`
	RTTP95       time.Duration `json:"-"`
	RTTMax       time.Duration `json:"-"`
	DeliveryAvg  time.Duration `json:"-"`
	DeliveryP95  time.Duration `json:"-"`
	passed       int           // tests behind the rtt figures
	delivered    int
}

// Report is the report of a period.
type Report struct {
	From, To time.Time
	Monitors []Row
	Devices  []Row
}

// Make reports on the monitors (of one device, or all) over [from, to).
func Make(ctx context.Context, st store.Store, deviceID int64, from, to, now time.Time) (*Report, error) {
	ms, _, err := st.Monitors(ctx, store.MonitorFilter{DeviceID: deviceID, Page: store.Page{Limit: 1 << 30}})
	if err != nil {
		return nil, err
	}
	return Of(ctx, st, ms, from, to, now)
}

// Of reports on the monitors ms (a page of them, say), with a row for each
// of their devices made of these monitors alone.
func Of(ctx context.Context, st store.Store, ms []store.Monitor, from, to, now time.Time) (*Report, error) {
	period := store.Hour
	if from.Before(now.Add(-HourlyRetention)) {
		period = store.Day
	}
	rep := &Report{From: from, To: to}
	devices := map[int64]*Row{}
	names := map[int64]string{}
	var order []int64
	for _, m := range ms {
		name, ok := names[m.DeviceID]
		if !ok {
			d, err := st.Device(ctx, m.DeviceID)
			if err != nil {
				return nil, err
			}
			name, names[m.DeviceID] = d.Name, d.Name
		}
		row := Row{MonitorID: m.ID, Monitor: m.Name, Device: name}
		if err := row.figures(ctx, st, m.ID, period, from, to, now); err != nil {
			return nil, err
		}
		cs, err := st.StateChangesBetween(ctx, m.ID, from, to)
		if err != nil {
			return nil, err
		}
		end := to
		if now.Before(end) {
			end = now
		}
		row.Outages, row.OutageTime = outages(cs, from, end)
		row.finish()
		rep.Monitors = append(rep.Monitors, row)
		dr, ok := devices[m.DeviceID]
		if !ok {
			dr = &Row{Device: name}
			devices[m.DeviceID] = dr
			order = append(order, m.DeviceID)
		}
		dr.merge(row)
	}
	for _, id := range order {
		devices[id].finish()
		rep.Devices = append(rep.Devices, *devices[id])
	}
	return rep, nil
}

// figures sums up a monitor's tests over [from, to): roll-ups of period
// up to rollEnd, or up to the last there is, and the raw results after
// them, so that a period the roll-ups do not hold yet is never reported
// as a period without tests, let alone as an outage.
func (r *Row) figures(ctx context.Context, st store.Store, id int64, period string, from, to, now time.Time) error {
	rs, raw, err := rolled(ctx, st, id, period, from, to, now)
	if err != nil {
		return err
	}
	for _, x := range rs {
		r.add(x)
	}
	if raw.Before(from) {
		raw = from
	}
	if raw.Before(to) {
		x, err := st.RawRollup(ctx, id, raw, to)
		if err != nil {
			return err
		}
		r.add(x)
	}
	return nil
}

// HasRTT says whether the row has response times: a monitor none of
// whose tests passed has none (not 0 ms).
func (r Row) HasRTT() bool { return r.passed > 0 }

// HasDelivery says whether the row has delivery times.
func (r Row) HasDelivery() bool { return r.delivered > 0 }

func (r *Row) add(x store.Rollup) {
	passed := x.Up + x.Warn
	r.mergeFigures(Row{Tests: x.Tests, Up: x.Up, Warn: x.Warn, Down: x.Down, RTTMin: x.RTTMin, RTTAvg: x.RTTAvg,
		RTTP95: x.RTTP95, RTTMax: x.RTTMax, DeliveryAvg: x.DeliveryAvg, DeliveryP95: x.DeliveryP95, passed: passed, delivered: x.Delivered})
}

// merge adds a monitor's row into its device's.
func (r *Row) merge(x Row) {
	r.mergeFigures(x)
	r.Outages += x.Outages
	r.OutageTime += x.OutageTime
}

// mergeFigures: counts add up, minimum and maximum hold, averages weigh by
// their tests, and p95 is the highest p95 (an upper bound).
func (r *Row) mergeFigures(x Row) {
	if x.passed > 0 && (r.passed == 0 || x.RTTMin < r.RTTMin) {
		r.RTTMin = x.RTTMin
	}
	if x.passed > 0 {
		r.RTTAvg = time.Duration((int64(r.RTTAvg)*int64(r.passed) + int64(x.RTTAvg)*int64(x.passed)) / int64(r.passed+x.passed))
	}
	if x.delivered > 0 {
		r.DeliveryAvg = time.Duration((int64(r.DeliveryAvg)*int64(r.delivered) + int64(x.DeliveryAvg)*int64(x.delivered)) / int64(r.delivered+x.delivered))
	}
	r.RTTP95, r.RTTMax = max(r.RTTP95, x.RTTP95), max(r.RTTMax, x.RTTMax)
	r.DeliveryP95 = max(r.DeliveryP95, x.DeliveryP95)
	r.Tests, r.Up, r.Warn, r.Down = r.Tests+x.Tests, r.Up+x.Up, r.Warn+x.Warn, r.Down+x.Down
	r.passed, r.delivered = r.passed+x.passed, r.delivered+x.delivered
}

func (r *Row) finish() {
	if r.Tests > 0 {
		r.Availability = float64(r.Tests-r.Down) * 100 / float64(r.Tests)
	}
}

// outages counts the times a monitor went Down (or Lost) and the time it
// spent so within [from, to). cs starts with the change before from.
func outages(cs []store.StateChange, from, to time.Time) (int, time.Duration) {
	n, total := 0, time.Duration(0)
	failing, since := false, from
	for _, c := range cs {
		at := c.Time
		if at.Before(from) {
			at = from
		}
		now := c.To.Failing()
		switch {
		case now && !failing:
			if !c.Time.Before(from) {
				n++
			}
			since = at
		case !now && failing:
			total += at.Sub(since)
		}
		failing = now
	}
	if failing && to.After(since) {
		total += to.Sub(since)
		if n == 0 {
			n = 1 // an outage that began before the period
		}
	}
	return n, total
}

// msIf is a time in ms, or an empty cell where there is none: no test
// passed, so there is no response time (which 0 would claim).
func msIf(ok bool, d time.Duration) string {
	if !ok {
		return ""
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
}

// csvAvailability is empty for a period without tests: no data, not an
// outage.
func (r Row) csvAvailability() string {
	if r.Tests == 0 {
		return ""
	}
	return fmt.Sprintf("%.3f", r.Availability)
}

// CSV writes the monitors' rows, then the devices' (monitor empty). A
// figure there is none of (availability without tests, a response time
// without a passed test) is an empty cell.
func (rep *Report) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"device", "monitor", "from", "to", "tests", "up", "warn", "down", "availability_pct", "outages", "outage_seconds",
		"rtt_min_ms", "rtt_avg_ms", "rtt_p95_ms", "rtt_max_ms", "delivery_avg_ms", "delivery_p95_ms"})
	for _, rows := range [][]Row{rep.Monitors, rep.Devices} {
		for _, r := range rows {
			cw.Write([]string{csvText(r.Device), csvText(r.Monitor), rep.From.UTC().Format(time.RFC3339), rep.To.UTC().Format(time.RFC3339),
				strconv.Itoa(r.Tests), strconv.Itoa(r.Up), strconv.Itoa(r.Warn), strconv.Itoa(r.Down),
				r.csvAvailability(), strconv.Itoa(r.Outages), fmt.Sprintf("%.0f", r.OutageTime.Seconds()),
				msIf(r.HasRTT(), r.RTTMin), msIf(r.HasRTT(), r.RTTAvg), msIf(r.HasRTT(), r.RTTP95), msIf(r.HasRTT(), r.RTTMax),
				msIf(r.HasDelivery(), r.DeliveryAvg), msIf(r.HasDelivery(), r.DeliveryP95)})
		}
	}
	cw.Flush()
	return cw.Error()
}
