package api

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
)

// TestEscalationAndScheduleOverAPI: an alert's escalation and schedule are
// part of its settings, shown as given; the alerts it escalates to are
// the stored ones, a name that is not is refused at its field, as on a
// monitor's notify.escalate; a bad zone is named at its field.
func TestEscalationAndScheduleOverAPI(t *testing.T) {
	f := newFixture(t)
	hook := func() map[string]any { return map[string]any{"url": "https://hooks.example.test/a"} }
	f.id(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "pager", "webhook": hook()}}, 201)
	schedule := map[string]any{"zone": "Europe/Berlin", "days": []string{"mon", "fri"}, "from": "08:00", "to": "18:00", "outside": "hold"}
	id, out := f.id(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "chat", "webhook": hook(),
		"escalate": map[string]any{"after": "15m", "to": []string{"pager"}}, "schedule": schedule}}, 201)
	path := "/api/v1/alerts/" + strconv.FormatInt(id, 10)
	_, out = f.do(t, "GET", path, nil, f.token)
	settings, _ := out["settings"].(map[string]any)
	if got := fmt.Sprint(settings["escalate"], settings["schedule"]); got != "map[after:15m0s to:[pager]] map[days:[mon fri] from:08:00 outside:hold to:18:00 zone:Europe/Berlin]" {
		t.Errorf("shown: %s", got)
	}

	for _, tc := range []struct {
		name     string
		settings map[string]any
		field    string
	}{
		{"no such alert", map[string]any{"name": "mail", "webhook": hook(), "escalate": map[string]any{"after": "15m", "to": []string{"pagr"}}}, "escalate.to[0]"},
		{"itself", map[string]any{"name": "mail", "webhook": hook(), "escalate": map[string]any{"after": "15m", "to": []string{"mail"}}}, "escalate.to[0]"},
		{"bad zone", map[string]any{"name": "mail", "webhook": hook(), "schedule": map[string]any{"zone": "Berlin", "from": "08:00", "to": "18:00"}}, "schedule.zone"},
	} {
		code, out := f.do(t, "POST", "/api/v1/alerts", map[string]any{"settings": tc.settings}, f.token)
		if fields, _ := out["fields"].(map[string]any); code != http.StatusBadRequest || fields[tc.field] == nil {
			t.Errorf("%s: %d %v, want 400 naming %s", tc.name, code, out, tc.field)
		}
	}

	_, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, f.token)
	devID := int64(dev["id"].(float64))
	monitor := func(to string) (int, map[string]any) {
		return f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": devID, "settings": map[string]any{"name": "SMTP " + to, "type": "smtp", "port": 25,
			"notify": map[string]any{"alerts": []string{"chat"}, "escalate": map[string]any{"after": "30m", "to": []string{to}}}}}, f.token)
	}
	if code, out := monitor("pager"); code != http.StatusCreated {
		t.Errorf("a monitor escalating to pager: %d %v", code, out)
	}
	code, out := monitor("nobody")
	if fields, _ := out["fields"].(map[string]any); code != http.StatusBadRequest || fields["notify.escalate.to[0]"] == nil {
		t.Errorf("a monitor escalating to nobody: %d %v, want 400 naming notify.escalate.to[0]", code, out)
	}
}
