package engine

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestEscalationOnceOnTwoLocations: a monitor tested from two locations,
// each by its own node on one PostgreSQL database (both record its
// status), escalates once: the pager gets one alert and one recovery,
// and the alert log holds one escalation, whichever node stored it.
func TestEscalationOnceOnTwoLocations(t *testing.T) {
	c := newPGCluster(t, time.Second)
	ctx := context.Background()
	pager := &hook{}
	hs := httptest.NewServer(pager)
	t.Cleanup(hs.Close)
	spec, _ := json.Marshal(config.Alert{Name: "pager", Webhook: &config.Webhook{}})
	a := &store.Alert{Name: "pager", Kind: "webhook", Spec: spec}
	must(t, c.st.PutAlert(ctx, a))
	sealed, _ := c.v.Seal([]byte(hs.URL), vault.AlertRecord(a.ID, "webhook.url"))
	a.Secrets = map[string]string{"webhook.url": sealed}
	must(t, c.st.PutAlert(ctx, a))

	iv := config.Duration(300 * time.Millisecond)
	// after is below what validation takes (1m): the engine counts any.
	m := c.monitor("kofn", config.Monitor{Locations: &config.Locations{Require: 2, At: []string{"fra", "nyc"}},
		Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: iv, DownEvery: iv, LostEvery: iv},
		Notify: config.Notify{FailuresPerAlert: 1, MaxAlerts: 1000, Escalate: &config.Escalation{After: config.Duration(time.Second), To: []string{"pager"}}}})
	var up atomic.Bool // down everywhere
	c.node("fra1", "fra", switchable(&up))
	c.node("nyc1", "nyc", switchable(&up))
	waitState(t, c.st, m.ID, state.Down, 10*time.Second)
	waitFor(t, "the escalation", 10*time.Second, func() bool { return len(pager.kinds()) == 1 })
	// Both locations go on testing and recording the outage for a while
	// (about seven rounds each): no second escalation.
	time.Sleep(2 * time.Second)
	up.Store(true)
	waitState(t, c.st, m.ID, state.Up, 10*time.Second)
	waitFor(t, "the pager's recovery", 10*time.Second, func() bool { return len(pager.kinds()) >= 2 })
	time.Sleep(500 * time.Millisecond)
	if got := strings.Join(pager.kinds(), " "); got != "alert:down recovery:up" {
		t.Errorf("the pager got %s, want one escalation and its recovery", got)
	}
	ns, err := c.st.Notifications(ctx, m.ID, 1000)
	must(t, err)
	escalations := 0
	for _, n := range ns {
		if n.AlertID == a.ID && strings.Contains(n.EventID, "-escalation-") {
			escalations++
		}
	}
	if escalations != 1 {
		t.Errorf("%d escalations in the alert log, want 1", escalations)
	}
}
