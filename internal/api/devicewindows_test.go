package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestDeviceWindowsRoundTrip: a device's maintenance windows go in with
// POST and PUT and come back with GET; a body without them keeps them, an
// empty list removes them, and a bad one is refused naming its field.
func TestDeviceWindowsRoundTrip(t *testing.T) {
	f := newFixture(t)
	windows := []any{
		map[string]any{"days": []string{"sat", "sun"}, "start": "02:00", "duration": "2h", "zone": "Europe/Berlin"},
		map[string]any{"start": "2026-12-24T22:00:00Z", "end": "2026-12-25T02:00:00Z"},
	}
	id, out := f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1", "maintenance": windows}, 201)
	path := "/api/v1/devices/" + strconv.FormatInt(id, 10)
	want := `[{"days":["sat","sun"],"duration":"2h0m0s","start":"02:00","zone":"Europe/Berlin"},{"end":"2026-12-25T02:00:00Z","start":"2026-12-24T22:00:00Z"}]`
	got := func(out map[string]any) string {
		b, _ := json.Marshal(out["maintenance"]) // keys sorted
		return string(b)
	}
	if g := got(out); g != want {
		t.Errorf("POST answers %s, want %s", g, want)
	}
	if _, out = f.id(t, "GET", path, nil, 200); got(out) != want {
		t.Errorf("GET: %s, want %s", got(out), want)
	}
	// The list shows them too.
	if code, out := f.do(t, "GET", "/api/v1/devices", nil, f.token); code != 200 || !strings.Contains(func() string { b, _ := json.Marshal(out); return string(b) }(), `"zone":"Europe/Berlin"`) {
		t.Errorf("the list: %d %v", code, out)
	}
	// A PUT without them keeps them.
	if _, out = f.id(t, "PUT", path, map[string]any{"name": "mail2", "address": "127.0.0.1"}, 200); got(out) != want || out["name"] != "mail2" {
		t.Errorf("PUT without windows: %v", out)
	}
	// A PUT with one replaces them.
	one := []any{map[string]any{"days": []string{"wed"}, "start": "01:30", "end": "03:30"}}
	if _, out = f.id(t, "PUT", path, map[string]any{"name": "mail2", "address": "127.0.0.1", "maintenance": one}, 200); got(out) != `[{"days":["wed"],"end":"03:30","start":"01:30"}]` {
		t.Errorf("PUT with one window: %s", got(out))
	}
	// Bad windows are refused, each naming its field; nothing changes.
	for _, c := range []struct {
		w     map[string]any
		field string
		words string
	}{
		{map[string]any{"days": []string{"sat"}, "start": "02:00", "duration": "2h", "zone": "Mars/Base"}, "maintenance[0].zone", "Mars/Base"},
		{map[string]any{"days": []string{"caturday"}, "start": "02:00", "duration": "2h"}, "maintenance[0]", `"caturday" is not a day`},
		{map[string]any{"start": "2026-12-25T02:00:00Z", "end": "2026-12-24T22:00:00Z"}, "maintenance[0]", "end after start"},
	} {
		code, out := f.do(t, "PUT", path, map[string]any{"name": "mail2", "address": "127.0.0.1", "maintenance": []any{c.w}}, f.token)
		fields, _ := out["fields"].(map[string]any)
		if msg, _ := fields[c.field].(string); code != http.StatusBadRequest || !strings.Contains(msg, c.words) {
			t.Errorf("%v: %d %v, want 400 naming %s", c.w, code, out, c.field)
		}
	}
	// An empty list removes them.
	if _, out = f.id(t, "PUT", path, map[string]any{"name": "mail2", "address": "127.0.0.1", "maintenance": []any{}}, 200); got(out) != `[]` {
		t.Errorf("PUT with no windows: %s", got(out))
	}
	if _, out = f.id(t, "GET", path, nil, 200); got(out) != `[]` {
		t.Errorf("GET after removing them: %s", got(out))
	}
}
