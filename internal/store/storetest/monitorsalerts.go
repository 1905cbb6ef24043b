package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// monitorsAlerts: a store that offers MonitorsAlerts gives for many
// monitors at once what MonitorAlerts gives for each: the same ids in the
// same order, and no entry for a monitor without alerts.
func monitorsAlerts(t *testing.T, s store.Store) {
	ma, ok := s.(store.MonitorsAlerts)
	if !ok {
		t.Skip("no MonitorsAlerts")
	}
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	var alerts []int64
	for i := range 3 {
		a := &store.Alert{Name: fmt.Sprint("a", i), Kind: "webhook", Spec: json.RawMessage(`{}`)}
		must(t, s.PutAlert(ctx, a))
		alerts = append(alerts, a.ID)
	}
	var ids []int64
	for i, set := range [][]int64{{alerts[2], alerts[0]}, nil, {alerts[1]}, alerts} {
		m := newMonitor(t, s, d.ID, fmt.Sprint("m", i), "smtp")
		must(t, s.SetMonitorAlerts(ctx, m.ID, set))
		ids = append(ids, m.ID)
	}
	got, err := ma.MonitorsAlerts(ctx, append(ids, 999999))
	must(t, err)
	if _, ok := got[ids[1]]; ok || len(got) != 3 {
		t.Errorf("MonitorsAlerts = %v: want the three monitors with alerts only", got)
	}
	for _, id := range ids {
		one, err := s.MonitorAlerts(ctx, id)
		must(t, err)
		if !slices.Equal(got[id], one) {
			t.Errorf("monitor %d: MonitorsAlerts gives %v, MonitorAlerts %v", id, got[id], one)
		}
	}
	if got, err := ma.MonitorsAlerts(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("MonitorsAlerts(none) = %v, %v", got, err)
	}
}
