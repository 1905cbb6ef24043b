package apply

import (
	"context"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// chunkMonitors is about how many monitors one transaction writes (a
// device's monitors are never split). A transaction per change cost a
// commit each, most of apply's time; one for the whole file would hold
// SQLite's write lock for the whole apply, and a running daemon's results
// would wait for it. A thousand monitors take a fraction of a second.
const chunkMonitors = 1000

// write stores the plan: credentials and alerts, then the devices and
// their monitors, in transactions of about chunkMonitors monitors. The
// report lists what the committed transactions did; on an error, the
// transaction in progress is rolled back and those before it stay.
func write(ctx context.Context, s store.Store, k *known, v *vault.Vault, p *plan) (Report, error) {
	var rep Report
	alertIDs := map[string]int64{}
	devs := p.devices
	for first := true; first || len(devs) > 0; first = false {
		n, i := 0, 0
		for i < len(devs) && (i == 0 || n+len(devs[i].monitors) <= chunkMonitors) {
			n += len(devs[i].monitors)
			i++
		}
		chunk := devs[:i]
		devs = devs[i:]
		var part Report
		err := store.Batch(ctx, s, func(c store.Config) error {
			k.Config = c
			part = nil
			if first {
				for _, c := range p.credentials {
					ch, err := putCredential(ctx, k, v, c)
					if err != nil {
						return err
					}
					part = append(part, ch)
				}
				for _, a := range p.alerts {
					ch, id, err := putAlert(ctx, k, v, a)
					if err != nil {
						return err
					}
					alertIDs[a.cfg.Name] = id
					part = append(part, ch)
				}
			}
			for _, d := range chunk {
				ch, devID, err := putDevice(ctx, k, d.cfg)
				if err != nil {
					return err
				}
				part = append(part, ch)
				for _, m := range d.monitors {
					ch, err := putMonitor(ctx, k, v, devID, d.cfg.Name, m, alertIDs)
					if err != nil {
						return err
					}
					part = append(part, ch)
				}
				k.forget(devID)
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
		rep = append(rep, part...)
	}
	return rep, nil
}
