package farm

import (
	"context"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/imapprobe"
	"github.com/mailmon/mailmon/internal/probe/pop3probe"
	"github.com/mailmon/mailmon/internal/probe/smtpprobe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// Every responder passes mailmon's own probe of its kind, and records the
// session; a black hole makes the probe time out and records nothing.
func TestFarmAnswersProbes(t *testing.T) {
	ca := certs.NewCA(t)
	cfg := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	kindOf := map[Protocol]probe.Kind{SMTP: smtpprobe.Kind(), POP3: pop3probe.Kind(), IMAP: imapprobe.Kind()}
	for _, p := range []Protocol{SMTP, POP3, IMAP} {
		for _, mode := range []TLS{NoTLS, StartTLS, Implicit} {
			t.Run(string(p)+"/"+string(mode), func(t *testing.T) {
				s, err := Start(p, mode, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				pc := probe.Config{Type: string(p), Host: "127.0.0.1", Port: s.Port(), TLS: probe.TLSMode(mode),
					CAFile: ca.File(t), Timeout: 2 * time.Second}
				if mode == NoTLS {
					pc.TLS = probe.TLSNone
				}
				if err := pc.Validate(kindOf[p]); err != nil {
					t.Fatal(err)
				}
				r := probe.Run(context.Background(), kindOf[p], pc)
				if r.Status != probe.StatusUp {
					t.Fatalf("status %s: %+v", r.Status, r.Error)
				}
				if mode != NoTLS && r.TLS == nil {
					t.Fatalf("no TLS in result")
				}
				// The server records the session just after its last
				// reply, which the client may have read already.
				var n int
				for deadline := time.Now().Add(time.Second); n == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
					n += len(s.Sessions())
				}
				if n != 1 {
					t.Fatalf("%d sessions recorded, want 1", n)
				}

				s.SetBehaviour(BlackHole)
				pc.Timeout = 300 * time.Millisecond
				r = probe.Run(context.Background(), kindOf[p], pc)
				if r.Status != probe.StatusDown || r.Error.Code != probe.Timeout {
					t.Fatalf("black hole: status %s code %v", r.Status, r.Error)
				}
				if n := len(s.Sessions()); n != 0 {
					t.Fatalf("black hole recorded %d sessions", n)
				}
			})
		}
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	if got := Percentile(ds, 50); got != 3 {
		t.Fatalf("p50 = %v", got)
	}
	if got := Percentile(ds, 100); got != 5 {
		t.Fatalf("p100 = %v", got)
	}
	if got := Percentile(nil, 99); got != 0 {
		t.Fatalf("empty = %v", got)
	}
}
