package api

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/notify"
)

// TestAckMonitor: POST …/ack acknowledges a Down monitor's outage, saying
// who (the token's name) and when, and the monitor shows it; a monitor
// that is not down has nothing to acknowledge.
func TestAckMonitor(t *testing.T) {
	f := newFixture(t)
	dev, _ := f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, 201)
	m := &store.Monitor{DeviceID: dev, Name: "down", Type: "tcp", Enabled: true, Spec: []byte(`{"port":25}`)}
	if err := f.api.Store.PutMonitor(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/monitors/" + strconv.FormatInt(m.ID, 10)
	if code, out := f.do(t, "POST", path+"/ack", nil, f.token); code != 409 {
		t.Errorf("a monitor never tested: %d %v", code, out)
	}
	notify.Down(t, f.api.Store, m.ID)
	code, out := f.do(t, "POST", path+"/ack", map[string]any{"comment": "on it"}, f.token)
	if code != 200 || out["by"] != "token test" || out["comment"] != "on it" || out["at"] == nil {
		t.Errorf("ack: %d %v", code, out)
	}
	if _, out := f.do(t, "GET", path, nil, f.token); out["ack"] == nil || out["ack"].(map[string]any)["by"] != "token test" {
		t.Errorf("the monitor: %v", out)
	}
	// Who acknowledged is in the audit log, with the comment.
	code, out = f.do(t, "GET", "/api/v1/audit?kind=monitor", nil, f.token)
	items, _ := out["items"].([]any)
	found := false
	for _, it := range items {
		e := it.(map[string]any)
		if e["action"] == "acknowledged" && e["actor"] == "test" && e["actor_kind"] == "token" && e["object_id"].(float64) == float64(m.ID) {
			found = strings.Contains(fmt.Sprint(e), "on it")
		}
	}
	if code != 200 || !found {
		t.Errorf("no audit entry of the acknowledgement: %d %v", code, out)
	}
	// A read-only token may not acknowledge.
	ro := NewToken()
	if err := f.api.Store.PutToken(t.Context(), &store.Token{Name: "ro", Hash: HashToken(ro), Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	if code, out := f.do(t, "POST", path+"/ack", nil, ro); code != 403 {
		t.Errorf("a read-only token acknowledged: %d %v", code, out)
	}
	if code, _ := f.do(t, "POST", path+"/ack", map[string]any{"comment": "bad\x00"}, f.token); code != 400 {
		t.Errorf("a comment with a NUL: %d", code)
	}
	if code, _ := f.do(t, "POST", "/api/v1/monitors/99999/ack", nil, f.token); code != 404 {
		t.Errorf("no such monitor: %d", code)
	}
}
