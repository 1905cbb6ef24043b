package smtpprobe

import (
	"context"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/bench/procstat"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// BenchmarkStartTLS is the probe's STARTTLS test, certificate verified
// against a ca: file, one test after another, against a responder
// presenting the same certificate: fakesmtp in this process (its CPU is
// then in cpu-µs/test too, the same in both codes being compared), or real
// Postfix (realmail, another process: cpu-µs/test is the client's alone).
// cpu-µs/test is the process's CPU, user and system, per test.
//
//	go test ./internal/probe/smtpprobe/ -run '^$' -bench StartTLS -benchtime 500x -count 5
func BenchmarkStartTLS(b *testing.B) {
	ca := certs.NewCA(b)
	srv := fakesmtp.Start(b, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(b, certs.Leaf{}))})
	caFile := ca.File(b)
	var e *realmail.Env
	for _, to := range []string{"fakesmtp", "postfix"} {
		for _, kx := range []string{"default", "x25519"} {
			b.Run(to+"/"+kx, func(b *testing.B) {
				cfg := probe.Config{Type: "smtp", Host: srv.Host, Port: srv.Port, TLS: probe.TLSStartTLS, CAFile: caFile,
					KeyExchange: kx, Timeout: 5 * time.Second}
				if to == "postfix" {
					if e == nil {
						e = realmail.Start(b)
					}
					cfg.Host, cfg.Port, cfg.CAFile, cfg.ServerName = "127.0.0.1", e.SMTP, e.CAFile, e.ServerName
				}
				b.ReportAllocs()
				cpu, _ := procstat.Self()
				for b.Loop() {
					if r := probe.Run(context.Background(), Kind(), cfg); r.Status != probe.StatusUp || !r.TLS.Verified {
						b.Fatalf("status %s error %+v", r.Status, r.Error)
					}
				}
				now, _ := procstat.Self()
				b.ReportMetric(float64((now-cpu).Microseconds())/float64(b.N), "cpu-µs/test")
			})
		}
	}
}
