package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/notify"
)

// TestAlertsPageShowsHealth: the alerts page says of each action when a
// delivery last went out, and of a failing one its error and what waits.
func TestAlertsPageShowsHealth(t *testing.T) {
	f := newFixture(t, true)
	ctx := t.Context()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer bad.Close()
	b := f.loggedIn(t)
	b.get(t, "/alerts")
	if code, body, _ := b.post(t, "/alerts", url.Values{"name": {"pager"}, "kind": {"webhook"}, "webhook.url": {bad.URL + "/hook"}, "webhook.format": {"generic"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", code, errorsIn(body))
	}
	if _, page := b.get(t, "/alerts"); !strings.Contains(page, "none since start") {
		t.Errorf("before any delivery:\n%s", page)
	}
	a, _ := f.st.AlertByName(ctx, "pager")
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	f.st.PutDevice(ctx, d)
	m := &store.Monitor{DeviceID: d.ID, Name: "down", Type: "tcp", Spec: []byte(`{"port":25}`)}
	f.st.PutMonitor(ctx, m)
	notify.Down(t, f.st, m.ID, a.ID)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, page := b.get(t, "/alerts")
		if strings.Contains(page, "webhook answered 502 Bad Gateway") {
			if !strings.Contains(page, "no success yet") || !strings.Contains(page, "1 queued") {
				t.Errorf("the failing action:\n%s", page)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no error shown:\n%s", page)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAckFromMonitorPage: a Down monitor's page has an Acknowledge
// button; pressing it records who, and the page says so.
func TestAckFromMonitorPage(t *testing.T) {
	f := newFixture(t, false)
	ctx := t.Context()
	b := f.loggedIn(t)
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	f.st.PutDevice(ctx, d)
	m := &store.Monitor{DeviceID: d.ID, Name: "down", Type: "tcp", Enabled: true, Spec: []byte(`{"port":25}`)}
	f.st.PutMonitor(ctx, m)
	page := fmt.Sprintf("/monitors/%d", m.ID)
	if _, body := b.get(t, page); strings.Contains(body, `id="ack"`) {
		t.Error("an untested monitor offers to acknowledge")
	}
	if code, _, _ := b.post(t, page+"/ack", url.Values{}, nil); code != http.StatusConflict {
		t.Errorf("acknowledging an untested monitor: %d", code)
	}
	notify.Down(t, f.st, m.ID)
	if _, body := b.get(t, page); !strings.Contains(body, `id="ack"`) {
		t.Fatalf("no Acknowledge button on a Down monitor:\n%s", body)
	}
	if code, body, _ := b.post(t, page+"/ack", url.Values{"comment": {"on <it>"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("ack: %d %s", code, body)
	}
	_, body := b.get(t, page)
	if !strings.Contains(body, "Acknowledged by user admin") || !strings.Contains(body, "on &lt;it&gt;") || strings.Contains(body, `id="ack"`) {
		t.Errorf("after the ack:\n%s", body)
	}
	if _, board := b.get(t, "/"); !strings.Contains(board, `title="acknowledged by user admin">ack</span>`) {
		t.Errorf("the board does not show it acknowledged:\n%s", board)
	}
}
