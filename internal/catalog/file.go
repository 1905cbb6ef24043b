package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// Env resolves the secrets a file gives as {env} or {file}: read on the
// host, by the operator's apply only.
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

// ApplyFile stores a configuration file's credentials, alerts, devices and
// monitors by name, idempotently: what is as stored is left unchanged
// (Result.Changes says "unchanged"). It is the operator's (Origin
// Operator): the file must have passed config.Parse. Secrets that the file
// leaves out keep their stored value; a new monitor that logs in needs its
// password, a new credential its password or key. Every problem is
// reported at once (config.Problems), naming the field, before anything
// is written; then the file is written in transactions of about a
// thousand monitors (filewrite.go).
//
// A stored secret stays when the file points its record at another
// target, and the targets become the operator's again (origin.go).
func (c *Catalog) ApplyFile(ctx context.Context, f *config.File, env Env) (Result, error) {
	env = env.withDefaults()
	k := newKnown(c.Store)
	p, err := resolve(ctx, k, f, env)
	if err != nil {
		return Result{}, err
	}
	return c.write(ctx, k, p)
}

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
func resolve(ctx context.Context, s store.Config, f *config.File, env Env) (*plan, error) {
	var problems config.Problems
	bad := func(field, format string, args ...any) {
		problems = append(problems, config.Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	get := func(field string, sec config.SecretRef, out secrets, name string) {
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
	for i, cr := range f.Credentials {
		path := fmt.Sprintf("credentials[%d]", i)
		pc := plannedCredential{cfg: cr, secrets: secrets{}}
		get(path+".password", cr.Password, pc.secrets, "password")
		if cr.Key.Set() {
			// A PEM key has several lines: its file is read whole.
			key, err := cr.Key.ResolveAll(env.Getenv, env.ReadFile)
			if err != nil {
				bad(path+".key", "%v", err)
			} else if err := checkKey(key); err != nil {
				bad(path+".key", "%v", err)
			} else {
				pc.secrets["key"] = key
			}
		}
		if !cr.Password.Set() && !cr.Key.Set() && !storedCredentialSecret(ctx, s, cr.Name) {
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
			for _, sf := range a.SealedFields()[1:] { // its headers
				get(fmt.Sprintf("alerts[%d].%s", i, sf.Name), sf.Ref, pa.secrets, sf.Name)
			}
		}
		if a.PagerDuty != nil || a.Opsgenie != nil {
			// A key is a secret, as a webhook's URL is.
			for _, sf := range a.SealedFields() {
				field := fmt.Sprintf("alerts[%d].%s", i, sf.Name)
				get(field, sf.Ref, pa.secrets, sf.Name)
				if _, ok := pa.secrets[sf.Name]; !ok && !storedAlertSecret(ctx, s, a.Name, sf.Name) {
					bad(field, "a new %s alert needs its %s", a.Kind(), sf.Name[len(a.Kind())+1:])
				}
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
