package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/recovery"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// recover runs a monitor's corrective actions once it went Down
// (internal/recovery), with the credentials it loaded. They run to their
// end even when the daemon stops.
func (e *Engine) recover(ctx context.Context, en *entry) {
	var actions []recovery.Action
	for _, r := range en.recoveries() {
		a := recovery.Action{Command: r.Command, Timeout: r.Timeout.D(), SSH: r.SSH, Credential: r.Credential}
		if r.SSH != "" {
			a.Cred, a.CredErr = en.cred(r.Credential)
		}
		actions = append(actions, a)
	}
	m := recovery.Monitor{ID: en.m.ID, Secrets: e.secretsOf(en), Env: func() []string {
		return alert.Env(alert.Event{Kind: "recovery-action", MonitorID: en.m.ID, Monitor: en.m.Name,
			Device: en.dev().Name, Type: en.m.Type, State: "down", Time: e.o.Now()})
	}}
	e.recovery.Run(context.WithoutCancel(ctx), m, actions)
}

// secretsOf is what the daemon knows that a program's output must not
// show for a monitor: its secrets, those of its recoveries' credentials,
// and the installation's.
func (e *Engine) secretsOf(en *entry) []string {
	out := []string{string(e.o.InstallationKey), string(en.cfg.Password), string(en.cfg.DQSKey)}
	if en.cfg.SMTP != nil {
		out = append(out, string(en.cfg.SMTP.Password))
	}
	if en.x != nil {
		for _, c := range en.x.creds {
			out = append(out, c.Secrets()...)
		}
	}
	return out
}

// monitorSecrets is secretsOf for a monitor this node has loaded; the
// installation's secret alone for another. A command alert's output must
// not show them (alert.Actions).
func (e *Engine) monitorSecrets(id int64) []string {
	e.mu.Lock()
	en := e.monitors[id]
	e.mu.Unlock()
	if en == nil {
		return []string{string(e.o.InstallationKey)}
	}
	return e.secretsOf(en)
}

// loadCredentials reads the credentials that the recoveries over SSH of
// monitor id (x.recovery) name, and opens their secrets, into x. One that
// cannot be used is kept as an error for when the recovery would run;
// only a store failure fails.
func (e *Engine) loadCredentials(ctx context.Context, id int64, en *rare) error {
	for _, r := range en.recovery {
		name := r.Credential
		if r.SSH == "" || name == "" || en.creds[name] != nil || en.credErrs[name] != nil {
			continue
		}
		c, version, err := e.credential(ctx, name)
		if err != nil && !errors.Is(err, errUnusable) {
			return fmt.Errorf("monitor %d: %w", id, err)
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
			e.o.Log.Warn("recovery credential cannot be used", "monitor", id, "credential", name, "err", err)
			continue
		}
		if en.creds == nil {
			en.creds = map[string]*recovery.Credential{}
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
func (e *Engine) credential(ctx context.Context, name string) (c *recovery.Credential, version time.Time, err error) {
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
func (e *Engine) openCredential(sc *store.Credential) (*recovery.Credential, error) {
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
	c, err := recovery.NewCredential(recovery.Login{Name: spec.Name, User: spec.User, KnownHost: spec.KnownHost,
		Password: secrets["password"], Key: secrets["key"]})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnusable, err)
	}
	return c, nil
}
