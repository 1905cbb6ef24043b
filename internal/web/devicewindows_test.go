package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// TestDevicePageShowsWindows: a device's scheduled windows (set by apply)
// show on its page, with their zone; saving the device's form keeps them.
func TestDevicePageShowsWindows(t *testing.T) {
	f := newFixture(t, false)
	ctx := t.Context()
	windows := `[{"start":"23:00","end":"01:00","days":["sat"],"zone":"Europe/Berlin"}]`
	d := &store.Device{Name: "mail1", Address: "127.0.0.1", Maintenance: []byte(windows)}
	if err := f.st.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	b := f.loggedIn(t)
	page := fmt.Sprintf("/devices/%d", d.ID)
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
