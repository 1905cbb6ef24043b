package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// Connect resolves the host ("dns"), connects ("connect") and, in implicit
// TLS mode, completes the handshake ("tls"). The returned connection carries
// the test's deadline and is closed when ctx ends.
func Connect(ctx context.Context, cfg *Config, t *Trace) (*wire.Conn, error) {
	var addrs []netip.Addr
	if _, err := netip.ParseAddr(cfg.Host); err == nil {
		addrs, _, _ = wire.Resolve(ctx, nil, cfg.Host)
	} else if err := t.Step("dns", func() (err error) {
		addrs, _, err = wire.Resolve(ctx, cfg.Resolver, cfg.Host)
		return err
	}); err != nil {
		return nil, err
	}
	var c *wire.Conn
	if err := t.Step("connect", func() error {
		raw, err := wire.DialChecked(ctx, addrs, cfg.Port, cfg.Egress.Guard(cfg.Host))
		if err != nil {
			return err
		}
		c = wire.NewConn(ctx, raw, cfg.Limits, t.Transcript)
		noteConnected(t.Transcript, raw)
		return nil
	}); err != nil {
		return nil, err
	}
	if cfg.TLS == TLSImplicit {
		if err := handshake(c, cfg, t, TLSImplicit, c.Handshake); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// noteConnected notes in the transcript the address c is connected to,
// "connected to 192.0.2.1:25" as net.TCPAddr's String writes it, in one
// allocation (it was four of a banner test's hundred, then two).
func noteConnected(tr *wire.Transcript, c net.Conn) {
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		tr.Note("connected to " + c.RemoteAddr().String())
		return
	}
	ap := a.AddrPort()
	var buf [80]byte
	tr.NoteBytes(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(append(buf[:0], "connected to "...)))
}

// WantStartTLS decides, from the mode and whether the server offers
// STARTTLS, whether to upgrade. A required STARTTLS that is not offered is
// a failure, never a silent downgrade.
func WantStartTLS(cfg *Config, offered bool) (bool, error) {
	switch cfg.TLS {
	case TLSStartTLS:
		if !offered {
			return false, wire.ErrTLSUnavailable
		}
		return true, nil
	case TLSOptional:
		return offered, nil
	}
	return false, nil
}

// StartTLS runs the handshake after the server agreed to STARTTLS, as the
// "tls" phase.
func StartTLS(c *wire.Conn, cfg *Config, t *Trace) error {
	return handshake(c, cfg, t, TLSStartTLS, c.StartTLS)
}

func handshake(c *wire.Conn, cfg *Config, t *Trace, mode TLSMode, fn func(*tls.Config) error) error {
	tc, err := cfg.tlsConfig(t)
	if err != nil {
		return err
	}
	return t.Step("tls", func() error {
		if err := fn(tc); err != nil {
			return err
		}
		t.SetTLS(c.TLS(), mode)
		return nil
	})
}

// Credentials gathers what authentication needs, fetching an OAuth token
// from its file, command or token endpoint. The token, and the client
// secret and refresh token that fetch it, are registered with the
// transcript as secrets before anything is sent.
func Credentials(ctx context.Context, cfg *Config, t *Trace) (sasl.Credentials, error) {
	cr := sasl.Credentials{User: cfg.User, Password: string(cfg.Password), Host: cfg.Host, Port: cfg.Port}
	if !cfg.OAuthToken.IsZero() {
		for _, s := range cfg.OAuthToken.Secrets() {
			t.Transcript.AddSecret(s)
		}
		tok, err := cfg.OAuthToken.Token(ctx, string(cfg.Password), string(cfg.InstallationKey))
		if err != nil {
			return cr, tokenError(cfg, err)
		}
		t.Transcript.AddSecret(tok)
		cr.Token = tok
	}
	return cr, nil
}

// tokenError classifies a failure to get a token: the endpoint refusing
// the credentials is auth_failed with its description, the endpoint
// failing is service_error, a network failure keeps its own code; a file
// or command that gives no token is a configuration to fix.
func tokenError(cfg *Config, err error) error {
	var oe *oauth.Error
	switch {
	case errors.As(err, &oe) && oe.Refused():
		return &wire.AuthError{Err: err}
	case errors.As(err, &oe):
		return &wire.ServerError{Reply: oe.Error(), Temporary: true}
	case cfg.OAuthToken.Flow != nil:
		return fmt.Errorf("token endpoint %s: %w", cfg.OAuthToken.Flow.TokenURL, err)
	}
	return &ConfigError{Errs: []FieldError{{"oauth_token", err.Error()}}}
}

// OpenSession connects (Connect) and runs open on a client made for the
// connection. When open fails and the stream is still in step (Polite),
// goodbye ends the session politely (QUIT, LOGOUT); the connection is
// closed on any failure.
func OpenSession[C any](ctx context.Context, cfg *Config, t *Trace, newClient func(*wire.Conn) C,
	open func(C, *wire.Conn) error, goodbye func(C) error) (C, *wire.Conn, error) {
	var zero C
	c, err := Connect(ctx, cfg, t)
	if err != nil {
		return zero, nil, err
	}
	cl := newClient(c)
	if err := open(cl, c); err != nil {
		if Polite(err) {
			goodbye(cl)
		}
		c.Close()
		return zero, nil, err
	}
	return cl, c, nil
}
