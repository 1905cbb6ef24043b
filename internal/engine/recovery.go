package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/hostcmd"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

func probeSecret(s string) probe.Secret { return probe.Secret(s) }

// recover runs a monitor's corrective actions once it went Down: each a
// program run directly (no shell) with a timeout, here or over SSH.
func (e *Engine) recover(en *entry) {
	for _, r := range en.spec.Recovery {
		if len(r.Command) == 0 {
			continue
		}
		timeout := r.Timeout.D()
		if timeout <= 0 {
			timeout = time.Minute
		}
		if r.SSH != "" {
			e.recoverSSH(en, r, timeout)
			continue
		}
		e.recoverLocal(en, r, timeout)
	}
}

// recoverLocal runs one recovery here (hostcmd: directly, no shell, PATH,
// LANG and the monitor's facts as its environment), and records it, its
// output capped and redacted.
func (e *Engine) recoverLocal(en *entry, r config.Recovery, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	res, err := hostcmd.Run(ctx, hostcmd.Cmd{Argv: r.Command, Secrets: e.secretsOf(en),
		Env: alert.Env(alert.Event{Kind: "recovery-action", MonitorID: en.m.ID, Monitor: en.m.Name,
			Device: en.device.Name, Type: en.m.Type, State: "down", Time: e.o.Now()})})
	run := store.RecoveryRun{MonitorID: en.m.ID, Time: start, Action: strings.Join(r.Command, " "), Status: "ok",
		ExitCode: res.ExitCode, Output: res.Output, Duration: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		run.Status = "failed"
	case err != nil:
		run.Status, run.Output = "failed", strings.TrimSpace(err.Error()+"\n"+res.Output)
	}
	e.recordRecovery(run)
}

// secretsOf is what the daemon knows that a program's output must not
// show for a monitor: its secrets, those of its recoveries' credentials,
// and the installation's.
func (e *Engine) secretsOf(en *entry) []string {
	out := []string{string(e.o.Secret), string(en.cfg.Password)}
	if en.cfg.SMTP != nil {
		out = append(out, string(en.cfg.SMTP.Password))
	}
	for _, c := range en.creds {
		out = append(out, c.password, c.key)
	}
	return out
}

// monitorSecrets is secretsOf for a monitor this node has loaded; the
// installation's secret alone for another.
func (e *Engine) monitorSecrets(id int64) []string {
	e.mu.Lock()
	en := e.monitors[id]
	e.mu.Unlock()
	if en == nil {
		return []string{string(e.o.Secret)}
	}
	return e.secretsOf(en)
}

// alertSecrets are an alert's opened secrets and the installation's.
func (e *Engine) alertSecrets(a *store.Alert) []string {
	out := []string{string(e.o.Secret)}
	for name, sealed := range a.Secrets {
		if v, err := e.open(sealed, vault.AlertRecord(a.ID, name)); err == nil {
			out = append(out, v)
		}
	}
	return out
}

func (e *Engine) recordRecovery(run store.RecoveryRun) {
	log := e.o.Log.With("monitor", run.MonitorID, "action", run.Action, "status", run.Status, "exit", run.ExitCode, "duration", run.Duration.Round(time.Millisecond))
	if run.Status == "ok" {
		log.Info("recovery action ran", "output", run.Output)
	} else {
		log.Warn("recovery action failed", "output", run.Output)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.o.Store.RecordRecovery(ctx, run); err != nil {
		e.o.Log.Error("recording a recovery action failed", "monitor", run.MonitorID, "err", err)
	}
}

// recoverSSH runs one recovery over SSH and logs what it did: the exit
// status and output, never the credential's secret.
func (e *Engine) recoverSSH(en *entry, r config.Recovery, timeout time.Duration) {
	run := store.RecoveryRun{MonitorID: en.m.ID, Time: time.Now(), ExitCode: -1,
		Action: "ssh " + r.SSH + " (" + r.Credential + "): " + strings.Join(r.Command, " ")}
	defer func() { e.recordRecovery(run) }()
	cred := en.creds[r.Credential]
	_, addr, err := config.SSHTarget(r.SSH)
	if err == nil && cred == nil {
		err = en.credErrs[r.Credential]
		if err == nil {
			err = fmt.Errorf("no credential is named %q", r.Credential)
		}
	}
	if err != nil {
		run.Status, run.Output = "not_run", err.Error()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := runSSH(ctx, addr, cred, r.Command, e.secretsOf(en))
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
}

// loadCredentials reads the credentials the monitor's recoveries over SSH
// name, and opens their secrets. One that cannot be used is kept as an
// error for when the recovery would run; only a store failure fails.
func (e *Engine) loadCredentials(ctx context.Context, en *entry) error {
	for _, r := range en.spec.Recovery {
		name := r.Credential
		if r.SSH == "" || name == "" || en.creds[name] != nil || en.credErrs[name] != nil {
			continue
		}
		c, version, err := e.credential(ctx, name)
		if err != nil && !errors.Is(err, errUnusable) {
			return fmt.Errorf("monitor %d: %w", en.m.ID, err)
		}
		if en.credSeen == nil {
			en.credSeen = map[string]time.Time{}
		}
		en.credSeen[name] = version
		if err != nil {
			if en.credErrs == nil {
				en.credErrs = map[string]error{}
			}
			en.credErrs[name] = err
			e.o.Log.Warn("recovery credential cannot be used", "monitor", en.m.ID, "credential", name, "err", err)
			continue
		}
		if en.creds == nil {
			en.creds = map[string]*sshCredential{}
		}
		en.creds[name] = c
	}
	return nil
}

// errUnusable marks a credential that is missing or broken, as opposed to
// a store that failed.
var errUnusable = errors.New("credential unusable")

// credential reads and opens the credential name; version is its stored
// version (the zero time when there is none), for credSeen.
func (e *Engine) credential(ctx context.Context, name string) (c *sshCredential, version time.Time, err error) {
	sc, err := e.o.Store.CredentialByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, time.Time{}, fmt.Errorf("%w: no credential is named %q", errUnusable, name)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("credential %s: %w", name, err)
	}
	c, err = e.openCredential(sc)
	return c, sc.Updated, err
}

// openCredential opens a stored credential's secrets and builds it.
func (e *Engine) openCredential(sc *store.Credential) (*sshCredential, error) {
	name := sc.Name
	var spec config.Credential
	if err := json.Unmarshal(sc.Spec, &spec); err != nil {
		return nil, fmt.Errorf("%w: credential %s: spec: %v", errUnusable, name, err)
	}
	spec.Name = sc.Name
	secrets := map[string]string{}
	for _, k := range []string{"password", "key"} {
		if v, ok := sc.Secrets[k]; ok {
			pt, err := e.open(v, vault.CredentialRecord(sc.ID, k))
			if err != nil {
				return nil, fmt.Errorf("%w: credential %s: %s: %v", errUnusable, name, k, err)
			}
			secrets[k] = pt
		}
	}
	c, err := newSSHCredential(spec, secrets["password"], secrets["key"])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnusable, err)
	}
	return c, nil
}
