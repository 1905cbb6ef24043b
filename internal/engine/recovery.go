package engine

import (
	"context"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/probe"
)

func probeSecret(s string) probe.Secret { return probe.Secret(s) }

// recover runs a monitor's corrective actions once it went Down: each a
// program run directly (no shell) with a timeout. Over-SSH actions come
// with the credentials store.
func (e *Engine) recover(en *entry) {
	for _, r := range en.spec.Recovery {
		if len(r.Command) == 0 || r.SSH != "" {
			continue
		}
		timeout := r.Timeout.D()
		if timeout <= 0 {
			timeout = time.Minute
		}
		ev := alert.Event{Kind: "recovery-action", MonitorID: en.m.ID, Monitor: en.m.Name, Device: en.device.Name, Type: en.m.Type, State: "down", Time: e.o.Now()}
		err := (&alert.Command{Argv: r.Command, Timeout: timeout}).Notify(context.Background(), ev)
		if err != nil {
			e.o.Log.Warn("recovery action failed", "monitor", en.m.ID, "command", r.Command[0], "err", err)
		} else {
			e.o.Log.Info("recovery action ran", "monitor", en.m.ID, "command", r.Command[0])
		}
	}
}
