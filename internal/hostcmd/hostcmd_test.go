package hostcmd

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRunHasAMinimalEnvironment(t *testing.T) {
	t.Setenv("MAILMON_SECRET_KEY", "storage-key-of-the-daemon")
	t.Setenv("MAILMON_SECRET", "installation-secret")
	t.Setenv("PCMDS_PLANTED", "planted")
	t.Setenv("PATH", "") // the daemon's PATH is not the program's
	res, err := Run(context.Background(), Cmd{Argv: []string{"env"}, Env: []string{"MAILMON_MONITOR=SMTP", "PATH=/tmp/evil", "LANG=xx"}})
	if err != nil {
		t.Fatal(err, res.Output)
	}
	got := strings.Split(strings.TrimSpace(res.Output), "\n")
	want := []string{"PATH=" + Path, "LANG=" + Lang, "MAILMON_MONITOR=SMTP"}
	if !slices.Equal(got, want) {
		t.Errorf("env = %q, want %q", got, want)
	}
	if res.ExitCode != 0 {
		t.Errorf("exit %d", res.ExitCode)
	}
}

func TestRunOutputCappedAndRedacted(t *testing.T) {
	const secret = "0123456789-the-monitor-password-0123456789" // 42 bytes, longer than [redacted]
	// The secret whole, then enough to push the second one across the
	// capture's end: after the first is redacted, the start of the second
	// would fall within the kept 4 KiB.
	script := `printf '%s\n' "$1"; head -c 4076 /dev/zero | tr '\0' x; printf "%s" "$1"`
	res, err := Run(context.Background(), Cmd{Argv: []string{"/bin/sh", "-c", script, "sh", secret}, Secrets: []string{"", secret, "short"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) > OutputMax+len("…") || !strings.HasSuffix(res.Output, "…") {
		t.Errorf("output is %d bytes, want at most %d and marked cut", len(res.Output), OutputMax)
	}
	if !strings.HasPrefix(res.Output, Redacted+"\nxxx") {
		t.Errorf("output starts %.40q", res.Output)
	}
	for k := 4; k <= len(secret); k++ {
		if strings.Contains(res.Output, secret[:k]) {
			t.Fatalf("the output shows %q of the secret", secret[:k])
		}
	}
	// A secret of several lines (a PEM key) is redacted line by line too.
	key := "-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQAB\n-----END KEY-----\n"
	if got := Redact("line: AAAAB3NzaC1yc2EAAAADAQAB", []string{key}); got != "line: "+Redacted {
		t.Errorf("a key's line: %q", got)
	}
}

func TestRunFailures(t *testing.T) {
	res, err := Run(context.Background(), Cmd{Argv: []string{"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}})
	var ee *exec.ExitError
	if !errors.As(err, &ee) || res.ExitCode != 3 || res.Output != "out\nerr\n" && res.Output != "err\nout\n" {
		t.Errorf("exit 3: %+v %v", res, err)
	}
	if res, err := Run(context.Background(), Cmd{Argv: []string{"no-such-program-pcmds"}}); err == nil || res.ExitCode != -1 ||
		!strings.Contains(err.Error(), "not found in "+Path) {
		t.Errorf("not found: %+v %v", res, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err = Run(ctx, Cmd{Argv: []string{"/bin/sh", "-c", "sleep 30 & sleep 30"}})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || res.ExitCode != -1 {
		t.Errorf("timeout: %+v %v", res, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a timed-out program held the run %v", took)
	}
	// Stdout taken: the output is stderr alone.
	out := NewCapture(64)
	res, err = Run(context.Background(), Cmd{Argv: []string{"/bin/sh", "-c", "echo token; echo warn >&2"}, Stdout: out})
	if err != nil || string(out.Bytes()) != "token\n" || res.Output != "warn\n" {
		t.Errorf("stdout taken: %q %+v %v", out.Bytes(), res, err)
	}
}
