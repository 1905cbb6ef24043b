package api

import (
	"strconv"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// TestMaintenanceNow: POST …/maintenance {"for":"2h"} puts a monitor, or a
// device with its monitors, in maintenance that the monitor's answer
// shows, audited with the token's name; DELETE ends it; a bad duration
// names the field.
func TestMaintenanceNow(t *testing.T) {
	f := newFixture(t)
	dev, _ := f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, 201)
	m := &store.Monitor{DeviceID: dev, Name: "smtp", Type: "tcp", Enabled: true, Spec: []byte(`{"port":25}`)}
	if err := f.api.Store.PutMonitor(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	mpath := "/api/v1/monitors/" + strconv.FormatInt(m.ID, 10)
	dpath := "/api/v1/devices/" + strconv.FormatInt(dev, 10)
	start := time.Now()
	code, out := f.do(t, "POST", mpath+"/maintenance", map[string]any{"for": "2h"}, f.token)
	if code != 200 || out["by"] != "token test" {
		t.Fatalf("begin: %d %v", code, out)
	}
	if until, err := time.Parse(time.RFC3339, out["until"].(string)); err != nil || until.Before(start.Add(2*time.Hour-time.Second)) || until.After(time.Now().Add(2*time.Hour)) {
		t.Errorf("until %v: %v", out["until"], err)
	}
	if _, out := f.do(t, "GET", mpath, nil, f.token); out["maintenance"] == nil {
		t.Errorf("the monitor does not show its maintenance: %v", out)
	}
	code, out = f.do(t, "GET", "/api/v1/audit?kind=monitor", nil, f.token)
	if items, _ := out["items"].([]any); code != 200 || len(items) != 1 || items[0].(map[string]any)["actor"] != "test" ||
		items[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["field"] != "maintenance_until" {
		t.Errorf("audit: %d %v", code, out)
	}
	if code, _ := f.do(t, "DELETE", mpath+"/maintenance", nil, f.token); code != 204 {
		t.Errorf("end: %d", code)
	}
	if _, out := f.do(t, "GET", mpath, nil, f.token); out["maintenance"] != nil {
		t.Errorf("still in maintenance after DELETE: %v", out["maintenance"])
	}
	if code, _ := f.do(t, "DELETE", mpath+"/maintenance", nil, f.token); code != 204 {
		t.Errorf("ending none: %d", code)
	}

	// A device's covers its monitors.
	if code, out := f.do(t, "POST", dpath+"/maintenance", map[string]any{"for": "30m"}, f.token); code != 200 {
		t.Fatalf("device: %d %v", code, out)
	}
	if _, out := f.do(t, "GET", mpath, nil, f.token); out["maintenance"] == nil {
		t.Errorf("the device's maintenance does not cover its monitor: %v", out)
	}
	if code, _ := f.do(t, "DELETE", dpath+"/maintenance", nil, f.token); code != 204 {
		t.Errorf("end the device's: %d", code)
	}
	if _, out := f.do(t, "GET", mpath, nil, f.token); out["maintenance"] != nil {
		t.Errorf("still in maintenance after the device's ended: %v", out["maintenance"])
	}

	for _, bad := range []any{"soon", "-1h", "9999h", nil} {
		code, out := f.do(t, "POST", mpath+"/maintenance", map[string]any{"for": bad}, f.token)
		if fields, _ := out["fields"].(map[string]any); code != 400 || fields["for"] == nil {
			t.Errorf("for %v: %d %v", bad, code, out)
		}
	}
	if code, _ := f.do(t, "POST", "/api/v1/monitors/99999/maintenance", map[string]any{"for": "1h"}, f.token); code != 404 {
		t.Errorf("no such monitor: %d", code)
	}
	if code, _ := f.do(t, "POST", "/api/v1/devices/99999/maintenance", map[string]any{"for": "1h"}, f.token); code != 404 {
		t.Errorf("no such device: %d", code)
	}
}
