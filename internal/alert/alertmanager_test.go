package alert

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/realprom"
)

// TestAlertmanagerReal: a real Alertmanager (Debian's, on loopback) shows
// a monitor's alert with its labels; an alert with another code replaces
// it; the recovery resolves it.
func TestAlertmanagerReal(t *testing.T) {
	am := realprom.StartAlertmanager(t)
	ctx := context.Background()
	a := &Alertmanager{URL: am.URL + "/", poster: poster{What: "alertmanager"}}
	down := ev
	down.Time = time.Now().Truncate(time.Second)
	if err := a.Notify(ctx, down); err != nil {
		t.Fatal(err)
	}
	mine := `monitor_id="12"`
	got := waitAlerts(t, am, mine, 1)
	want := map[string]string{"alertname": AlertmanagerName, "monitor": "IMAP login", "device": "mail1", "type": "imap",
		"code": "auth_failed", "severity": "critical", "monitor_id": "12"}
	for k, v := range want {
		if got[0].Labels[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, got[0].Labels[k], v, got[0].Labels)
		}
	}
	if got[0].Annotations["summary"] == "" || !got[0].StartsAt.Equal(down.Time) {
		t.Errorf("the alert: %+v", got[0])
	}

	other := down
	other.Code, other.ID = "timeout", "12-alert-x-2"
	if err := a.Notify(ctx, other); err != nil {
		t.Fatal(err)
	}
	got = waitAlerts(t, am, mine, 1)
	if got[0].Labels["code"] != "timeout" {
		t.Errorf("after another code, firing: %v", got[0].Labels)
	}

	up := down
	up.Kind, up.State, up.Code, up.Message, up.Time = "recovery", "up", "", "", time.Now()
	if err := a.Notify(ctx, up); err != nil {
		t.Fatal(err)
	}
	waitAlerts(t, am, mine, 0)
	if err := a.Notify(ctx, up); err != nil { // again (a resend): nothing left to resolve
		t.Errorf("a second recovery: %v", err)
	}
}

// waitAlerts waits until the Alertmanager lists n alerts matching filter.
func waitAlerts(t *testing.T, am *realprom.Server, filter string, n int) []realprom.AMAlert {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := am.Alerts(context.Background(), filter)
		if err == nil && len(got) == n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager lists %+v (%v), want %d\n%s", got, err, n, am.LogTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAlertmanagerRepost: through the outbox, a real Alertmanager's alert
// is posted with a short endsAt (3 × the re-post interval) and posted
// again while the monitor stays Down, so that it is still active past its
// first endsAt, with a later one; the recovery resolves it, and no re-post
// follows. (Before: one post, ending 24 h on.)
func TestAlertmanagerRepost(t *testing.T) {
	am := realprom.StartAlertmanager(t)
	ctx := context.Background()
	f := newQueueFixture(t)
	spec, _ := json.Marshal(config.Alert{Name: "am", Alertmanager: &config.Alertmanager{URL: am.URL}})
	a := &store.Alert{Name: "am", Kind: "alertmanager", Spec: spec}
	must(t, f.st.PutAlert(ctx, a))
	mon := f.down(a.ID)
	must(t, f.st.SetMonitorAlerts(ctx, mon, []int64{a.ID}))
	const every = 2 * time.Second
	ob := f.run(OutboxOptions{Actions: &Actions{Vault: f.v, Repost: every}})
	filter := `monitor_id="` + strconv.FormatInt(mon, 10) + `"`

	first := waitAlerts(t, am, filter, 1)[0]
	if limit := time.Now().Add(3*every + time.Second); first.EndsAt.After(limit) {
		t.Fatalf("the first post ends at %v, want within 3 × %v (by %v)", first.EndsAt, every, limit)
	}
	time.Sleep(time.Until(first.EndsAt.Add(every))) // past its first endsAt: only a re-post keeps it
	got := waitAlerts(t, am, filter, 1)
	if !got[0].EndsAt.After(first.EndsAt) {
		t.Errorf("still firing past %v, but ending at %v: not posted again", first.EndsAt, got[0].EndsAt)
	}
	reposts := func() int {
		ns, err := f.st.Notifications(ctx, mon, 1000)
		must(t, err)
		n := 0
		for _, x := range ns {
			if x.Kind == KindRepost && x.Status == store.NotifySent {
				n++
			}
		}
		return n
	}
	if n := reposts(); n < 1 {
		t.Errorf("%d re-posts sent", n)
	}

	up := Event{Kind: "recovery", MonitorID: mon, Monitor: "down1", Device: "mail1", Type: "tcp", State: "up", Time: time.Now()}
	payload, _ := json.Marshal(up)
	must(t, f.st.RecordTest(ctx, store.Test{
		Result: store.Result{MonitorID: mon, Time: up.Time, Status: probe.StatusUp},
		Status: store.Status{MonitorID: mon, Status: state.Status{State: state.Up}, LastTest: up.Time},
		Notifications: []store.Notification{{EventID: "recovery-" + strconv.FormatInt(mon, 10), MonitorID: mon, AlertID: a.ID, Kind: "recovery",
			Payload: payload, Created: up.Time}},
	}))
	ob.Wake()
	waitAlerts(t, am, filter, 0)
	after := reposts()
	time.Sleep(2 * every)
	if n := reposts(); n != after {
		t.Errorf("%d re-posts after the recovery", n-after)
	}
	if got, _ := am.Alerts(ctx, filter); len(got) != 0 {
		t.Errorf("firing again after the recovery: %+v", got)
	}
}
