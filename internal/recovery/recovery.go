// Package recovery runs a monitor's corrective actions once it went Down:
// each a program run directly (no shell) with a timeout, here (hostcmd) or
// over SSH with a stored credential whose host key is pinned; and it
// parses what they are configured with (an SSH target, a known_host).
// Every run is logged and stored in the recovery log, its output capped
// and redacted.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/hostcmd"
	"github.com/mailmon/mailmon/internal/store"
)

// DefaultTimeout bounds an action that sets no timeout.
const DefaultTimeout = time.Minute

// Action is one corrective action, as the engine loaded it.
type Action struct {
	Command []string
	Timeout time.Duration // 0: DefaultTimeout
	// SSH, when set, runs it on "[user@]host[:port]" as the credential
	// named Credential: Cred, or CredErr saying why it cannot be used.
	SSH        string
	Credential string
	Cred       *Credential
	CredErr    error
}

// Monitor is the monitor whose actions run.
type Monitor struct {
	ID int64
	// Env makes the environment of a program run here (the monitor's
	// facts, MAILMON_*), when it starts.
	Env func() []string
	// Secrets are what no output may show: the monitor's secrets, those
	// of its credentials, the installation's.
	Secrets []string
}

// Runner runs actions and records them.
type Runner struct {
	Store interface {
		RecordRecovery(ctx context.Context, r store.RecoveryRun) error
	}
	Log *slog.Logger
}

// Run runs m's actions one after the other. The store is written even
// once ctx is canceled (a daemon stopping), within a bound of its own.
func (r *Runner) Run(ctx context.Context, m Monitor, actions []Action) {
	for _, a := range actions {
		if len(a.Command) == 0 {
			continue
		}
		timeout := a.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		var run store.RecoveryRun
		if a.SSH != "" {
			run = r.remote(ctx, m, a, timeout)
		} else {
			run = r.local(ctx, m, a, timeout)
		}
		r.record(ctx, run)
	}
}

// local runs one action here (hostcmd: directly, no shell, PATH, LANG and
// the monitor's facts as its environment).
func (r *Runner) local(ctx context.Context, m Monitor, a Action, timeout time.Duration) store.RecoveryRun {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var env []string
	if m.Env != nil {
		env = m.Env()
	}
	res, err := hostcmd.Run(ctx, hostcmd.Cmd{Argv: a.Command, Secrets: m.Secrets, Env: env})
	run := store.RecoveryRun{MonitorID: m.ID, Time: start, Action: strings.Join(a.Command, " "), Status: "ok",
		ExitCode: res.ExitCode, Output: res.Output, Duration: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		run.Status = "failed"
	case err != nil:
		run.Status, run.Output = "failed", strings.TrimSpace(err.Error()+"\n"+res.Output)
	}
	return run
}

// remote runs one action over SSH: the exit status and output, never the
// credential's secret.
func (r *Runner) remote(ctx context.Context, m Monitor, a Action, timeout time.Duration) store.RecoveryRun {
	run := store.RecoveryRun{MonitorID: m.ID, Time: time.Now(), ExitCode: -1,
		Action: "ssh " + a.SSH + " (" + a.Credential + "): " + strings.Join(a.Command, " ")}
	_, addr, err := SSHTarget(a.SSH)
	if err == nil && a.Cred == nil {
		err = a.CredErr
		if err == nil {
			err = fmt.Errorf("no credential is named %q", a.Credential)
		}
	}
	if err != nil {
		run.Status, run.Output = "not_run", err.Error()
		return run
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := runSSH(ctx, addr, a.Cred, a.Command, m.Secrets)
	run.Duration = time.Since(run.Time)
	switch {
	case err != nil:
		run.Status, run.Output = "failed", err.Error()
		if res != nil {
			run.Output += "\n" + res.Output
		}
	case res.Status != 0:
		run.Status, run.ExitCode, run.Output = "failed", res.Status, res.Output
	default:
		run.Status, run.ExitCode, run.Output = "ok", 0, res.Output
	}
	return run
}

// record logs a run and stores it in the recovery log.
func (r *Runner) record(ctx context.Context, run store.RecoveryRun) {
	log := r.Log.With("monitor", run.MonitorID, "action", run.Action, "status", run.Status, "exit", run.ExitCode, "duration", run.Duration.Round(time.Millisecond))
	if run.Status == "ok" {
		log.Info("recovery action ran", "output", run.Output)
	} else {
		log.Warn("recovery action failed", "output", run.Output)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.Store.RecordRecovery(ctx, run); err != nil {
		r.Log.Error("recording a recovery action failed", "monitor", run.MonitorID, "err", err)
	}
}
