package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/smtpprobe"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

func TestMain(m *testing.M) { realmail.Main(m) }

// rawImplicit is the naive client: TLS handshake, then wait for the
// greeting, timing the wait as a person with a stopwatch would.
func rawImplicit(addr string, cfg *tls.Config) (greeting time.Duration, err error) {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	start := time.Now()
	if _, err := br.ReadString('\n'); err != nil {
		return 0, err
	}
	greeting = time.Since(start)
	c.Write([]byte("QUIT\r\n"))
	br.ReadString('\n')
	return greeting, nil
}

// BenchmarkPostfixGreetingAfterTLS13 reports the greeting phase after an
// implicit TLS 1.3 handshake with real Postfix: as a naive client sees it
// (its delayed ACK holds Postfix's greeting behind Nagle for ~40 ms) and as
// mailmon reports it (TCP_QUICKACK: the server's own time).
func BenchmarkPostfixGreetingAfterTLS13(b *testing.B) {
	e := realmail.Start(b)
	addr := e.Addr(e.SMTPS)
	b.Run("raw", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			g, err := rawImplicit(addr, e.TLSConfig())
			if err != nil {
				b.Fatal(err)
			}
			total += g
		}
		b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1e3, "greeting-ms")
	})
	b.Run("mailmon", func(b *testing.B) {
		cfg := probe.Config{Type: "smtp", Host: "127.0.0.1", Port: e.SMTPS, TLS: probe.TLSImplicit, CAFile: e.CAFile, ServerName: e.ServerName, EHLOName: "bench"}
		if err := cfg.Validate(smtpprobe.Kind()); err != nil {
			b.Fatal(err)
		}
		var total time.Duration
		for b.Loop() {
			r := probe.Run(context.Background(), smtpprobe.Kind(), cfg)
			if r.Status != probe.StatusUp {
				b.Fatal(r.Error)
			}
			for _, p := range r.Phases {
				if p.Name == "greeting" {
					total += p.Duration
				}
			}
		}
		b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1e3, "greeting-ms")
	})
}
