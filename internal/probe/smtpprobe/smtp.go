// Package smtpprobe tests an SMTP service: greeting, EHLO, STARTTLS, AUTH,
// QUIT (SPEC.md §2).
package smtpprobe

import (
	"context"
	"os"
	"strings"

	"github.com/mailmon/mailmon/internal/mail/smtp"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// Probe is the smtp monitor.
func Probe(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	s, err := Open(ctx, cfg, t)
	if err != nil {
		return err
	}
	defer s.Close()
	return t.Step("quit", s.Client.Quit)
}

// Session is an SMTP session opened by Open: greeted, EHLO done, TLS and
// authentication as configured, ready for a transaction.
type Session struct {
	Client *smtp.Client
	Conn   *wire.Conn
}

// Close closes the connection.
func (s *Session) Close() error { return s.Conn.Close() }

// Open connects and runs the session up to a mail transaction. On a failure
// the server answered in protocol, it still says QUIT before closing.
func Open(ctx context.Context, cfg *probe.Config, t *probe.Trace) (*Session, error) {
	cl, c, err := probe.OpenSession(ctx, cfg, t, smtp.NewClient,
		func(cl *smtp.Client, c *wire.Conn) error { return open(ctx, cfg, t, cl, c) }, (*smtp.Client).Quit)
	if err != nil {
		return nil, err
	}
	return &Session{Client: cl, Conn: c}, nil
}

func open(ctx context.Context, cfg *probe.Config, t *probe.Trace, cl *smtp.Client, c *wire.Conn) error {
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
	if cfg.TLS != probe.TLSImplicit {
		_, offered := cl.Ext("STARTTLS")
		want, err := probe.WantStartTLS(cfg, offered)
		if err != nil {
			return t.Step("starttls", func() error { return err })
		}
		if want {
			if err := t.Step("starttls", cl.StartTLS); err != nil {
				return err
			}
			if err := probe.StartTLS(c, cfg, t); err != nil {
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
		cr, err := probe.Credentials(ctx, cfg, t)
		if err != nil {
			return err
		}
		mech, err := probe.Mechanism(cfg, c, cl.AuthMechanisms(), cr.Token != "")
		if err != nil {
			return err
		}
		m, err := probe.SASL(t, mech, cr)
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

// EHLOName is the name the client gives in EHLO: the configured one, else
// the system's host name, so that the server's reverse-DNS check matches.
func EHLOName(cfg *probe.Config) string {
	if cfg.EHLOName != "" {
		return cfg.EHLOName
	}
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}
