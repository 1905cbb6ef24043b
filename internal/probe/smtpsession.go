package probe

import (
	"context"
	"os"
	"strings"

	"github.com/mailmon/mailmon/internal/mail/smtp"
	"github.com/mailmon/mailmon/internal/wire"
)

// SMTPSession is an SMTP session opened by OpenSMTP: greeted, EHLO done,
// TLS and authentication as configured, ready for a mail transaction on
// Client (package mail/smtp's client).
type SMTPSession struct {
	Client *smtp.Client
	Conn   *wire.Conn
}

// Close closes the connection.
func (s *SMTPSession) Close() error { return s.Conn.Close() }

// SMTPKind is the kind of every SMTP session: its ports, TLS and login.
// smtpprobe's monitor type is this kind with its prober, form fields and
// services; an e-mail alert's relay and a round trip's SMTP leg validate
// under it as they are (the alert package may not import a prober).
func SMTPKind() Kind {
	return Kind{Name: "smtp", Title: "SMTP", Protocol: "smtp", Ports: Ports{Plain: 25, Implicit: 465},
		HasPort: true, KnowsTLS: true, LogsIn: true}
}

// OpenSMTP connects and runs an SMTP session up to a mail transaction under
// cfg: its TLS mode, the auth policy, its secrets kept out of t's
// transcript. The smtp monitor, a round trip's SMTP leg and the e-mail
// alert's relay all open theirs here. On a failure the server answered in
// protocol, it still says QUIT before closing.
func OpenSMTP(ctx context.Context, cfg *Config, t *Trace) (*SMTPSession, error) {
	cl, c, err := OpenSession(ctx, cfg, t, smtp.NewClient,
		func(cl *smtp.Client, c *wire.Conn) error { return openSMTP(ctx, cfg, t, cl, c) }, (*smtp.Client).Quit)
	if err != nil {
		return nil, err
	}
	return &SMTPSession{Client: cl, Conn: c}, nil
}

func openSMTP(ctx context.Context, cfg *Config, t *Trace, cl *smtp.Client, c *wire.Conn) error {
	if err := t.Step("greeting", func() error {
		r, err := cl.Greeting()
		if r != nil {
			t.Detail("greeting", r.String())
		}
		return err
	}); err != nil {
		return err
	}
	name := EHLOName(cfg)
	hello := func() error {
		_, err := cl.Hello(name)
		return err
	}
	if err := t.Step("capabilities", hello); err != nil {
		return err
	}
	if cfg.TLS != TLSImplicit {
		_, offered := cl.Ext("STARTTLS")
		want, err := WantStartTLS(cfg, offered)
		if err != nil {
			return t.Step("starttls", func() error { return err })
		}
		if want {
			if err := t.Step("starttls", cl.StartTLS); err != nil {
				return err
			}
			if err := StartTLS(c, cfg, t); err != nil {
				return err
			}
			if err := t.Step("capabilities_tls", hello); err != nil {
				return err
			}
		}
	}
	t.Detail("extensions", cl.Extensions())
	if n := cl.Size(); n > 0 {
		t.Detail("size_limit", n)
	}
	if !cfg.HasCredentials() {
		return nil
	}
	return t.Step("auth", func() error {
		cr, err := Credentials(ctx, cfg, t)
		if err != nil {
			return err
		}
		mech, err := Mechanism(cfg, c, cl.AuthMechanisms(), cr.Token != "")
		if err != nil {
			return err
		}
		m, err := SASL(t, mech, cr)
		if err != nil {
			return err
		}
		if err := cl.Auth(m); err != nil {
			return err
		}
		t.SetAuth(mech)
		return nil
	})
}

// EHLOName is the name an SMTP client gives in EHLO: the configured one,
// else the system's host name, so that the server's reverse-DNS check
// matches.
func EHLOName(cfg *Config) string {
	if cfg.EHLOName != "" {
		return cfg.EHLOName
	}
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}
