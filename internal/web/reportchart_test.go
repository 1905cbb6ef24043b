package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// TestReportChartBeforeTheRollUp: a monitor's report draws the hour not
// rolled up yet from its tests, as the table beside it counts them, not
// as a period without tests.
func TestReportChartBeforeTheRollUp(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	d, err := f.saveDevice(ctx, 0, "mail1", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	m := &store.Monitor{DeviceID: d.ID, Name: "smtp", Type: "smtp", Enabled: true, Spec: []byte(`{}`)}
	if err := f.st.PutMonitor(ctx, m); err != nil {
		t.Fatal(err)
	}
	// Two tests in this hour, which the roll-ups do not hold yet.
	now := f.clock.Now()
	hour := now.Truncate(time.Hour)
	for i, rtt := range []time.Duration{40, 44} {
		at := hour.Add(now.Sub(hour) * time.Duration(i+1) / 3)
		if err := f.st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp, RTT: rtt * time.Millisecond},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}, LastTest: at}}); err != nil {
			t.Fatal(err)
		}
	}
	_, body := f.loggedIn(t).get(t, fmt.Sprintf("/reports?monitor=%d&period=24h", m.ID))
	i := strings.Index(body, `id="period-chart"`)
	if i < 0 {
		t.Fatalf("no chart:\n%s", body)
	}
	chart := body[i : i+strings.Index(body[i:], "</svg>")]
	if strings.Contains(chart, "no test in this period") || !strings.Contains(chart, `<circle class="dot"`) || !strings.Contains(chart, ": 42.0 ms</title>") {
		t.Errorf("the chart does not draw this hour's tests (42 ms on average):\n%s", chart)
	}
}
