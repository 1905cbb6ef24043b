package alert

import (
	"context"
	"testing"
	"time"

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
