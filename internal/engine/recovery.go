package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
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
		ev := alert.Event{Kind: "recovery-action", MonitorID: en.m.ID, Monitor: en.m.Name, Device: en.device.Name, Type: en.m.Type, State: "down", Time: e.o.Now()}
		err := (&alert.Command{Argv: r.Command, Timeout: timeout}).Notify(context.Background(), ev)
		if err != nil {
			e.o.Log.Warn("recovery action failed", "monitor", en.m.ID, "command", r.Command[0], "err", err)
		} else {
			e.o.Log.Info("recovery action ran", "monitor", en.m.ID, "command", r.Command[0])
		}
	}
}

// recoverSSH runs one recovery over SSH and logs what it did: the exit
// status and output, never the credential's secret.
func (e *Engine) recoverSSH(en *entry, r config.Recovery, timeout time.Duration) {
	log := e.o.Log.With("monitor", en.m.ID, "ssh", r.SSH, "credential", r.Credential, "command", r.Command[0])
	cred := en.creds[r.Credential]
	_, addr, err := config.SSHTarget(r.SSH)
	if err == nil && cred == nil {
		err = en.credErrs[r.Credential]
		if err == nil {
			err = fmt.Errorf("no credential is named %q", r.Credential)
		}
	}
	if err != nil {
		log.Warn("recovery action not run", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	res, err := runSSH(ctx, addr, cred, r.Command)
	log = log.With("duration", time.Since(start).Round(time.Millisecond))
	switch {
	case err != nil && res != nil:
		log.Warn("recovery action failed", "err", err, "output", res.Output)
	case err != nil:
		log.Warn("recovery action failed", "err", err)
	case res.Status != 0:
		log.Warn("recovery action failed", "status", res.Status, "output", res.Output)
	default:
		log.Info("recovery action ran", "status", 0, "output", res.Output)
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
		c, err := e.credential(ctx, name)
		if err != nil && !errors.Is(err, errUnusable) {
			return fmt.Errorf("monitor %d: %w", en.m.ID, err)
		}
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

func (e *Engine) credential(ctx context.Context, name string) (*sshCredential, error) {
	sc, err := e.o.Store.CredentialByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no credential is named %q", errUnusable, name)
	}
	if err != nil {
		return nil, fmt.Errorf("credential %s: %w", name, err)
	}
	var spec config.Credential
	if err := json.Unmarshal(sc.Spec, &spec); err != nil {
		return nil, fmt.Errorf("%w: credential %s: spec: %v", errUnusable, name, err)
	}
	spec.Name = sc.Name
	secrets := map[string]string{}
	for _, k := range []string{"password", "key"} {
		if v, ok := sc.Secrets[k]; ok {
			pt, err := e.open(v, CredentialRecord(sc.ID, k))
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
