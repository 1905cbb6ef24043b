// Package imapprobe tests an IMAP service: greeting, CAPABILITY, STARTTLS,
// LOGIN or AUTHENTICATE, STATUS or EXAMINE of a mailbox, LOGOUT
// (docs/monitors.md).
package imapprobe

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/mail/imap"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// Probe is the imap monitor.
func Probe(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	s, err := Open(ctx, cfg, t)
	if err != nil {
		return err
	}
	defer s.Close()
	if cfg.Mailbox != "" {
		if err := checkMailbox(cfg, t, s.Client); err != nil {
			if probe.Polite(err) {
				s.Client.Logout()
			}
			return err
		}
	}
	return t.Step("quit", s.Client.Logout)
}

// Session is an IMAP session opened by Open: greeted, capabilities known,
// TLS and login as configured (PreAuth when the server greeted with
// PREAUTH), ready for mailbox commands.
type Session struct {
	Client  *imap.Client
	Conn    *wire.Conn
	PreAuth bool
}

// Close closes the connection.
func (s *Session) Close() error { return s.Conn.Close() }

// Open connects and runs the session up to the authenticated state. On a
// failure the server answered in protocol, it still says LOGOUT before
// closing.
func Open(ctx context.Context, cfg *probe.Config, t *probe.Trace) (*Session, error) {
	return OpenWith(ctx, cfg, t, imap.Options{})
}

// OpenWith is Open with client options (a round trip that fetches message
// headers may need a larger literal cap).
func OpenWith(ctx context.Context, cfg *probe.Config, t *probe.Trace, opts imap.Options) (*Session, error) {
	s := &Session{}
	_, _, err := probe.OpenSession(ctx, cfg, t,
		func(c *wire.Conn) *imap.Client { return imap.NewClient(c, opts) },
		func(cl *imap.Client, c *wire.Conn) error {
			s.Client, s.Conn = cl, c
			return open(ctx, cfg, t, s)
		}, (*imap.Client).Logout)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func open(ctx context.Context, cfg *probe.Config, t *probe.Trace, s *Session) error {
	cl, c := s.Client, s.Conn
	if err := t.Step("greeting", func() error {
		st, err := cl.Greeting()
		if st != nil {
			t.Detail("greeting", st.String())
		}
		if err == nil && st.Type == imap.PREAUTH {
			s.PreAuth = true
			t.Detail("preauth", true)
		}
		return err
	}); err != nil {
		return err
	}
	capability := func() error {
		if cl.HasCaps() {
			return nil // the greeting's CAPABILITY code saved the round trip
		}
		_, err := cl.Capability()
		return err
	}
	if err := t.Step("capabilities", capability); err != nil {
		return err
	}
	if cfg.TLS != probe.TLSImplicit {
		// STARTTLS is only possible before login: after PREAUTH it is not
		// on offer, whatever the server advertises.
		offered := cl.Has("STARTTLS") && !s.PreAuth
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
			if err := t.Step("capabilities_tls", capability); err != nil {
				return err
			}
		}
	}
	t.Detail("capabilities", capsDetail(cl.Caps()))
	if !cfg.HasCredentials() || s.PreAuth {
		return nil
	}
	return t.Step("auth", func() error {
		t.Transcript.AddSecret(string(cfg.Password))
		cr, err := probe.Credentials(ctx, cfg, t)
		if err != nil {
			return err
		}
		mech, err := cfg.PickAuth(c.Encrypted(), func() (string, error) { return choose(cfg, cl, c.Encrypted(), cr.Token != "") })
		if err != nil {
			return err
		}
		if mech == loginCommand {
			err = cl.Login(cr.User, cr.Password)
		} else {
			var m sasl.Client
			if m, err = probe.SASL(t, mech, cr); err != nil {
				return err
			}
			err = cl.Authenticate(m)
		}
		if err != nil {
			return err
		}
		t.SetAuth(mech)
		return nil
	})
}

// loginCommand stands for the LOGIN command among SASL mechanisms.
const loginCommand = "LOGIN"

// choose picks how to log in. "auto": with a token, OAUTHBEARER or XOAUTH2
// as advertised; otherwise AUTHENTICATE PLAIN when advertised (CRAM-MD5
// first on a connection without TLS, allowed by the config, which keeps the
// password off the wire), else the LOGIN command unless the server says
// LOGINDISABLED. "LOGIN" is the LOGIN command; any other name is that SASL
// mechanism, which must be advertised. What is not offered is a
// *sasl.UnsupportedError listing what is.
func choose(cfg *probe.Config, cl *imap.Client, encrypted, haveToken bool) (string, error) {
	want := strings.ToUpper(cfg.Auth)
	adv := cl.AuthMechanisms()
	loginOK := !cl.Has("LOGINDISABLED")
	switch {
	case want == loginCommand:
		if !loginOK {
			return loginCommand, &sasl.UnsupportedError{Want: "the LOGIN command", Offered: offered(cl), Why: "the server says LOGINDISABLED"}
		}
		return loginCommand, nil
	case want != "" && want != "AUTO" || haveToken:
		m, err := sasl.Choose(cfg.Auth, adv, haveToken, encrypted)
		var ue *sasl.UnsupportedError
		if errors.As(err, &ue) {
			ue.Offered = offered(cl)
		}
		return m, err
	case !encrypted && slices.Contains(adv, sasl.CRAMMD5):
		return sasl.CRAMMD5, nil
	case slices.Contains(adv, sasl.Plain):
		return sasl.Plain, nil
	case loginOK:
		return loginCommand, nil
	case slices.Contains(adv, sasl.CRAMMD5):
		return sasl.CRAMMD5, nil
	}
	return "", &sasl.UnsupportedError{Offered: offered(cl), Why: "LOGINDISABLED and no AUTH=PLAIN"}
}

// offered lists how the server lets one log in: AUTHENTICATE with each
// AUTH= mechanism, and the LOGIN command unless LOGINDISABLED.
func offered(cl *imap.Client) []string {
	var out []string
	for _, m := range cl.AuthMechanisms() {
		out = append(out, "AUTH="+m)
	}
	if !cl.Has("LOGINDISABLED") {
		out = append(out, "LOGIN command")
	}
	return out
}

// checkMailbox is the optional mailbox check: STATUS, or EXAMINE (read-only,
// so that a monitor changes nothing).
func checkMailbox(cfg *probe.Config, t *probe.Trace, cl *imap.Client) error {
	if cfg.MailboxCheck == "select" {
		return t.Step("select", func() error {
			mb, err := cl.Examine(cfg.Mailbox)
			if err != nil {
				return err
			}
			t.Detail("messages", mb.Exists)
			t.Detail("uidvalidity", mb.UIDValidity)
			t.Detail("uidnext", mb.UIDNext)
			return nil
		})
	}
	return t.Step("status", func() error {
		ms, err := cl.Status(cfg.Mailbox)
		if err != nil {
			return err
		}
		t.Detail("messages", ms.Messages)
		t.Detail("unseen", ms.Unseen)
		t.Detail("uidnext", ms.UIDNext)
		return nil
	})
}

// maxCapsDetail bounds what a server's capability list can put in a result.
const maxCapsDetail = 64

func capsDetail(caps []string) []string {
	if len(caps) > maxCapsDetail {
		caps = caps[:maxCapsDetail]
	}
	for i, c := range caps {
		caps[i] = wire.Truncate(c, 64)
	}
	return caps
}
