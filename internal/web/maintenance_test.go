package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// TestMaintenanceFromPages: a monitor's page has a form that puts it in
// maintenance for the time chosen; the page and the board then say until
// when, and "End maintenance now" ends it. A device's page does the same
// for all its monitors, which show it on their pages.
func TestMaintenanceFromPages(t *testing.T) {
	f := newFixture(t, false)
	ctx := t.Context()
	b := f.loggedIn(t)
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	f.st.PutDevice(ctx, d)
	m := &store.Monitor{DeviceID: d.ID, Name: "smtp", Type: "tcp", Enabled: true, Spec: []byte(`{"port":25}`)}
	f.st.PutMonitor(ctx, m)
	page, devPage := fmt.Sprintf("/monitors/%d", m.ID), fmt.Sprintf("/devices/%d", d.ID)
	if _, body := b.get(t, page); !strings.Contains(body, `id="maint-begin"`) || !strings.Contains(body, `<option value="2h">2 hours</option>`) {
		t.Fatalf("no maintenance form:\n%s", body)
	}
	if code, body, _ := b.post(t, page+"/maintenance", url.Values{"for": {"2h"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("begin: %d %s", code, body)
	}
	_, body := b.get(t, page)
	if !strings.Contains(body, "In maintenance until ") || !strings.Contains(body, "begun by user admin)") || !strings.Contains(body, `id="maint-end"`) {
		t.Errorf("after beginning:\n%s", body)
	}
	if _, board := b.get(t, "/"); !strings.Contains(board, "maintenance until 20") {
		t.Errorf("the board does not show the maintenance:\n%s", board)
	}
	if code, _, _ := b.post(t, page+"/maintenance/end", url.Values{}, nil); code != http.StatusSeeOther {
		t.Errorf("end: %d", code)
	}
	if _, body := b.get(t, page); strings.Contains(body, "In maintenance until") || !strings.Contains(body, `id="maint-begin"`) {
		t.Errorf("after ending:\n%s", body)
	}
	if _, board := b.get(t, "/"); strings.Contains(board, "maintenance until") {
		t.Errorf("the board still shows it:\n%s", board)
	}
	if code, _, _ := b.post(t, page+"/maintenance", url.Values{"for": {"forever"}}, nil); code != http.StatusBadRequest {
		t.Errorf("a bad duration: %d", code)
	}

	// The device's: its monitors say so, and only the device's page ends it.
	if code, body, _ := b.post(t, devPage+"/maintenance", url.Values{"for": {"30m"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("begin the device's: %d %s", code, body)
	}
	if _, body := b.get(t, page); !strings.Contains(body, "on the device) — no alerts") || strings.Contains(body, `id="maint-end"`) {
		t.Errorf("the monitor of a device in maintenance:\n%s", body)
	}
	if _, body := b.get(t, devPage); !strings.Contains(body, `id="maint-end"`) || !strings.Contains(body, "maintenance until 20") {
		t.Errorf("the device's page:\n%s", body)
	}
	if code, _, _ := b.post(t, devPage+"/maintenance/end", url.Values{}, nil); code != http.StatusSeeOther {
		t.Errorf("end the device's: %d", code)
	}
	if _, body := b.get(t, page); strings.Contains(body, "In maintenance until") {
		t.Errorf("still in maintenance:\n%s", body)
	}
}
