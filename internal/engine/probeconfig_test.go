package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestOneMonitorTestedTwiceAtOnce: the schedule, TestNow and /probe may
// test one round trip at once; each test validates (fills) its own copy of
// the SMTP leg (run with -race), and MonitorConfig hands out the monitor's
// opened secrets and its own leg.
func TestOneMonitorTestedTwiceAtOnce(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, _ := vault.New([]byte("engine-test-key-0123456789abc"))
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	st.PutDevice(ctx, d)
	spec, _ := json.Marshal(config.Monitor{Port: 110, User: "u@example.test", From: "u@example.test", To: "u@example.test",
		AllowPlaintext: true, SMTP: &config.Leg{Port: 25},
		Timing: config.Timing{MaxDuration: config.Duration(5 * time.Second), UpEvery: config.Duration(time.Hour)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "Round trip", Type: "pop3-roundtrip", Enabled: true, Spec: spec}
	if err := st.PutMonitor(ctx, m); err != nil {
		t.Fatal(err)
	}
	sealed, _ := v.Seal([]byte("pw-s3cret"), vault.MonitorRecord(m.ID, "password"))
	m.Secrets = map[string]string{"password": sealed}
	if err := st.PutMonitor(ctx, m); err != nil {
		t.Fatal(err)
	}
	noop := func(ctx context.Context, cfg *probe.Config, t *probe.Trace) error { return nil }
	e := New(Options{Store: st, Vault: v, InstallationKey: keyfile.Key("engine-test-installation-secret"),
		Probers: func(string) (probe.Prober, bool) { return noop, true }})
	if err := e.Load(ctx); err != nil {
		t.Fatal(err)
	}
	cfg, err := e.MonitorConfig(m.ID)
	if err != nil || cfg.Password != "pw-s3cret" || cfg.SMTP == nil || cfg.Type != "pop3-roundtrip" {
		t.Fatalf("MonitorConfig: %v %+v", err, cfg)
	}
	cfg.SMTP.Host = "changed.example"
	if again, _ := e.MonitorConfig(m.ID); again.SMTP.Host == "changed.example" {
		t.Error("MonitorConfig shares the SMTP leg with the engine")
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if res, err := e.TestNow(ctx, m.ID); err != nil || res.Status != probe.StatusUp {
				t.Errorf("TestNow: %v %+v", err, res)
			}
		})
	}
	wg.Wait()
	if _, err := e.MonitorConfig(99999); err != store.ErrNotFound {
		t.Errorf("an unknown monitor: %v", err)
	}
}
