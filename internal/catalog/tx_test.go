package catalog

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/postgres"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

func TestMain(m *testing.M) { realpg.Main(m) }

// hooked is a store that runs putMonitor before each monitor write, made
// through it or through one of its batches, and batch when a batch starts.
type hooked struct {
	store.Store
	putMonitor func(*store.Monitor)
	batch      func()
}

func (h *hooked) PutMonitor(ctx context.Context, m *store.Monitor) error {
	h.putMonitor(m)
	return h.Store.PutMonitor(ctx, m)
}

func (h *hooked) Batch(ctx context.Context, fn func(store.Config) error) error {
	h.batch()
	return h.Store.(store.Batcher).Batch(ctx, func(c store.Config) error { return fn(&hookedConfig{c, h}) })
}

type hookedConfig struct {
	store.Config
	h *hooked
}

func (c *hookedConfig) PutMonitor(ctx context.Context, m *store.Monitor) error {
	c.h.putMonitor(m)
	return c.Config.PutMonitor(ctx, m)
}

// TestMonitorSaveMeetsAddressChange: a monitor saved (renamed, its password
// not sent) at the moment its device's address changes cannot write back
// the password it read before the change dropped it. The device's change
// is made just before the monitor's save writes, after it read the
// secrets: it either waits for the save's transaction (SQLite, whose
// transactions take the write lock from their start: the save goes on once
// the change waits for it), or is made whole at once (PostgreSQL, whose
// save has written nothing yet: the save goes on once the change is done,
// and must start again on what it left).
func TestMonitorSaveMeetsAddressChange(t *testing.T) {
	for name, db := range map[string]struct {
		open      func(t *testing.T) store.Store
		serialize bool
	}{
		"sqlite": {serialize: true, open: func(t *testing.T) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "race.db"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		"postgres": {open: func(t *testing.T) store.Store {
			s, err := postgres.Open(context.Background(), realpg.NewDB(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := db.open(t)
			t.Cleanup(func() { s.Close() })
			h := &hooked{Store: s, putMonitor: func(*store.Monitor) {}, batch: func() {}}
			c := onStore(t, h)
			d, _, err := c.SaveDevice(ctx, admin, 0, Device{Name: "mail1", Address: "10.0.0.1"})
			if err != nil {
				t.Fatal(err)
			}
			settings := config.Monitor{Name: "inbox", Type: "imap", User: "u@example.test", AllowPlaintext: true}
			m, _, err := c.SaveMonitor(ctx, admin, 0, Monitor{Device: d.ID, Settings: settings, Password: ptr("Mailb0xPassw0rd")})
			if err != nil {
				t.Fatal(err)
			}

			var started atomic.Bool
			var entered sync.Once
			inBatch, done := make(chan struct{}), make(chan struct{})
			var moveErr error
			h.batch = func() {
				if db.serialize && started.Load() {
					entered.Do(func() { close(inBatch) })
				}
			}
			h.putMonitor = func(w *store.Monitor) {
				if w.ID != m.ID || !started.CompareAndSwap(false, true) {
					return // the device's change, or the save made again
				}
				go func() {
					defer close(done)
					_, _, moveErr = c.SaveDevice(ctx, admin, d.ID, Device{Name: "mail1", Address: "10.0.0.2"})
				}()
				select { // it is done, or it waits for this transaction to end
				case <-done:
				case <-inBatch:
				}
			}
			settings.Name = "inbox renamed"
			if _, _, err := c.SaveMonitor(ctx, admin, m.ID, Monitor{Device: d.ID, Settings: settings}); err != nil {
				t.Fatal(err)
			}
			<-done
			if moveErr != nil {
				t.Fatal(moveErr)
			}
			got, err := s.Monitor(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got.Secrets["password"]; ok {
				t.Error("the monitor's password, read before its device moved, was written back: the new address would receive it")
			}
			if got.Name != "inbox renamed" {
				t.Errorf("the monitor's own change was lost: %q", got.Name)
			}
			if dev, _ := s.Device(ctx, d.ID); dev.Address != "10.0.0.2" {
				t.Errorf("the device's address: %q", dev.Address)
			}
		})
	}
}
