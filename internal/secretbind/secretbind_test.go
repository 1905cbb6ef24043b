package secretbind

import (
	"crypto/ed25519"
	"crypto/rand"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/config"
)

func TestMonitorDropsOnATargetChange(t *testing.T) {
	base := func() config.Monitor {
		return config.Monitor{Name: "m", Type: "imap-roundtrip", Port: 993, TLS: "implicit", User: "u", Auth: "PLAIN",
			SMTP: &config.Leg{Host: "smtp.example.test", Port: 587, TLS: "starttls", User: "u", Auth: "PLAIN"}}
	}
	cases := []struct {
		name   string
		addr   string
		change func(m *config.Monitor)
		want   []string
	}{
		{"nothing", "", func(*config.Monitor) {}, nil},
		{"the name, timing, ehlo, user", "", func(m *config.Monitor) {
			m.Name, m.EHLO, m.User, m.Timing.UpEvery = "n", "me.example", "v", config.Duration(1e9)
		}, nil},
		{"device address", "evil.example.test", func(*config.Monitor) {}, []string{"password"}},
		{"address case and a final dot", "MAIL.example.test.", func(*config.Monitor) {}, nil},
		{"port", "", func(m *config.Monitor) { m.Port = 143 }, []string{"password"}},
		{"the default port written out", "", func(m *config.Monitor) { m.Port = 0 }, nil},
		{"type", "", func(m *config.Monitor) { m.Type = "pop3-roundtrip" }, []string{"password"}},
		{"tls mode", "", func(m *config.Monitor) { m.TLS = "starttls"; m.Port = 993 }, []string{"password"}},
		{"auth mechanism", "", func(m *config.Monitor) { m.Auth = "LOGIN" }, []string{"password"}},
		{"auth case", "", func(m *config.Monitor) { m.Auth = "plain" }, nil},
		{"insecure on", "", func(m *config.Monitor) { m.Insecure = true }, []string{"password"}},
		{"plaintext on", "", func(m *config.Monitor) { m.AllowPlaintext = true }, []string{"password"}},
		{"ca", "", func(m *config.Monitor) { m.CA = "/etc/other.pem" }, []string{"password"}},
		{"servername", "", func(m *config.Monitor) { m.ServerName = "other.example" }, []string{"password"}},
		{"smtp host", "", func(m *config.Monitor) { m.SMTP.Host = "evil.example.test" }, []string{"smtp.password"}},
		{"smtp port", "", func(m *config.Monitor) { m.SMTP.Port = 25 }, []string{"smtp.password"}},
		{"smtp tls", "", func(m *config.Monitor) { m.SMTP.TLS = "none" }, []string{"smtp.password"}},
		{"smtp auth", "", func(m *config.Monitor) { m.SMTP.Auth = "CRAM-MD5" }, []string{"smtp.password"}},
		{"smtp insecure", "", func(m *config.Monitor) { m.SMTP.InsecureSkipVerify = true }, []string{"smtp.password"}},
		{"smtp plaintext", "", func(m *config.Monitor) { m.SMTP.AllowPlaintextAuth = true }, []string{"smtp.password"}},
		{"smtp leg removed", "", func(m *config.Monitor) { m.SMTP = nil; m.Type = "imap" }, []string{"password", "smtp.password"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := "mail.example.test"
			if c.addr != "" {
				addr = c.addr
			}
			n := base()
			c.change(&n)
			if got := Monitor("mail.example.test", base(), addr, n); !slices.Equal(got, c.want) {
				t.Errorf("drops %v, want %v", got, c.want)
			}
		})
	}
}

func TestMonitorSMTPLegOnTheDeviceAddress(t *testing.T) {
	m := config.Monitor{Name: "m", Type: "pop3-roundtrip", User: "u", SMTP: &config.Leg{User: "u"}}
	if got := Monitor("a.example.test", m, "b.example.test", m); !slices.Equal(got, []string{"password", "smtp.password"}) {
		t.Errorf("a leg without a host of its own follows the device: %v", got)
	}
}

func TestTighteningKeeps(t *testing.T) {
	old := config.Monitor{Name: "m", Type: "imap", User: "u", Insecure: true, AllowPlaintext: true}
	n := old
	n.Insecure, n.AllowPlaintext = false, false
	if got := Monitor("h", old, "h", n); got != nil {
		t.Errorf("turning checks on drops %v", got)
	}
}

func TestAlert(t *testing.T) {
	email := func(change func(*config.Leg)) config.Alert {
		l := config.Leg{Host: "relay.example.test", Port: 587, TLS: "starttls", User: "a", Auth: "PLAIN"}
		if change != nil {
			change(&l)
		}
		return config.Alert{Name: "a", Email: &config.Email{To: []string{"x@example.test"}, Relay: l}}
	}
	hook := config.Alert{Name: "a", Webhook: &config.Webhook{Format: "slack"}}
	cases := []struct {
		name     string
		old, new config.Alert
		want     []string
	}{
		{"same relay, other recipients", email(nil), func() config.Alert { a := email(nil); a.Email.To = []string{"y@example.test"}; return a }(), nil},
		{"relay host", email(nil), email(func(l *config.Leg) { l.Host = "evil.example.test" }), []string{"relay.password"}},
		{"relay port", email(nil), email(func(l *config.Leg) { l.Port = 2525 }), []string{"relay.password"}},
		{"relay tls", email(nil), email(func(l *config.Leg) { l.TLS = "none" }), []string{"relay.password"}},
		{"relay auth", email(nil), email(func(l *config.Leg) { l.Auth = "LOGIN" }), []string{"relay.password"}},
		{"relay insecure", email(nil), email(func(l *config.Leg) { l.InsecureSkipVerify = true }), []string{"relay.password"}},
		{"email to webhook", email(nil), hook, []string{"relay.password"}},
		{"webhook to email", hook, email(nil), []string{"webhook.url"}},
		{"webhook format", hook, config.Alert{Name: "a", Webhook: &config.Webhook{Format: "teams"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Alert(c.old, c.new); !slices.Equal(got, c.want) {
				t.Errorf("drops %v, want %v", got, c.want)
			}
		})
	}
}

func TestCredential(t *testing.T) {
	key := func() string {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		k, _ := ssh.NewPublicKey(pub)
		return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	}
	k1, k2 := key(), key()
	old := config.Credential{Name: "c", User: "root", KnownHost: k1}
	for _, c := range []struct {
		name string
		new  config.Credential
		want []string
	}{
		{"same", old, nil},
		{"user", config.Credential{Name: "c", User: "ops", KnownHost: k1}, nil},
		{"a comment", config.Credential{Name: "c", User: "root", KnownHost: k1 + " host1"}, nil},
		{"another host key", config.Credential{Name: "c", User: "root", KnownHost: k2}, []string{"key", "password"}},
	} {
		if got := Credential(old, c.new); !slices.Equal(got, c.want) {
			t.Errorf("%s: drops %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDropped(t *testing.T) {
	stored := map[string]string{"password": "v1:a", "smtp.password": "v1:b"}
	got := Dropped(stored, []string{"smtp.password", "password", "key"}, func(n string) bool { return n == "password" })
	if !slices.Equal(got, []string{"smtp.password"}) {
		t.Errorf("Dropped = %v: a secret sent again stays, one never stored is not reported", got)
	}
}

// TestOAuthSecretsBoundToEndpointAndServer: the client secret and the
// refresh token drop when the token endpoint, the client id or the scope
// change, or when the server the tokens go to moves; not otherwise.
func TestOAuthSecretsBoundToEndpointAndServer(t *testing.T) {
	both := []string{config.SecretOAuthClient, config.SecretOAuthRefresh, config.SecretOAuthSAKey}
	base := func() config.Monitor {
		return config.Monitor{Name: "m", Type: "imap", Port: 993, TLS: "implicit", User: "u@contoso.com",
			OAuth: &config.OAuth{Provider: "microsoft", Tenant: "contoso.onmicrosoft.com", ClientID: "c1"}}
	}
	for _, c := range []struct {
		name   string
		addr   string
		change func(m *config.Monitor)
		want   []string
	}{
		{"nothing", "", func(*config.Monitor) {}, nil},
		{"the user (the subject a service account would act for)", "", func(m *config.Monitor) { m.User = "v@contoso.com" }, []string{config.SecretOAuthSAKey}},
		{"a subject of its own", "", func(m *config.Monitor) { m.OAuth.Subject = "ceo@contoso.com" }, []string{config.SecretOAuthSAKey}},
		{"the tenant", "", func(m *config.Monitor) { m.OAuth.Tenant = "evil.onmicrosoft.com" }, both},
		{"a token URL of its own", "", func(m *config.Monitor) {
			m.OAuth.Provider, m.OAuth.Tenant, m.OAuth.TokenURL = "", "", "https://evil.example/token"
		}, both},
		{"the client id", "", func(m *config.Monitor) { m.OAuth.ClientID = "c2" }, both},
		{"the scope", "", func(m *config.Monitor) { m.OAuth.Scope = "https://graph.microsoft.com/.default" }, both},
		{"no oauth any more", "", func(m *config.Monitor) { m.OAuth = nil }, both},
		{"the mail server", "evil.example.test", func(*config.Monitor) {}, append([]string{"password"}, both...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := base()
			c.change(&n)
			addr := "outlook.office365.com"
			if c.addr != "" {
				addr = c.addr
			}
			if got := Monitor("outlook.office365.com", base(), addr, n); !slices.Equal(got, c.want) {
				t.Errorf("dropped %q, want %q", got, c.want)
			}
		})
	}
}

// TestDQSKeyBoundToTheResolver: the key travels in the query names to the
// resolver: another resolver, or another type, drops it.
func TestDQSKeyBoundToTheResolver(t *testing.T) {
	old := config.Monitor{Name: "bl", Type: "dnsbl", Resolver: "127.0.0.1:53", Zones: []string{"zen.spamhaus.org"}}
	for _, c := range []struct {
		name   string
		change func(m *config.Monitor)
		drop   bool
	}{
		{"nothing", func(*config.Monitor) {}, false},
		{"the zones", func(m *config.Monitor) { m.Zones = nil }, false},
		{"the resolver", func(m *config.Monitor) { m.Resolver = "198.51.100.7:53" }, true},
		{"serve's resolver instead", func(m *config.Monitor) { m.Resolver = "" }, true},
		{"another type", func(m *config.Monitor) { m.Type = "spf" }, true},
	} {
		n := old
		c.change(&n)
		if got := slices.Contains(Monitor("192.0.2.1", old, "192.0.2.1", n), config.SecretDQSKey); got != c.drop {
			t.Errorf("%s: dropped %v, want %v", c.name, got, c.drop)
		}
	}
}

// TestSMTPLegOAuthSecretsBound: the SMTP leg's own oauth secrets drop
// when its token endpoint, client id or scope change or its submission
// server moves, and not for a change of the mailbox's.
func TestSMTPLegOAuthSecretsBound(t *testing.T) {
	leg := []string{config.SecretSMTPOAuthClient, config.SecretSMTPOAuthRefresh, config.SecretSMTPOAuthSAKey}
	base := func() config.Monitor {
		return config.Monitor{Name: "m", Type: "imap-roundtrip", Port: 993, TLS: "implicit", User: "u@contoso.com",
			SMTP: &config.Leg{Host: "smtp.office365.com", Port: 587, TLS: "starttls", Auth: "XOAUTH2",
				OAuth: &config.OAuth{Provider: "microsoft", Tenant: "contoso.onmicrosoft.com", ClientID: "smtp-app"}}}
	}
	for _, c := range []struct {
		name   string
		change func(m *config.Monitor)
		want   []string
	}{
		{"nothing", func(*config.Monitor) {}, nil},
		{"the mailbox's port", func(m *config.Monitor) { m.Port = 143; m.TLS = "starttls" }, []string{"password"}},
		{"the leg's tenant", func(m *config.Monitor) { m.SMTP.OAuth.Tenant = "evil.onmicrosoft.com" }, leg},
		{"the leg's client id", func(m *config.Monitor) { m.SMTP.OAuth.ClientID = "c2" }, leg},
		{"the leg's scope", func(m *config.Monitor) { m.SMTP.OAuth.Scope = "x" }, leg},
		{"the submission server", func(m *config.Monitor) { m.SMTP.Host = "evil.example.test" }, append([]string{"smtp.password"}, leg...)},
		{"no block any more", func(m *config.Monitor) { m.SMTP.OAuth = nil }, leg},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := base()
			c.change(&n)
			if got := Monitor("outlook.office365.com", base(), "outlook.office365.com", n); !slices.Equal(got, c.want) {
				t.Errorf("dropped %q, want %q", got, c.want)
			}
		})
	}
}
