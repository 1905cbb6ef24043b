package api

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/operator"
)

// TestAppliedMonitorGetPutRoundTrip: a monitor applied with alerts by
// name, a recovery, a dependency and maintenance windows, read with GET and
// sent back as it came (with or without its alert ids), is accepted and
// changes nothing: its settings, secrets, origin and alerts stay as apply
// stored them.
func TestAppliedMonitorGetPutRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	operator.Apply(t, f.api.Store, f.api.Vault, `
alerts:
  - name: pager
    command: {argv: [/usr/local/bin/page]}
  - name: ops
    webhook: {url: "https://hooks.example.test/s3cret"}
devices:
  - name: mail1
    address: 127.0.0.1
    monitors:
      - name: smtp
        type: smtp
        port: 25
      - name: imap
        type: imap
        port: 143
        tls: starttls
        user: probe@example.test
        password: imap-pw
        notify: {failures_per_alert: 2, max_alerts: 3, alerts: [pager, ops]}
        recovery:
          - command: [/usr/local/bin/restart-dovecot]
            timeout: 30s
        depends_on: [smtp]
        maintenance:
          - {days: [sun], start: "03:00", duration: 1h}
          - {start: "2027-01-01T00:00:00Z", end: "2027-01-01T02:00:00Z"}
`)
	d, _ := f.api.Store.DeviceByName(ctx, "mail1")
	m, _ := f.api.Store.MonitorByName(ctx, d.ID, "imap")
	alerts, _ := f.api.Store.MonitorAlerts(ctx, m.ID)
	if len(alerts) != 2 {
		t.Fatalf("apply linked %d alerts", len(alerts))
	}
	path := "/api/v1/monitors/" + strconv.FormatInt(m.ID, 10)
	for _, withIDs := range []bool{false, true} {
		code, got := f.do(t, "GET", path, nil, f.token)
		if code != http.StatusOK {
			t.Fatalf("GET: %d %v", code, got)
		}
		body := map[string]any{"device": got["device"], "settings": got["settings"]}
		if withIDs {
			body["alerts"] = got["alerts"]
		}
		if code, out := f.do(t, "PUT", path, body, f.token); code != http.StatusOK || out["secrets_dropped"] != nil {
			t.Fatalf("GET → PUT (alert ids sent: %v): %d %v", withIDs, code, out)
		}
		after, _ := f.api.Store.Monitor(ctx, m.ID)
		if string(after.Spec) != string(m.Spec) || !reflect.DeepEqual(after.Secrets, m.Secrets) || after.NetworkTarget != m.NetworkTarget ||
			after.Enabled != m.Enabled || after.Type != m.Type || after.Name != m.Name {
			t.Errorf("GET → PUT (alert ids sent: %v) changed the monitor:\n was %s %v\n now %s %v", withIDs, m.Spec, m.NetworkTarget, after.Spec, after.NetworkTarget)
		}
		if now, _ := f.api.Store.MonitorAlerts(ctx, m.ID); !slices.Equal(now, alerts) {
			t.Errorf("GET → PUT (alert ids sent: %v) changed the alerts: %v, was %v", withIDs, now, alerts)
		}
	}

	// Names are an input like ids: both name the same alerts, or it is
	// refused; an unknown name is a field error.
	_, got := f.do(t, "GET", path, nil, f.token)
	settings := got["settings"].(map[string]any)
	pager, _ := f.api.Store.AlertByName(ctx, "pager")
	ops, _ := f.api.Store.AlertByName(ctx, "ops")
	put := func(names []string, ids []int64) (int, map[string]any) {
		settings["notify"].(map[string]any)["alerts"] = names
		body := map[string]any{"device": got["device"], "settings": settings}
		if ids != nil {
			body["alerts"] = ids
		}
		return f.do(t, "PUT", path, body, f.token)
	}
	if code, out := put([]string{"pager", "nobody"}, nil); code != http.StatusBadRequest || fieldsOf(out)["notify.alerts[1]"] == "" {
		t.Errorf("an unknown alert name: %d %v", code, out)
	}
	// Both sent, one of them as GET showed it: the other is the change.
	if code, out := put([]string{"pager", "ops"}, []int64{ops.ID}); code != http.StatusOK || !reflect.DeepEqual(out["alerts"], []any{float64(ops.ID)}) {
		t.Errorf("ids changed, names as GET showed them: %d %v", code, out)
	}
	if code, out := put([]string{"pager", "ops"}, []int64{ops.ID}); code != http.StatusOK || !reflect.DeepEqual(out["alerts"], []any{float64(pager.ID), float64(ops.ID)}) {
		t.Errorf("names changed, ids as GET showed them: %d %v", code, out)
	}
	if code, out := put([]string{"ops"}, []int64{pager.ID}); code != http.StatusBadRequest || fieldsOf(out)["notify.alerts"] == "" {
		t.Errorf("names and ids both changed, to other alerts: %d %v", code, out)
	}
	if code, out := put([]string{"ops"}, nil); code != http.StatusOK || !reflect.DeepEqual(out["alerts"], []any{float64(ops.ID)}) {
		t.Errorf("alerts set by name: %d %v", code, out)
	}
	// An alert renamed: GET shows its new name, and the round trip holds.
	if code, out := f.do(t, "PUT", "/api/v1/alerts/"+strconv.FormatInt(ops.ID, 10),
		map[string]any{"settings": map[string]any{"name": "ops-renamed", "webhook": map[string]any{}}}, f.token); code != http.StatusOK {
		t.Fatalf("renaming the alert: %d %v", code, out)
	}
	_, got = f.do(t, "GET", path, nil, f.token)
	if names := got["settings"].(map[string]any)["notify"].(map[string]any)["alerts"]; !reflect.DeepEqual(names, []any{"ops-renamed"}) {
		t.Errorf("GET after the alert's rename shows %v", names)
	}
	if code, out := f.do(t, "PUT", path, map[string]any{"device": got["device"], "settings": got["settings"], "alerts": got["alerts"]}, f.token); code != http.StatusOK {
		t.Errorf("GET → PUT after the alert's rename: %d %v", code, out)
	}
	// A monitor given alerts by id shows their names too.
	code, out := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": d.ID, "alerts": []int64{ops.ID, pager.ID},
		"settings": map[string]any{"name": "pop3", "type": "pop3", "port": 110}}, f.token)
	if names := out["settings"].(map[string]any)["notify"].(map[string]any)["alerts"]; code != http.StatusCreated || !reflect.DeepEqual(names, []any{"pager", "ops-renamed"}) {
		t.Errorf("a monitor made with alert ids: %d, names %v", code, names)
	}
}
