// Package bench measures mailmon's probes against the cheapest client that
// could do the same work: a raw socket that dials, reads the greeting, sends
// EHLO (and STARTTLS with a bare handshake) and QUIT. "make bench" runs the
// benchmarks and prints the table of ratios (benchtable).
package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/bench/farm"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/smtpprobe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// raw is the baseline: the same conversation with nothing but a socket.
func raw(port int, tlsCfg *tls.Config) error {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	reply := func() error {
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return err
			}
			if len(l) < 4 || l[3] != '-' {
				return nil
			}
		}
	}
	send := func(s string) error {
		if _, err := c.Write([]byte(s + "\r\n")); err != nil {
			return err
		}
		return reply()
	}
	if err := reply(); err != nil {
		return err
	}
	if err := send("EHLO bench"); err != nil {
		return err
	}
	if tlsCfg != nil {
		if err := send("STARTTLS"); err != nil {
			return err
		}
		tc := tls.Client(c, tlsCfg)
		if err := tc.Handshake(); err != nil {
			return err
		}
		c, br = tc, bufio.NewReader(tc)
		if err := send("EHLO bench"); err != nil {
			return err
		}
	}
	return send("QUIT")
}

// mailmon runs the probe as the daemon does: the monitor's configuration is
// validated once (CA file loaded), then tested again and again.
func mailmon(port int, mode probe.TLSMode, caFile string) func() error {
	cfg := probe.Config{Type: "smtp", Host: "127.0.0.1", Port: port, TLS: mode, CAFile: caFile, EHLOName: "bench", Timeout: 5 * time.Second}
	if err := cfg.Validate(smtpprobe.Kind()); err != nil {
		panic(err)
	}
	return func() error {
		r := probe.Run(context.Background(), smtpprobe.Kind(), cfg)
		if r.Status != probe.StatusUp {
			return fmt.Errorf("%s: %s", r.Error.Code, r.Error.Detail)
		}
		return nil
	}
}

func loop(fn func() error) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := fn(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func startFastSMTP(b *testing.B, cfg *tls.Config) *farm.Server {
	b.Helper()
	mode := farm.NoTLS
	if cfg != nil {
		mode = farm.StartTLS
	}
	s, err := farm.Start(farm.SMTP, mode, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return s
}

func BenchmarkBannerRaw(b *testing.B) {
	s := startFastSMTP(b, nil)
	loop(func() error { return raw(s.Port(), nil) })(b)
}

func BenchmarkBannerMailmon(b *testing.B) {
	s := startFastSMTP(b, nil)
	loop(mailmon(s.Port(), probe.TLSNone, ""))(b)
}

func tlsSetup(b *testing.B) (*farm.Server, *tls.Config, string) {
	ca := certs.NewCA(b)
	s := startFastSMTP(b, certs.ServerConfig(ca.Issue(b, certs.Leaf{})))
	return s, &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}, ca.File(b)
}

func BenchmarkStartTLSRaw(b *testing.B) {
	s, cfg, _ := tlsSetup(b)
	loop(func() error { return raw(s.Port(), cfg) })(b)
}

func BenchmarkStartTLSMailmon(b *testing.B) {
	s, _, caFile := tlsSetup(b)
	loop(mailmon(s.Port(), probe.TLSStartTLS, caFile))(b)
}
