package recovery

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// TestRecoverLocally: a local corrective action runs without a shell, with
// the monitor in its environment, and is recorded with its exit status and
// output.
func TestRecoverLocally(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir := t.TempDir()
	script := filepath.Join(dir, "fix.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"restarting for $MAILMON_MONITOR: $1\"\nexit 2\n"), 0o700)
	r := &Runner{Store: st, Log: slog.New(slog.DiscardHandler)}
	m := Monitor{ID: 9, Env: func() []string { return []string{"MAILMON_MONITOR=IMAP"} }}
	start := time.Now()
	r.Run(ctx, m, []Action{
		{Command: []string{script, "$(touch " + filepath.Join(dir, "pwned") + ")"}},
		{Command: []string{"sleep", "10"}, Timeout: 200 * time.Millisecond},
	})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the timeout was not enforced: %v", took)
	}
	runs, err := st.Recoveries(ctx, 9, 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("recovery log: %+v %v", runs, err)
	}
	first := runs[1]
	if first.Status != "failed" || first.ExitCode != 2 || first.Output != "restarting for IMAP: $(touch "+filepath.Join(dir, "pwned")+")\n" {
		t.Errorf("first run: %+v", first)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("an argument went through a shell")
	}
	if runs[0].Status != "failed" {
		t.Errorf("the timed-out run: %+v", runs[0])
	}
}
