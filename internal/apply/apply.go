// Package apply brings the store in line with a configuration file
// ("mailmon apply -f"): credentials, devices, monitors and alerts are created or updated
// by name, idempotently, secrets sealed with the vault; and writes the store
// back out as a configuration ("mailmon export"), secrets left out.
package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Change is what happened to one object.
type Change struct {
	Kind   string // credential, device, monitor, alert
	Name   string // mail1, mail1/SMTP, ops
	Action string // created, updated, unchanged
	ID     int64
}

// Report lists what an apply did.
type Report []Change

// Env resolves secrets given as {env} or {file}.
type Env struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
}

func (e Env) withDefaults() Env {
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if e.ReadFile == nil {
		e.ReadFile = os.ReadFile
	}
	return e
}

// Apply stores the file's credentials, alerts, devices and monitors. The
// file must have passed config.Parse. Secrets that the file leaves out keep
// their stored value; a new monitor that logs in needs its password, a new
// credential its password or key. Every problem is reported at once,
// naming the field, before anything is written; then the file is written
// in transactions of about a thousand monitors (write.go).
//
// Unlike the API and the web UI (internal/secretbind), apply keeps a stored
// secret when the file points its record at another target: apply is the
// operator's channel, run on the host with the database and the storage
// key, and whoever holds both can open every secret anyway, so sending one
// elsewhere gives them nothing they could not take. An exported file, which
// has no secrets, must apply back without losing them.
func Apply(ctx context.Context, s store.Store, v *vault.Vault, f *config.File, env Env) (Report, error) {
	env = env.withDefaults()
	k := newKnown(s)
	plan, err := resolve(ctx, k, v, f, env)
	if err != nil {
		return nil, err
	}
	return write(ctx, s, k, v, plan)
}

type secrets map[string]string // name → value in the clear

type plannedCredential struct {
	cfg     config.Credential
	secrets secrets
}

type plannedAlert struct {
	cfg     config.Alert
	secrets secrets
}

type plannedMonitor struct {
	cfg     config.Monitor
	secrets secrets
}

type plannedDevice struct {
	cfg      config.Device
	monitors []plannedMonitor
}

type plan struct {
	credentials []plannedCredential
	alerts      []plannedAlert
	devices     []plannedDevice
}

// resolve reads every secret and checks that each monitor that logs in has
// one, in the file or in the store.
func resolve(ctx context.Context, s store.Config, v *vault.Vault, f *config.File, env Env) (*plan, error) {
	var problems config.Problems
	bad := func(field, format string, args ...any) {
		problems = append(problems, config.Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	get := func(field string, sec config.Secret, out secrets, name string) {
		if !sec.Set() {
			return
		}
		val, err := sec.Resolve(env.Getenv, env.ReadFile)
		if err != nil {
			bad(field, "%v", err)
			return
		}
		out[name] = val
	}
	p := &plan{}
	for i, c := range f.Credentials {
		path := fmt.Sprintf("credentials[%d]", i)
		pc := plannedCredential{cfg: c, secrets: secrets{}}
		get(path+".password", c.Password, pc.secrets, "password")
		if c.Key.Set() {
			// A PEM key has several lines: its file is read whole.
			key, err := c.Key.ResolveAll(env.Getenv, env.ReadFile)
			if err != nil {
				bad(path+".key", "%v", err)
			} else if err := checkKey(key); err != nil {
				bad(path+".key", "%v", err)
			} else {
				pc.secrets["key"] = key
			}
		}
		if !c.Password.Set() && !c.Key.Set() && !storedCredentialSecret(ctx, s, c.Name) {
			bad(path+".password", "a new credential needs a password or a key")
		}
		p.credentials = append(p.credentials, pc)
	}
	for i, a := range f.Alerts {
		pa := plannedAlert{cfg: a, secrets: secrets{}}
		if a.Webhook != nil {
			// The URL is a secret: sealed, never exported; a file without
			// one (an export) keeps the stored one.
			field := fmt.Sprintf("alerts[%d].webhook.url", i)
			get(field, a.Webhook.URL, pa.secrets, "webhook.url")
			switch u, ok := pa.secrets["webhook.url"]; {
			case ok:
				if err := config.CheckWebhookURL(u); err != nil {
					bad(field, "%v", err)
				}
			case !storedAlertSecret(ctx, s, a.Name, "webhook.url"):
				bad(field, "a new webhook needs its url")
			}
		}
		if a.Email != nil {
			get(fmt.Sprintf("alerts[%d].email.relay.password", i), a.Email.Relay.Password, pa.secrets, "relay.password")
			if a.Email.Relay.User != "" && pa.secrets["relay.password"] == "" && !storedAlertSecret(ctx, s, a.Name, "relay.password") {
				bad(fmt.Sprintf("alerts[%d].email.relay.password", i), "is required when user is set")
			}
		}
		p.alerts = append(p.alerts, pa)
	}
	for i, d := range f.Devices {
		pd := plannedDevice{cfg: d}
		for j, m := range d.Monitors {
			path := fmt.Sprintf("devices[%d].monitors[%d]", i, j)
			pm := plannedMonitor{cfg: m, secrets: secrets{}}
			get(path+".password", m.Password, pm.secrets, "password")
			if m.SMTP != nil {
				get(path+".smtp.password", m.SMTP.Password, pm.secrets, "smtp.password")
			}
			need := map[string]bool{"password": m.User != "" && m.OAuthTokenFile == "" && len(m.OAuthTokenCommand) == 0,
				"smtp.password": m.SMTP != nil && m.SMTP.User != ""}
			for name, required := range need {
				if required && pm.secrets[name] == "" && !storedMonitorSecret(ctx, s, d.Name, m.Name, name) {
					bad(path+"."+name, "is required when user is set")
				}
			}
			pd.monitors = append(pd.monitors, pm)
		}
		p.devices = append(p.devices, pd)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return p, nil
}

// checkKey says whether a private key can be used, without quoting it.
func checkKey(pemKey string) error {
	_, err := ssh.ParsePrivateKey([]byte(pemKey))
	var pm *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &pm):
		return errors.New("the key is encrypted with a passphrase, which is not supported")
	case err != nil:
		return fmt.Errorf("not a PEM private key: %v", err)
	}
	return nil
}

func storedCredentialSecret(ctx context.Context, s store.Config, name string) bool {
	c, err := s.CredentialByName(ctx, name)
	return err == nil && (c.Secrets["password"] != "" || c.Secrets["key"] != "")
}

func storedAlertSecret(ctx context.Context, s store.Config, name, secret string) bool {
	a, err := s.AlertByName(ctx, name)
	return err == nil && a.Secrets[secret] != ""
}

func storedMonitorSecret(ctx context.Context, s store.Config, device, monitor, secret string) bool {
	d, err := s.DeviceByName(ctx, device)
	if err != nil {
		return false
	}
	m, err := s.MonitorByName(ctx, d.ID, monitor)
	return err == nil && m.Secrets[secret] != ""
}

// putCredential stores a credential by name. It holds a password or a key,
// never both: giving one drops the other.
func putCredential(ctx context.Context, s store.Config, v *vault.Vault, pc plannedCredential) (Change, error) {
	spec, err := json.Marshal(pc.cfg)
	if err != nil {
		return Change{}, err
	}
	ch := Change{Kind: "credential", Name: pc.cfg.Name}
	c, err := s.CredentialByName(ctx, pc.cfg.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Created first, secrets after: they are sealed under its ID.
		c = &store.Credential{Name: pc.cfg.Name, Spec: spec, Secrets: map[string]string{}}
		if err := s.PutCredential(ctx, c); err != nil {
			return ch, err
		}
		ch.Action = "created"
	case err != nil:
		return ch, err
	default:
		ch.Action = "unchanged"
		if !sameJSON(c.Spec, spec) {
			c.Spec, ch.Action = spec, "updated"
		}
	}
	if c.Secrets == nil {
		c.Secrets = map[string]string{}
	}
	changed := false
	for given, other := range map[string]string{"password": "key", "key": "password"} {
		if _, ok := pc.secrets[given]; ok {
			if _, had := c.Secrets[other]; had {
				delete(c.Secrets, other)
				changed = true
			}
		}
	}
	sealed, err := seal(v, c.Secrets, pc.secrets, func(name string) string { return vault.CredentialRecord(c.ID, name) })
	if err != nil {
		return ch, err
	}
	changed = changed || sealed
	if changed && ch.Action == "unchanged" {
		ch.Action = "updated"
	}
	if ch.Action == "updated" || changed {
		if err := s.PutCredential(ctx, c); err != nil {
			return ch, err
		}
	}
	ch.ID = c.ID
	return ch, nil
}

func putAlert(ctx context.Context, s store.Config, v *vault.Vault, pa plannedAlert) (Change, int64, error) {
	spec, err := json.Marshal(pa.cfg)
	if err != nil {
		return Change{}, 0, err
	}
	ch := Change{Kind: "alert", Name: pa.cfg.Name}
	a, err := s.AlertByName(ctx, pa.cfg.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a = &store.Alert{Name: pa.cfg.Name, Kind: pa.cfg.Kind(), Spec: spec, Secrets: map[string]string{}}
		if err := s.PutAlert(ctx, a); err != nil {
			return ch, 0, err
		}
		ch.Action = "created"
	case err != nil:
		return ch, 0, err
	default:
		ch.Action = "unchanged"
		// A webhook URL the file leaves out (an export) is kept as stored,
		// and so is whose it is: one set over the network stays held to
		// the egress policy.
		_, urlGiven := pa.secrets["webhook.url"]
		network := a.NetworkTarget && a.Kind == "webhook" && pa.cfg.Webhook != nil && !urlGiven
		if a.Kind != pa.cfg.Kind() || !sameJSON(a.Spec, spec) || a.NetworkTarget != network {
			a.Kind, a.Spec, a.NetworkTarget, ch.Action = pa.cfg.Kind(), spec, network, "updated"
		}
	}
	changed, err := seal(v, a.Secrets, pa.secrets, func(name string) string { return vault.AlertRecord(a.ID, name) })
	if err != nil {
		return ch, 0, err
	}
	if changed && ch.Action == "unchanged" {
		ch.Action = "updated"
	}
	if ch.Action != "unchanged" || changed {
		if err := s.PutAlert(ctx, a); err != nil {
			return ch, 0, err
		}
	}
	ch.ID = a.ID
	return ch, a.ID, nil
}

func putDevice(ctx context.Context, s store.Config, d config.Device) (Change, int64, error) {
	ch := Change{Kind: "device", Name: d.Name}
	dev, err := s.DeviceByName(ctx, d.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		dev = &store.Device{Name: d.Name, Address: d.Address}
		ch.Action = "created"
	case err != nil:
		return ch, 0, err
	case dev.Address == d.Address && !dev.NetworkTarget:
		ch.Action, ch.ID = "unchanged", dev.ID
		return ch, dev.ID, nil
	default:
		// The file's address is the operator's, even if it is the one set
		// over the network (internal/egress).
		dev.Address, dev.NetworkTarget, ch.Action = d.Address, false, "updated"
	}
	if err := s.PutDevice(ctx, dev); err != nil {
		return ch, 0, err
	}
	ch.ID = dev.ID
	return ch, dev.ID, nil
}

func putMonitor(ctx context.Context, s store.Config, v *vault.Vault, devID int64, devName string, pm plannedMonitor, alertIDs map[string]int64) (Change, error) {
	spec, err := json.Marshal(pm.cfg)
	if err != nil {
		return Change{}, err
	}
	ch := Change{Kind: "monitor", Name: devName + "/" + pm.cfg.Name}
	m, err := s.MonitorByName(ctx, devID, pm.cfg.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		m = &store.Monitor{DeviceID: devID, Name: pm.cfg.Name, Type: pm.cfg.Type, Enabled: pm.cfg.IsEnabled(), Spec: spec, Secrets: map[string]string{}}
		if err := s.PutMonitor(ctx, m); err != nil {
			return ch, err
		}
		ch.Action = "created"
	case err != nil:
		return ch, err
	default:
		ch.Action = "unchanged"
		if m.Type != pm.cfg.Type || m.Enabled != pm.cfg.IsEnabled() || !sameJSON(m.Spec, spec) || m.NetworkTarget {
			m.Type, m.Enabled, m.Spec, m.NetworkTarget, ch.Action = pm.cfg.Type, pm.cfg.IsEnabled(), spec, false, "updated"
		}
	}
	changed, err := seal(v, m.Secrets, pm.secrets, func(name string) string { return vault.MonitorRecord(m.ID, name) })
	if err != nil {
		return ch, err
	}
	if changed && ch.Action == "unchanged" {
		ch.Action = "updated"
	}
	if ch.Action == "updated" || changed {
		if err := s.PutMonitor(ctx, m); err != nil {
			return ch, err
		}
	}
	var ids []int64
	for _, name := range pm.cfg.Notify.Alerts {
		ids = append(ids, alertIDs[name])
	}
	slices.Sort(ids)
	old, err := s.MonitorAlerts(ctx, m.ID)
	if err != nil {
		return ch, err
	}
	if !slices.Equal(old, slices.Compact(ids)) {
		if err := s.SetMonitorAlerts(ctx, m.ID, ids); err != nil {
			return ch, err
		}
		if ch.Action == "unchanged" {
			ch.Action = "updated"
		}
	}
	ch.ID = m.ID
	return ch, nil
}

// seal stores the given secrets in sealed, re-sealing only those whose
// value changed (so that applying the same file twice changes nothing).
func seal(v *vault.Vault, sealed map[string]string, clear secrets, record func(string) string) (bool, error) {
	changed := false
	for name, val := range clear {
		if old, ok := sealed[name]; ok {
			if pt, err := v.Open(old, record(name)); err == nil && string(pt) == val {
				continue
			}
		}
		s, err := v.Seal([]byte(val), record(name))
		if err != nil {
			return false, err
		}
		sealed[name] = s
		changed = true
	}
	return changed, nil
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

// Export reads the store back as a configuration. Secrets are never
// exported; assignments are by name.
func Export(ctx context.Context, s store.Store) (*config.File, error) {
	f := &config.File{}
	for off := 0; ; off += 500 {
		cs, _, err := s.Credentials(ctx, store.Page{Limit: 500, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			var cc config.Credential
			if err := json.Unmarshal(c.Spec, &cc); err != nil {
				return nil, fmt.Errorf("credential %s: %w", c.Name, err)
			}
			cc.Name = c.Name
			f.Credentials = append(f.Credentials, cc)
		}
		if len(cs) < 500 {
			break
		}
	}
	alertNames := map[int64]string{}
	for off := 0; ; off += 500 {
		as, _, err := s.Alerts(ctx, store.Page{Limit: 500, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			var c config.Alert
			if err := json.Unmarshal(a.Spec, &c); err != nil {
				return nil, fmt.Errorf("alert %s: %w", a.Name, err)
			}
			c.Name = a.Name
			alertNames[a.ID] = a.Name
			f.Alerts = append(f.Alerts, c)
		}
		if len(as) < 500 {
			break
		}
	}
	for off := 0; ; off += 500 {
		ds, _, err := s.Devices(ctx, store.Page{Limit: 500, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			cd := config.Device{Name: d.Name, Address: d.Address}
			ms, _, err := s.Monitors(ctx, store.MonitorFilter{DeviceID: d.ID, Page: store.Page{Limit: 100000}})
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				var c config.Monitor
				if err := json.Unmarshal(m.Spec, &c); err != nil {
					return nil, fmt.Errorf("monitor %s/%s: %w", d.Name, m.Name, err)
				}
				c.Name, c.Type = m.Name, m.Type
				if !m.Enabled {
					off := false
					c.Enabled = &off
				}
				ids, err := s.MonitorAlerts(ctx, m.ID)
				if err != nil {
					return nil, err
				}
				c.Notify.Alerts = nil
				for _, id := range ids {
					c.Notify.Alerts = append(c.Notify.Alerts, alertNames[id])
				}
				cd.Monitors = append(cd.Monitors, c)
			}
			f.Devices = append(f.Devices, cd)
		}
		if len(ds) < 500 {
			break
		}
	}
	return f, nil
}
