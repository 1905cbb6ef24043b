package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
)

// Env resolves the secrets a file gives as {env} or {file}: read on the
// host, by the operator's apply only.
type Env struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
	// Operator names who applies, for the audit log (the login on the
	// host; "" says "operator").
	Operator string
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
	o := Operator
	if env.Operator != "" {
		o = Operator.As(Actor{Name: env.Operator})
	}
	return c.write(ctx, o, k, p)
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
	cfg     *config.Monitor // the file's, not a copy: at 100,000 monitors a copy cost 84 MB
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
	statusPages []config.StatusPage
}

// resolve reads every secret and checks that each monitor that logs in has
// one, in the file or in the store.
func resolve(ctx context.Context, s store.Config, f *config.File, env Env) (*plan, error) {
	var problems config.Problems
	bad := func(field, format string, args ...any) {
		problems = append(problems, config.Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	// unset: a placeholder of an export whose variable is not set. The
	// stored secret stays; a new object needs the variable.
	unset := func(sec config.SecretRef) bool { return sec.IsPlaceholder() && env.Getenv(sec.Env) == "" }
	given := func(sec config.SecretRef) bool { return sec.Set() && !unset(sec) }
	missing := func(field string, sec config.SecretRef, msg string) {
		for _, p := range problems {
			if p.Field == field {
				return // its secret could not be read: that is said already
			}
		}
		if unset(sec) {
			msg = fmt.Sprintf("environment variable %s is not set, and no secret is stored yet: set it to the secret (mailmon export writes this placeholder for it)", sec.Env)
		}
		bad(field, "%s", msg)
	}
	get := func(field string, sec config.SecretRef, out secrets, name string) {
		if !given(sec) {
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
		if given(cr.Key) {
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
		if !given(cr.Password) && !given(cr.Key) && !storedCredentialSecret(ctx, s, cr.Name) {
			field, sec := path+".password", cr.Password
			if cr.Key.Set() {
				field, sec = path+".key", cr.Key
			}
			missing(field, sec, "a new credential needs a password or a key")
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
				missing(field, a.Webhook.URL, "a new webhook needs its url")
			}
			for _, sf := range a.SealedFields()[1:] { // its headers
				field := fmt.Sprintf("alerts[%d].%s", i, sf.Name)
				get(field, sf.Ref, pa.secrets, sf.Name)
				if unset(sf.Ref) && !storedAlertSecret(ctx, s, a.Name, sf.Name) {
					missing(field, sf.Ref, "")
				}
			}
		}
		if a.PagerDuty != nil || a.Opsgenie != nil {
			// A key is a secret, as a webhook's URL is.
			for _, sf := range a.SealedFields() {
				field := fmt.Sprintf("alerts[%d].%s", i, sf.Name)
				get(field, sf.Ref, pa.secrets, sf.Name)
				if _, ok := pa.secrets[sf.Name]; !ok && !storedAlertSecret(ctx, s, a.Name, sf.Name) {
					missing(field, sf.Ref, fmt.Sprintf("a new %s alert needs its %s", a.Kind(), sf.Name[len(a.Kind())+1:]))
				}
			}
		}
		if a.IsChannel() {
			// A channel's URL is a secret, as a webhook's is.
			field := fmt.Sprintf("alerts[%d].url", i)
			get(field, a.URL, pa.secrets, "url")
			switch u, ok := pa.secrets["url"]; {
			case ok:
				if _, err := config.CheckChannelURL(u); err != nil {
					bad(field, "%v", err)
				}
				pa.cfg.SetService(u)
			case !storedAlertSecret(ctx, s, a.Name, "url"):
				missing(field, a.URL, "a new url alert needs its url")
			}
		}
		if a.Email != nil {
			get(fmt.Sprintf("alerts[%d].email.relay.password", i), a.Email.Relay.Password, pa.secrets, "relay.password")
			if a.Email.Relay.User != "" && pa.secrets["relay.password"] == "" && !storedAlertSecret(ctx, s, a.Name, "relay.password") {
				missing(fmt.Sprintf("alerts[%d].email.relay.password", i), a.Email.Relay.Password, "is required when user is set")
			}
		}
		p.alerts = append(p.alerts, pa)
	}
	for i, d := range f.Devices {
		pd := plannedDevice{cfg: d}
		for j := range d.Monitors {
			m := &d.Monitors[j]
			path := fmt.Sprintf("devices[%d].monitors[%d]", i, j)
			pm := plannedMonitor{cfg: m, secrets: secrets{}}
			get(path+".password", m.Password, pm.secrets, "password")
			if m.SMTP != nil {
				get(path+".smtp.password", m.SMTP.Password, pm.secrets, "smtp.password")
				if m.SMTP.OAuth != nil {
					get(path+".smtp.oauth.client_secret", m.SMTP.OAuth.ClientSecret, pm.secrets, config.SecretSMTPOAuthClient)
					get(path+".smtp.oauth.refresh_token", m.SMTP.OAuth.RefreshToken, pm.secrets, config.SecretSMTPOAuthRefresh)
					get(path+".smtp.oauth.service_account_key", m.SMTP.OAuth.ServiceAccountKey, pm.secrets, config.SecretSMTPOAuthSAKey)
				}
			}
			get(path+".dqs_key", m.DQSKey, pm.secrets, config.SecretDQSKey)
			if key, ok := pm.secrets[config.SecretDQSKey]; ok && m.DQSKey.Value == "" { // a literal was checked with the file
				if msg := probe.CheckDQSKey(key); msg != "" {
					bad(path+".dqs_key", "%s", msg)
				}
			}
			if m.OAuth != nil {
				get(path+".oauth.client_secret", m.OAuth.ClientSecret, pm.secrets, config.SecretOAuthClient)
				get(path+".oauth.refresh_token", m.OAuth.RefreshToken, pm.secrets, config.SecretOAuthRefresh)
				get(path+".oauth.service_account_key", m.OAuth.ServiceAccountKey, pm.secrets, config.SecretOAuthSAKey)
			}
			const whenUser = "is required when user is set"
			need := []neededSecret{
				{"password", m.Password, m.User != "" && m.OAuthTokenFile == "" && len(m.OAuthTokenCommand) == 0 && m.OAuth == nil, whenUser},
				{"smtp.password", config.SecretRef{}, m.SMTP != nil && m.SMTP.User != "", whenUser},
				// optional, but an export's placeholder stands for one that was set
				{config.SecretDQSKey, m.DQSKey, m.DQSKey.IsPlaceholder(), "is the DQS key the exported monitor had"},
			}
			if m.SMTP != nil {
				need[1].sec = m.SMTP.Password
			}
			have := func(n string) bool { return pm.secrets[n] != "" || storedMonitorSecret(ctx, s, d.Name, m.Name, n) }
			need = append(need, oauthNeeds(m.OAuth, "", have)...)
			if m.SMTP != nil {
				need = append(need, oauthNeeds(m.SMTP.OAuth, "smtp", have)...)
			}
			for _, n := range need {
				if given(n.sec) {
					continue // read above, or its problem told there
				}
				if n.required && pm.secrets[n.name] == "" && !storedMonitorSecret(ctx, s, d.Name, m.Name, n.name) {
					missing(path+"."+n.name, n.sec, n.why)
				}
			}
			if len(pm.secrets) == 0 {
				pm.secrets = nil // most monitors have none: 100 bytes each kept otherwise
			}
			pd.monitors = append(pd.monitors, pm)
		}
		p.devices = append(p.devices, pd)
	}
	pages, err := checkStatusPages(ctx, s, f)
	if err != nil {
		return nil, err
	}
	problems = append(problems, pages...)
	p.statusPages = f.StatusPages
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
