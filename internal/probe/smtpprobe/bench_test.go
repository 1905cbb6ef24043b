package smtpprobe

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
)

// BenchmarkStartTLS is the probe's STARTTLS test, certificate verified
// against a ca: file, one test after another against an in-process
// responder (fakesmtp) presenting the same certificate. cpu-µs/test is
// the process's CPU (user+system, the responder's share included: it is
// the same in both codes being compared) per test.
//
//	go test ./internal/probe/smtpprobe/ -run '^$' -bench StartTLS -benchtime 2000x -count 5
func BenchmarkStartTLS(b *testing.B) {
	ca := certs.NewCA(b)
	srv := fakesmtp.Start(b, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(b, certs.Leaf{}))})
	for _, kx := range []string{"default", "x25519"} {
		b.Run(kx, func(b *testing.B) {
			cfg := probe.Config{Type: "smtp", Host: srv.Host, Port: srv.Port, TLS: probe.TLSStartTLS, CAFile: ca.File(b),
				KeyExchange: kx, Timeout: 5 * time.Second}
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				if r := probe.Run(context.Background(), Kind(), cfg); r.Status != probe.StatusUp || !r.TLS.Verified {
					b.Fatalf("status %s error %+v", r.Status, r.Error)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/test")
		})
	}
}

// cpuTime is the CPU the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
