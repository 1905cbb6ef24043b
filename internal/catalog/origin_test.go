package catalog

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/vault"
	"golang.org/x/crypto/ssh"
)

// TestOriginRules: the same save, made by the network and by the
// operator, is held to each one's rules, and only to those.
func TestOriginRules(t *testing.T) {
	ctx := context.Background()
	caFile := certs.NewCA(t).File(t)
	imap := func(name string) config.Monitor {
		return config.Monitor{Name: name, Type: "imap", User: "u@example.test", AllowPlaintext: true}
	}
	for _, tc := range []struct {
		name string
		// save makes the change on a catalog whose device dev (10.0.0.1)
		// has the monitor mon (imap, with a password).
		save func(c *Catalog, o Origin, dev *store.Device, mon *store.Monitor) error
		// network is what the network's save gives: nil for none.
		network func(t *testing.T, err error)
		// after checks the stored records after a save that passed.
		after func(t *testing.T, c *Catalog, o Origin, dev *store.Device, mon *store.Monitor)
	}{{
		name: "a command is the operator's",
		save: func(c *Catalog, o Origin, dev *store.Device, _ *store.Monitor) error {
			m := imap("with recovery")
			m.Recovery = []config.Recovery{{Command: []string{"/usr/sbin/postfix", "reload"}}}
			_, _, err := c.SaveMonitor(ctx, o, 0, Monitor{Device: dev.ID, Settings: m, Password: ptr("pw")})
			return err
		},
		network: func(t *testing.T, err error) {
			if fe, ok := Fields(err); !IsOperatorOnly(err) || !ok || len(fe) != 1 || fe[0].Path != "recovery" {
				t.Errorf("the network's recovery command: %v %v", err, fe)
			}
		},
	}, {
		name: "a local path is the operator's",
		save: func(c *Catalog, o Origin, _ *store.Device, _ *store.Monitor) error {
			_, _, err := c.SaveAlert(ctx, o, 0, Alert{Settings: config.Alert{Name: "mail", Email: &config.Email{To: []string{"a@example.test"},
				Relay: config.Leg{Host: "relay.example.test", TLS: "starttls", CA: caFile}}}})
			return err
		},
		network: func(t *testing.T, err error) {
			if fe, _ := Fields(err); !IsOperatorOnly(err) || len(fe) != 1 || fe[0].Path != "email.relay.ca" {
				t.Errorf("the network's CA file: %v %v", err, fe)
			}
		},
	}, {
		name: "addresses outside the egress policy",
		save: func(c *Catalog, o Origin, _ *store.Device, _ *store.Monitor) error {
			_, _, err := c.SaveDevice(ctx, o, 0, Device{Name: "outside", Address: "192.0.2.1"})
			return err
		},
		network: func(t *testing.T, err error) {
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Path != "address" {
				t.Errorf("the network's address outside the policy: %v", err)
			}
		},
		after: func(t *testing.T, c *Catalog, _ Origin, _ *store.Device, _ *store.Monitor) {
			if d, err := c.Store.DeviceByName(ctx, "outside"); err != nil || d.NetworkTarget {
				t.Errorf("the operator's device: %+v %v, want its own target", d, err)
			}
		},
	}, {
		name: "timing within serve's limits",
		save: func(c *Catalog, o Origin, dev *store.Device, _ *store.Monitor) error {
			m := imap("often")
			m.Timing.UpEvery, m.Timing.MaxDuration = config.Duration(2*time.Second), config.Duration(time.Second)
			_, _, err := c.SaveMonitor(ctx, o, 0, Monitor{Device: dev.ID, Settings: m, Password: ptr("pw")})
			return err
		},
		network: func(t *testing.T, err error) {
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Path != "timing.up_every" {
				t.Errorf("the network's test every second: %v %v", err, fe)
			}
		},
	}, {
		name: "a target changed: the network's, its secret dropped",
		save: func(c *Catalog, o Origin, dev *store.Device, mon *store.Monitor) error {
			m := imap(mon.Name)
			m.Port = 1143
			_, res, err := c.SaveMonitor(ctx, o, mon.ID, Monitor{Device: dev.ID, Settings: m})
			if got := res.DroppedFrom("monitor", mon.ID); err == nil && (o == admin) != slices.Equal(got, []string{"password"}) {
				t.Errorf("%v's save dropped %v", o, got)
			}
			return err
		},
		after: func(t *testing.T, c *Catalog, o Origin, _ *store.Device, mon *store.Monitor) {
			m, _ := c.Store.Monitor(ctx, mon.ID)
			if _, kept := m.Secrets["password"]; kept != (o == Operator) || m.NetworkTarget != (o == admin) {
				t.Errorf("%v's change of port: password kept %v, network target %v", o, kept, m.NetworkTarget)
			}
		},
	}, {
		name: "an address changed: its monitors' secrets dropped",
		save: func(c *Catalog, o Origin, dev *store.Device, mon *store.Monitor) error {
			_, res, err := c.SaveDevice(ctx, o, dev.ID, Device{Name: dev.Name, Address: "10.0.0.9"})
			want := []Drop(nil)
			if o == admin {
				want = []Drop{{Kind: "monitor", ID: mon.ID, Name: mon.Name, Secrets: []string{"password"}}}
			}
			if err == nil && !slices.EqualFunc(res.Dropped, want, func(a, b Drop) bool {
				return a.Kind == b.Kind && a.ID == b.ID && a.Name == b.Name && slices.Equal(a.Secrets, b.Secrets)
			}) {
				t.Errorf("%v's address change dropped %+v, want %+v", o, res.Dropped, want)
			}
			return err
		},
		after: func(t *testing.T, c *Catalog, o Origin, dev *store.Device, mon *store.Monitor) {
			m, _ := c.Store.Monitor(ctx, mon.ID)
			d, _ := c.Store.Device(ctx, dev.ID)
			if _, kept := m.Secrets["password"]; kept != (o == Operator) || d.NetworkTarget != (o == admin) {
				t.Errorf("%v's address change: password kept %v, network target %v", o, kept, d.NetworkTarget)
			}
		},
	}} {
		for _, o := range []Origin{admin, Operator} {
			t.Run(tc.name+"/"+o.String(), func(t *testing.T) {
				c := newCatalog(t)
				dev, _, err := c.SaveDevice(ctx, Operator, 0, Device{Name: "mail1", Address: "10.0.0.1"})
				if err != nil {
					t.Fatal(err)
				}
				mon, _, err := c.SaveMonitor(ctx, Operator, 0, Monitor{Device: dev.ID, Settings: imap("inbox"), Password: ptr("Mailb0xPassw0rd")})
				if err != nil {
					t.Fatal(err)
				}
				err = tc.save(c, o, dev, mon)
				switch {
				case o == admin && tc.network != nil:
					tc.network(t, err)
					return
				case err != nil:
					fe, _ := Fields(err)
					t.Fatalf("%v's save: %v %v", o, err, fe)
				}
				if tc.after != nil {
					tc.after(t, c, o, dev, mon)
				}
			})
		}
	}
}

// recorder is a Reloader that notes what it is told.
type recorder struct {
	monitors    []int64
	credentials []string
}

func (r *recorder) Reload(_ context.Context, id int64) error {
	r.monitors = append(r.monitors, id)
	return nil
}

func (r *recorder) ReloadCredentials(_ context.Context, names ...string) error {
	r.credentials = append(r.credentials, names...)
	return nil
}

// TestResultSaysWhatChanged: each write returns the records it changed and
// what the engine must read again, so that the API, the web UI and apply
// report and reload alike.
func TestResultSaysWhatChanged(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	tell := func(res Result) *recorder {
		t.Helper()
		r := &recorder{}
		if err := res.Tell(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	changes := func(res Result) []Change { return res.Changes }
	res := c.applyYAML(t, `
devices:
  - name: mail1
    address: 10.0.0.1
    monitors:
      - {name: smtp, type: smtp}
      - {name: tcp, type: tcp, port: 25}
`, nil)
	d, _ := c.Store.DeviceByName(ctx, "mail1")
	smtp, _ := c.Store.MonitorByName(ctx, d.ID, "smtp")
	tcp, _ := c.Store.MonitorByName(ctx, d.ID, "tcp")
	if want := []Change{{"device", "mail1", "created", d.ID}, {"monitor", "mail1/smtp", "created", smtp.ID}, {"monitor", "mail1/tcp", "created", tcp.ID}}; !slices.Equal(changes(res), want) {
		t.Errorf("apply: %+v, want %+v", res.Changes, want)
	}

	_, res, err := c.SaveDevice(ctx, admin, d.ID, Device{Name: "mail1", Address: "10.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	if r := tell(res); !slices.Equal(r.monitors, []int64{smtp.ID, tcp.ID}) || res.Changes[0] != (Change{"device", "mail1", "updated", d.ID}) {
		t.Errorf("a device's change reloads %v (%+v), want both its monitors", r.monitors, res.Changes)
	}

	_, res, err = c.SaveMonitor(ctx, admin, tcp.ID, Monitor{Device: d.ID, Settings: config.Monitor{Name: "tcp", Type: "tcp", Port: 587}})
	if err != nil {
		t.Fatal(err)
	}
	if r := tell(res); !slices.Equal(r.monitors, []int64{tcp.ID}) || res.Changes[0] != (Change{"monitor", "mail1/tcp", "updated", tcp.ID}) {
		t.Errorf("a monitor's change: %v %+v", r.monitors, res.Changes)
	}

	cr, res, err := c.SaveCredential(ctx, admin, 0, Credential{Name: "root", User: "root",
		KnownHost: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", Password: ptr("pw")})
	if err != nil {
		t.Fatal(err)
	}
	if r := tell(res); !slices.Equal(r.credentials, []string{"root", "root"}) {
		t.Errorf("a new credential reloads the monitors of %v", r.credentials)
	}
	_, res, err = c.SaveCredential(ctx, admin, cr.ID, Credential{Name: "admin", User: "root", KnownHost: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"})
	if err != nil {
		t.Fatal(err)
	}
	if r := tell(res); !slices.Equal(r.credentials, []string{"root", "admin"}) {
		t.Errorf("a renamed credential reloads the monitors of %v, want its old and new names", r.credentials)
	}
	if res, err = c.DeleteCredential(ctx, admin, cr.ID); err != nil || !slices.Equal(tell(res).credentials, []string{"admin"}) {
		t.Errorf("a deleted credential: %+v %v", res, err)
	}

	res, err = c.DeleteMonitor(ctx, admin, smtp.ID)
	if err != nil || !slices.Equal(tell(res).monitors, []int64{smtp.ID}) || res.Changes[0].Action != "deleted" {
		t.Errorf("a deleted monitor: %+v %v", res, err)
	}
	res, err = c.DeleteDevice(ctx, admin, d.ID)
	if err != nil || !slices.Equal(tell(res).monitors, []int64{tcp.ID}) {
		t.Errorf("a deleted device reloads %+v %v, want its monitor", res, err)
	}
	if _, err := c.Store.Monitor(ctx, tcp.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted device's monitor: %v", err)
	}
}

// TestDeviceNameTaken: a device renamed to another's name is refused
// before anything is written: its monitors keep their secrets.
func TestDeviceNameTaken(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	a, _, _ := c.SaveDevice(ctx, admin, 0, Device{Name: "a", Address: "10.0.0.1"})
	b, _, err := c.SaveDevice(ctx, admin, 0, Device{Name: "b", Address: "10.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := c.SaveMonitor(ctx, admin, 0, Monitor{Device: b.ID, Settings: config.Monitor{Name: "in", Type: "pop3", User: "u", AllowPlaintext: true},
		Password: ptr("pw")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.SaveDevice(ctx, admin, b.ID, Device{Name: a.Name, Address: "10.0.0.3"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a taken name: %v", err)
	}
	if got, _ := c.Store.Monitor(ctx, m.ID); c.open(t, got.Secrets, "password", vault.MonitorRecord(m.ID, "password")) != "pw" {
		t.Error("a refused rename dropped the monitor's password")
	}
	if _, _, err := c.SaveMonitor(ctx, admin, 0, Monitor{Device: b.ID, Settings: config.Monitor{Name: "in", Type: "tcp", Port: 25}}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a monitor's taken name: %v", err)
	}
}

// TestAlertsByNameAndWebhookSealed: a monitor's alerts are given by name or
// id; a webhook's URL is sealed, never in its settings, and shown by its
// origin only.
func TestAlertsByNameAndWebhookSealed(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	const url = "https://hooks.example.test/services/s3cret"
	a, _, err := c.SaveAlert(ctx, admin, 0, Alert{Settings: config.Alert{Name: "ops", Webhook: &config.Webhook{URL: config.SecretRef{Value: url}}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(a.Spec), "s3cret") || c.open(t, a.Secrets, "webhook.url", vault.AlertRecord(a.ID, "webhook.url")) != url {
		t.Errorf("the webhook: %s %v", a.Spec, a.Secrets)
	}
	if got := WebhookOrigin(c.Vault, a); got != "https://hooks.example.test" {
		t.Errorf("origin %q", got)
	}
	// Saved again without its URL, it keeps it.
	a, _, err = c.SaveAlert(ctx, admin, a.ID, Alert{Settings: config.Alert{Name: "ops", Webhook: &config.Webhook{Format: "slack"}}})
	if err != nil || WebhookURL(c.Vault, a) != url {
		t.Errorf("an edit without the URL: %v", err)
	}

	d, _, _ := c.SaveDevice(ctx, admin, 0, Device{Name: "mail1", Address: "10.0.0.1"})
	m, _, err := c.SaveMonitor(ctx, admin, 0, Monitor{Device: d.ID, Settings: config.Monitor{Name: "smtp", Type: "smtp",
		Notify: config.Notify{Alerts: []string{"ops"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := c.Store.MonitorAlerts(ctx, m.ID); !slices.Equal(ids, []int64{a.ID}) {
		t.Errorf("alerts by name linked %v", ids)
	}
	_, _, err = c.SaveMonitor(ctx, admin, m.ID, Monitor{Device: d.ID, Settings: config.Monitor{Name: "smtp", Type: "smtp",
		Notify: config.Notify{Alerts: []string{"nobody"}}}})
	if fe, _ := Fields(err); len(fe) != 1 || fe[0].Path != "notify.alerts[0]" {
		t.Errorf("an unknown alert's name: %v", err)
	}
}

// TestCredentialHoldsOne: a credential holds a password or a key: a new one
// replaces the other, and of both sent at once the key is kept.
func TestCredentialHoldsOne(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	key := testKey(t)
	const host = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	cr, _, err := c.SaveCredential(ctx, admin, 0, Credential{Name: "ops", User: "root", KnownHost: host, Password: ptr("pw"), Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	if _, pw := cr.Secrets["password"]; pw || c.open(t, cr.Secrets, "key", vault.CredentialRecord(cr.ID, "key")) != key {
		t.Errorf("both sent: %v, want the key alone", cr.Secrets)
	}
	cr, _, err = c.SaveCredential(ctx, admin, cr.ID, Credential{Name: "ops", User: "root", KnownHost: host, Password: ptr("pw2")})
	if err != nil {
		t.Fatal(err)
	}
	if _, k := cr.Secrets["key"]; k || c.open(t, cr.Secrets, "password", vault.CredentialRecord(cr.ID, "password")) != "pw2" {
		t.Errorf("a password sent: %v, want it alone", cr.Secrets)
	}
}

func testKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(b))
}
