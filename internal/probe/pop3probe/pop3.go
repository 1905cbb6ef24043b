// Package pop3probe tests a POP3 service: greeting, CAPA, STLS, login,
// STAT, QUIT (docs/monitors.md).
package pop3probe

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/mail/pop3"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// The POP3 login commands, as recorded by Trace.SetAuth beside the SASL
// mechanism names.
const (
	MechUser = "USER" // USER and PASS
	MechAPOP = "APOP"
)

// Probe is the pop3 monitor.
func Probe(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	s, err := Open(ctx, cfg, t)
	if err != nil {
		return err
	}
	defer s.Close()
	if cfg.Stat {
		if err := t.Step("stat", func() error {
			n, octets, err := s.Client.Stat()
			if err != nil {
				return err
			}
			t.Detail("messages", n)
			t.Detail("octets", octets)
			return nil
		}); err != nil {
			if probe.Polite(err) {
				s.Client.Quit()
			}
			return err
		}
	}
	return t.Step("quit", s.Client.Quit)
}

// Session is a POP3 session opened by Open: greeted, TLS as configured,
// logged in when the config has credentials.
type Session struct {
	Client *pop3.Client
	Conn   *wire.Conn
}

// Close closes the connection.
func (s *Session) Close() error { return s.Conn.Close() }

// Open connects and runs the session up to the TRANSACTION state (or up to
// the capabilities when the config has no credentials). On a failure the
// server answered in protocol, it still says QUIT before closing.
func Open(ctx context.Context, cfg *probe.Config, t *probe.Trace) (*Session, error) {
	cl, c, err := probe.OpenSession(ctx, cfg, t, pop3.NewClient,
		func(cl *pop3.Client, c *wire.Conn) error { return open(ctx, cfg, t, cl, c) }, (*pop3.Client).Quit)
	if err != nil {
		return nil, err
	}
	return &Session{Client: cl, Conn: c}, nil
}

func open(ctx context.Context, cfg *probe.Config, t *probe.Trace, cl *pop3.Client, c *wire.Conn) error {
	if err := t.Step("greeting", func() error {
		st, err := cl.Greeting()
		if st != nil {
			t.Detail("greeting", wire.Truncate(st.String(), 512))
		}
		return err
	}); err != nil {
		return err
	}
	capa := func() error {
		_, err := cl.Capa()
		return err
	}
	if err := t.Step("capabilities", capa); err != nil {
		return err
	}
	if cfg.TLS != probe.TLSImplicit {
		_, offered := cl.Cap("STLS")
		// A server that does not answer CAPA may still know STLS: when TLS
		// is required, ask; a refusal fails the test all the same.
		if !cl.CapaOK() && cfg.TLS == probe.TLSStartTLS {
			offered = true
		}
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
			if err := t.Step("capabilities_tls", capa); err != nil {
				return err
			}
		}
	}
	caps := make([]string, 0, len(cl.Capabilities()))
	for _, l := range cl.Capabilities() {
		caps = append(caps, wire.Truncate(wire.Sanitize(l), 200))
	}
	t.Detail("capabilities", caps)
	if !cfg.HasCredentials() {
		return nil
	}
	return t.Step("auth", func() error {
		cr, err := probe.Credentials(ctx, cfg, t)
		if err != nil {
			return err
		}
		mech, err := cfg.PickAuth(c.Encrypted(), func() (string, error) { return choose(cfg, cl, c.Encrypted(), cr.Token != "") })
		if err != nil {
			return err
		}
		if err := login(t, cl, mech, cr); err != nil {
			return err
		}
		t.SetAuth(mech)
		return nil
	})
}

// choose picks USER (USER/PASS), APOP or a SASL mechanism. A named one
// (cfg.Auth) must be offered: APOP needs the greeting's timestamp, a SASL
// mechanism the CAPA SASL line; USER is assumed known. Auto picks, with a
// token, OAUTHBEARER or XOAUTH2; without TLS (allowed by the config), one
// that keeps the password off the wire (CRAM-MD5, APOP) first; then the
// SASL mechanisms of CAPA; and last USER/PASS, which every server is
// assumed to know. What is not offered is a *sasl.UnsupportedError listing
// what is.
func choose(cfg *probe.Config, cl *pop3.Client, encrypted, haveToken bool) (string, error) {
	adv := cl.SASL()
	switch want := strings.ToUpper(cfg.Auth); want {
	case MechUser:
		return MechUser, nil
	case MechAPOP:
		if cl.Timestamp() == "" {
			return MechAPOP, &sasl.UnsupportedError{Want: MechAPOP, Offered: offered(cl), Why: "the greeting has no timestamp"}
		}
		return MechAPOP, nil
	case "", "AUTO":
		if !haveToken && !encrypted {
			if slices.Contains(adv, sasl.CRAMMD5) {
				return sasl.CRAMMD5, nil
			}
			if cl.Timestamp() != "" {
				return MechAPOP, nil
			}
		}
		m, err := sasl.Choose(cfg.Auth, adv, haveToken, encrypted)
		if err != nil && !haveToken {
			return MechUser, nil
		}
		return m, withOffered(err, cl)
	default:
		m, err := sasl.Choose(cfg.Auth, adv, haveToken, encrypted)
		return m, withOffered(err, cl)
	}
}

// withOffered puts the POP3 ways of logging in into a SASL choice's
// *sasl.UnsupportedError, which knows only the SASL mechanisms.
func withOffered(err error, cl *pop3.Client) error {
	var ue *sasl.UnsupportedError
	if errors.As(err, &ue) {
		ue.Offered = offered(cl)
	}
	return err
}

// offered lists how the server lets one log in: USER (advertised, or
// assumed of a server without CAPA), APOP (a timestamp in the greeting) and
// the SASL mechanisms.
func offered(cl *pop3.Client) []string {
	var out []string
	if _, ok := cl.Cap("USER"); ok || !cl.CapaOK() {
		out = append(out, MechUser)
	}
	if cl.Timestamp() != "" {
		out = append(out, MechAPOP)
	}
	return append(out, cl.SASL()...)
}

func login(t *probe.Trace, cl *pop3.Client, mech string, cr sasl.Credentials) error {
	switch mech {
	case MechUser:
		if err := cl.User(cr.User); err != nil {
			return err
		}
		return cl.Pass(cr.Password)
	case MechAPOP:
		if ts := cl.Timestamp(); ts != "" {
			t.Secrets().AddEncoded(pop3.APOPDigest(ts, cr.Password))
		}
		return cl.APOP(cr.User, cr.Password)
	}
	m, err := probe.SASL(t, mech, cr)
	if err != nil {
		return err
	}
	return cl.Auth(m)
}
