package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

func recoveries(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "imap")
	at := time.Now().Truncate(time.Millisecond)
	must(t, s.RecordRecovery(ctx, store.RecoveryRun{MonitorID: m.ID, Time: at, Action: "/usr/local/bin/restart-dovecot", Status: "failed",
		ExitCode: 3, Output: "dovecot: \x00not running" + strings.Repeat("x", 10000), Duration: 1500 * time.Millisecond}))
	must(t, s.RecordRecovery(ctx, store.RecoveryRun{MonitorID: m.ID, Time: at.Add(time.Second), Action: "ssh root@mail1: systemctl restart dovecot", Status: "ok"}))
	rs, err := s.Recoveries(ctx, m.ID, 10)
	if err != nil || len(rs) != 2 || rs[0].Status != "ok" || rs[1].ExitCode != 3 || rs[1].Duration != 1500*time.Millisecond || !rs[1].Time.Equal(at) {
		t.Fatalf("Recoveries = %+v, %v", rs, err)
	}
	if len(rs[1].Output) > 4200 || strings.ContainsRune(rs[1].Output, 0) {
		t.Errorf("output not capped and cleaned: %d bytes", len(rs[1].Output))
	}
}
