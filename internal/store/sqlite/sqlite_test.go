package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/storetest"
)

func open(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) { storetest.Run(t, open) }

// TestSurvivesReopen: what was recorded is there after a restart.
func TestSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mailmon.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d := &store.Device{Name: "d", Address: "d"}
	s.PutDevice(ctx, d)
	m := &store.Monitor{DeviceID: d.ID, Name: "m", Type: "smtp", Enabled: true}
	s.PutMonitor(ctx, m)
	s.RecordTest(ctx, store.Test{Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Lost, AlertsSent: 5}},
		Result: store.Result{MonitorID: m.ID}})
	s.Close()
	s, err = Open(ctx, path) // migrations run again: nothing to do
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Status(ctx, m.ID)
	if err != nil || st.Status.State != state.Lost || st.Status.AlertsSent != 5 {
		t.Fatalf("after reopen: %+v %v", st, err)
	}
}
