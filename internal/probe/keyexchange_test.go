package probe

import (
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// offered runs one handshake of c's TLS configuration against a server of
// ca and returns the key exchange groups the client offered.
func offered(t testing.TB, c *Config, ca *certs.CA) []tls.CurveID {
	t.Helper()
	cfg, err := c.tlsConfig(NewTrace(t.Context(), time.Now))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []tls.CurveID, 1)
	srvCfg := &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, certs.Leaf{})},
		GetConfigForClient: func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			got <- slices.Clone(hi.SupportedCurves)
			return nil, nil
		}}
	if err := handshakePair(cfg, srvCfg); err != nil {
		t.Fatal(err)
	}
	return <-got
}

// handshakePair runs a client and a server handshake over a loopback TCP
// connection (whose buffers let a client that refuses the certificate send
// its alert without waiting for the server to read it, as net.Pipe would).
func handshakePair(client, server *tls.Config) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	deadline := time.Now().Add(10 * time.Second)
	srvErr := make(chan error, 1)
	go func() {
		b, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer b.Close()
		b.SetDeadline(deadline)
		srvErr <- tls.Server(b, server).Handshake()
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	defer a.Close()
	a.SetDeadline(deadline)
	if err := tls.Client(a, client).Handshake(); err != nil {
		return err
	}
	return <-srvErr
}

// TestKeyExchange: tls_key_exchange x25519 offers X25519 alone; unset or
// default offers Go's default, the hybrid post-quantum group first; any
// other value is refused naming the key and both choices.
func TestKeyExchange(t *testing.T) {
	ca := certs.NewCA(t)
	base := Config{Type: "smtp", Host: "localhost", Port: 25, TLS: TLSStartTLS, RootCAs: ca.Pool()}
	for _, v := range []string{"", KeyExchangeDefault} {
		c := base
		c.KeyExchange = v
		if got := offered(t, &c, ca); len(got) < 2 || got[0] != tls.X25519MLKEM768 {
			t.Errorf("tls_key_exchange %q offered %v, want X25519MLKEM768 first and more", v, got)
		}
	}
	c := base
	c.KeyExchange = KeyExchangeX25519
	if got := offered(t, &c, ca); !slices.Equal(got, []tls.CurveID{tls.X25519}) {
		t.Errorf("tls_key_exchange x25519 offered %v, want X25519 alone", got)
	}
	c.KeyExchange = "mlkem"
	err := c.Validate(SMTPKind())
	if err == nil || !strings.Contains(err.Error(), "tls_key_exchange") || !strings.Contains(err.Error(), "x25519") || !strings.Contains(err.Error(), "default") {
		t.Errorf("tls_key_exchange mlkem: %v, want an error naming the key and both choices", err)
	}
}

// BenchmarkKeyExchange: one TLS 1.3 handshake (client and server in this
// process, over a pipe) with Go's default key share and with X25519 alone.
// The daemon benchmark measures the client's CPU alone per STARTTLS check
// (bench/results/daemon-*.md).
func BenchmarkKeyExchange(b *testing.B) {
	ca := certs.NewCA(b)
	srv := &tls.Config{Certificates: []tls.Certificate{ca.Issue(b, certs.Leaf{})}}
	for _, v := range []string{KeyExchangeDefault, KeyExchangeX25519} {
		b.Run(v, func(b *testing.B) {
			c := Config{Type: "smtp", Host: "localhost", Port: 25, TLS: TLSStartTLS, RootCAs: ca.Pool(), KeyExchange: v}
			cfg, err := c.tlsConfig(NewTrace(b.Context(), time.Now))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := handshakePair(cfg, srv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
