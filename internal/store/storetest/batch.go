package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// batch: a Batch commits everything or nothing; inside it, reads see its
// writes, and a method that fails leaves nothing of its own work.
func batch(t *testing.T, s store.Store) {
	b, ok := s.(store.Batcher)
	if !ok {
		t.Fatalf("%T is not a store.Batcher", s)
	}
	a := &store.Alert{Name: "ops", Kind: "webhook", Spec: []byte(`{}`)}
	must(t, s.PutAlert(ctx, a))

	var monID int64
	must(t, b.Batch(ctx, func(c store.Config) error {
		d := &store.Device{Name: "mail1", Address: "mail1.example.test"}
		must(t, c.PutDevice(ctx, d))
		if got, err := c.DeviceByName(ctx, "mail1"); err != nil || got.ID != d.ID {
			t.Errorf("inside the batch, DeviceByName = %+v, %v", got, err)
		}
		m := &store.Monitor{DeviceID: d.ID, Name: "SMTP", Type: "smtp", Enabled: true, Spec: []byte(`{}`)}
		must(t, c.PutMonitor(ctx, m))
		must(t, c.SetMonitorAlerts(ctx, m.ID, []int64{a.ID}))
		// A failing assignment (no alert 999999) keeps the one made before.
		if err := c.SetMonitorAlerts(ctx, m.ID, []int64{999999}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("assigning a missing alert: %v, want ErrNotFound", err)
		}
		if ids, err := c.MonitorAlerts(ctx, m.ID); err != nil || !slices.Equal(ids, []int64{a.ID}) {
			t.Errorf("inside the batch, after a failed assignment: %v, %v", ids, err)
		}
		monID = m.ID
		return nil
	}))
	d, err := s.DeviceByName(ctx, "mail1")
	if err != nil {
		t.Fatalf("after the batch: %v", err)
	}
	if m, err := s.MonitorByName(ctx, d.ID, "SMTP"); err != nil || m.ID != monID {
		t.Errorf("after the batch, the monitor: %+v, %v", m, err)
	}
	if ids, err := s.MonitorAlerts(ctx, monID); err != nil || !slices.Equal(ids, []int64{a.ID}) {
		t.Errorf("after the batch, the monitor's alerts: %v, %v", ids, err)
	}

	boom := errors.New("boom")
	err = b.Batch(ctx, func(c store.Config) error {
		must(t, c.PutDevice(ctx, &store.Device{Name: "mail2", Address: "mail2.example.test"}))
		must(t, c.SetMonitorAlerts(ctx, monID, nil))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Batch returned %v, want fn's error", err)
	}
	if _, err := s.DeviceByName(ctx, "mail2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a rolled-back batch left a device: %v", err)
	}
	if ids, _ := s.MonitorAlerts(ctx, monID); !slices.Equal(ids, []int64{a.ID}) {
		t.Errorf("a rolled-back batch changed the monitor's alerts: %v", ids)
	}
}

// batchPanic: a batch whose fn panics is rolled back and gives its
// connection back (the HTTP server recovers a handler's panic, and the
// daemon goes on writing: SQLite has one writer connection).
func batchPanic(t *testing.T, s store.Store) {
	b := s.(store.Batcher)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not go through Batch")
			}
		}()
		b.Batch(ctx, func(c store.Config) error {
			must(t, c.PutDevice(ctx, &store.Device{Name: "half", Address: "h"}))
			panic("boom")
		})
	}()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.PutDevice(wctx, &store.Device{Name: "after", Address: "a"}); err != nil {
		t.Fatalf("a write after a batch that panicked: %v", err)
	}
	if _, err := s.DeviceByName(ctx, "half"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a batch that panicked left its device: %v", err)
	}
}
