package engine

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/schedule/phase"
	"github.com/mailmon/mailmon/internal/state"
)

// TestStatusAtItsSlot: a monitor's status is stored at the slot of the
// interval it is tested at in its state (phase.Slot), and moves when
// the monitor's interval changes (a save, then its next test).
func TestStatusAtItsSlot(t *testing.T) {
	ctx := context.Background()
	srv, _ := bannerServer(t, "220 ok ESMTP")
	st := openTestStore(t)
	dev := putDevice(t, st, "mail", false)
	m := putTCP(t, st, dev.ID, "banner", srv.Port, "220", false)
	e := New(Options{Store: st})
	must(t, e.Load(ctx))
	check := func(what string, every time.Duration) {
		t.Helper()
		res, err := e.TestNow(ctx, m.ID)
		must(t, err)
		s, err := st.Status(ctx, m.ID)
		must(t, err)
		if s.Status.State != state.Up {
			t.Fatalf("%s: state %s (%+v); want up", what, s.Status.State, res.Error)
		}
		slots, err := st.StatusSlots(ctx)
		must(t, err)
		if want := phase.Slot(m.ID, every); slots[m.ID] != want {
			t.Errorf("%s: status at slot %d; want %d (every %v)", what, slots[m.ID], want, every)
		}
	}
	check("tested every hour", time.Hour)
	var spec config.Monitor
	must(t, json.Unmarshal(m.Spec, &spec))
	spec.Timing.UpEvery = config.Duration(90 * time.Second)
	m.Spec, _ = json.Marshal(spec)
	must(t, st.PutMonitor(ctx, m))
	must(t, e.Reload(ctx, m.ID))
	check("every 90 s after a save", 90*time.Second)
}
