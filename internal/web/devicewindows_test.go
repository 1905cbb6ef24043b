package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// satWindow is deviceWithWindow's window as stored.
const satWindow = `[{"start":"23:00","end":"01:00","days":["sat"],"zone":"Europe/Berlin"}]`

// deviceWithWindow is a device with a window on Saturday nights, a
// browser logged in, and the device's page.
func deviceWithWindow(t *testing.T) (*fixture, *store.Device, *browser, string) {
	t.Helper()
	f := newFixture(t, false)
	d := &store.Device{Name: "mail1", Address: "127.0.0.1", Maintenance: []byte(satWindow)}
	if err := f.st.PutDevice(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	return f, d, f.loggedIn(t), fmt.Sprintf("/devices/%d", d.ID)
}

// TestDevicePageShowsWindows: a device's scheduled windows (set by apply)
// show on its page, with their zone; saving the device's form keeps them.
func TestDevicePageShowsWindows(t *testing.T) {
	f, d, b, page := deviceWithWindow(t)
	ctx, windows := t.Context(), satWindow
	if _, body := b.get(t, page); !strings.Contains(body, `id="device-windows"`) || !strings.Contains(body, "<code>sat 23:00-01:00 Europe/Berlin</code>") {
		t.Fatalf("the device page does not show its window:\n%s", body)
	}
	if code, body, _ := b.post(t, page, url.Values{"name": {"mail2"}, "address": {"127.0.0.1"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("saving the device: %d %s", code, errorsIn(body))
	}
	got, err := f.st.Device(ctx, d.ID)
	if err != nil || got.Name != "mail2" || string(got.Maintenance) != windows {
		t.Errorf("after the form's save: %+v %v", got, err)
	}
}

// TestDeviceFormEditsWindows: the device's form shows its windows in the
// maintenance field, saves the lines typed there, and refuses a bad one
// with what is wrong beside the field, keeping what was typed.
func TestDeviceFormEditsWindows(t *testing.T) {
	f, d, b, page := deviceWithWindow(t)
	ctx := t.Context()
	if _, body := b.get(t, page); !strings.Contains(body, `name="maintenance"`) || !strings.Contains(body, ">sat 23:00-01:00 Europe/Berlin</textarea>") {
		t.Fatalf("the device's form does not show its window:\n%s", body)
	}
	typed := "sat,sun 02:00 2h Europe/Berlin\n2026-12-24T22:00:00Z 2026-12-25T02:00:00Z"
	if code, body, _ := b.post(t, page, url.Values{"name": {"mail1"}, "address": {"127.0.0.1"}, "maintenance": {typed}}, nil); code != http.StatusSeeOther {
		t.Fatalf("saving the windows: %d %s", code, errorsIn(body))
	}
	got, err := f.st.Device(ctx, d.ID)
	if want := `[{"start":"02:00","days":["sat","sun"],"duration":"2h0m0s","zone":"Europe/Berlin"},{"start":"2026-12-24T22:00:00Z","end":"2026-12-25T02:00:00Z"}]`; err != nil || string(got.Maintenance) != want {
		t.Errorf("stored %s %v, want %s", got.Maintenance, err, want)
	}
	if _, body := b.get(t, page); !strings.Contains(body, "<code>sat,sun 02:00 2h Europe/Berlin</code>") {
		t.Errorf("the page does not show the saved window")
	}
	for bad, words := range map[string]string{
		"sat 02:00 2h Mars/Base":    "Mars/Base",
		"caturday 02:00 2h":         `&#34;caturday&#34; is not a day`,
		"tomorrow":                  `is not START END`,
		"2026-12-25T02:00:00Z 2026": "end after start",
	} {
		code, body, _ := b.post(t, page, url.Values{"name": {"mail1"}, "address": {"127.0.0.1"}, "maintenance": {bad}}, nil)
		m := regexp.MustCompile(`id="device-maintenance"[\s\S]*?</small>\s*<p class="ferr" role="alert">([^<]*)</p>`).FindStringSubmatch(body)
		if code != http.StatusBadRequest || m == nil || !strings.Contains(m[1], words) {
			t.Errorf("%q: %d %q, want 400 with %q beside the field", bad, code, m, words)
		}
		if !strings.Contains(body, ">"+bad+"</textarea>") {
			t.Errorf("%q: the field lost what was typed", bad)
		}
	}
	if got, _ := f.st.Device(ctx, d.ID); !strings.Contains(string(got.Maintenance), `"sun"`) {
		t.Errorf("a refused save changed the windows: %s", got.Maintenance)
	}
	// Emptied, the field removes them.
	if code, body, _ := b.post(t, page, url.Values{"name": {"mail1"}, "address": {"127.0.0.1"}, "maintenance": {""}}, nil); code != http.StatusSeeOther {
		t.Fatalf("emptying the windows: %d %s", code, errorsIn(body))
	}
	if got, _ := f.st.Device(ctx, d.ID); len(got.Maintenance) != 0 {
		t.Errorf("emptied, still stored: %s", got.Maintenance)
	}
}
