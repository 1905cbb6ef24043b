package report

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

func TestOutages(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	cs := []store.StateChange{
		{Time: at(-2), To: state.Down}, // before the period: the state at its start
		{Time: at(1), To: state.Up},
		{Time: at(3), To: state.Warn},
		{Time: at(4), To: state.Down},
		{Time: at(5), To: state.Lost},
		{Time: at(7), To: state.Up},
		{Time: at(9), To: state.Down},
	}
	n, d := outages(cs, t0, at(10))
	// 0-1 (began before), 4-7, 9-10.
	if n != 2 || d != 5*time.Hour {
		t.Errorf("outages %d lasting %v", n, d)
	}
	if n, d := outages([]store.StateChange{{Time: at(-1), To: state.Lost}}, t0, at(2)); n != 1 || d != 2*time.Hour {
		t.Errorf("an outage all period long: %d %v", n, d)
	}
}

func TestReport(t *testing.T) {
	ctx, st, d := testStore(t)
	now := time.Now().UTC()
	from := store.Truncate(store.Hour, now.Add(-3*time.Hour))
	var ids []int64
	for _, name := range []string{"SMTP", "IMAP"} {
		m := &store.Monitor{DeviceID: d.ID, Name: name, Type: "smtp", Enabled: true}
		st.PutMonitor(ctx, m)
		ids = append(ids, m.ID)
	}
	for i := 0; i < 100; i++ {
		for k, id := range ids {
			status, rtt := probe.StatusUp, time.Duration(10+k*10)*time.Millisecond
			if k == 1 && i%10 == 0 {
				status = probe.StatusDown
			}
			st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: id, Time: from.Add(time.Duration(i) * time.Minute), Status: status, RTT: rtt},
				Status: store.Status{MonitorID: id, Status: state.Status{State: state.Up}}})
		}
	}
	if err := st.RollUp(ctx, store.Hour, from, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rep, err := Make(ctx, st, 0, from, now, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Monitors) != 2 || len(rep.Devices) != 1 {
		t.Fatalf("%+v", rep)
	}
	imap, smtp := rep.Monitors[0], rep.Monitors[1] // sorted by name
	if smtp.Tests != 100 || smtp.Availability != 100 || smtp.RTTAvg != 10*time.Millisecond {
		t.Errorf("SMTP %+v", smtp)
	}
	if imap.Tests != 100 || imap.Down != 10 || imap.Availability != 90 || imap.RTTAvg != 20*time.Millisecond {
		t.Errorf("IMAP %+v", imap)
	}
	dev := rep.Devices[0]
	if dev.Tests != 200 || dev.Availability != 95 || dev.RTTMin != 10*time.Millisecond || dev.RTTMax != 20*time.Millisecond {
		t.Errorf("device %+v", dev)
	}
	var b bytes.Buffer
	if err := rep.CSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][8] != "availability_pct" || recs[1][1] != "IMAP" || recs[1][8] != "90.000" || recs[3][1] != "" {
		t.Errorf("csv: %v %v", recs, err)
	}
}
