// Package notify puts notifications in a store's outbox as the engine does
// (with the test that called for them), for tests of their delivery.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// Down stores a test of monitor id that went down, with a notification of
// it to each of alerts (in the JSON of alert.Event, which this package
// cannot import: alert's own tests use it).
func Down(t testing.TB, st store.Store, id int64, alerts ...int64) {
	t.Helper()
	now := time.Now()
	var ns []store.Notification
	for _, a := range alerts {
		eid := fmt.Sprintf("%d-alert-%d-1-%d", id, now.UnixNano(), a)
		payload, _ := json.Marshal(map[string]any{"ID": eid, "Kind": "alert", "MonitorID": id, "Monitor": "down", "Device": "mail1",
			"Type": "tcp", "State": "down", "Code": "connect_failed", "Time": now})
		ns = append(ns, store.Notification{EventID: eid, MonitorID: id, AlertID: a, Kind: "alert", Payload: payload, Created: now})
	}
	err := st.RecordTest(context.Background(), store.Test{
		Result:        store.Result{MonitorID: id, Time: now, Status: probe.StatusDown, Code: probe.ConnectFailed},
		Status:        store.Status{MonitorID: id, Status: state.Status{State: state.Down, Failures: 1, AlertsSent: 1, Since: now}, LastTest: now},
		Notifications: ns,
	})
	if err != nil {
		t.Fatal(err)
	}
}
