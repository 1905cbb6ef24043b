package roundtrip

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// BenchmarkIMAPDeliveryTime compares the delivery time imap-roundtrip
// reports (SMTP 250 after DATA → first sighting over IMAP) with the true
// one (SMTP 250 → the message file appearing in Dovecot's maildir, watched
// every millisecond) over real Postfix + Dovecot, for each way of waiting:
// IDLE alone, polling alone (PollInterval 1 s), and the default (a sprint of
// NOOPs right after sending, then IDLE). Run it 50 times per mode:
//
//	go test ./internal/probe/roundtrip/ -run '^$' -bench IMAPDeliveryTime -benchtime 50x
func BenchmarkIMAPDeliveryTime(b *testing.B) {
	e := realmail.Start(b)
	modes := []struct {
		name  string
		setup func(*imapMailbox)
	}{
		{"idle", func(m *imapMailbox) { m.sprint = 0 }},
		{"poll", func(m *imapMailbox) { m.sprint, m.noIdle = 0, true }},
		{"default", func(m *imapMailbox) {}},
	}
	rows := map[string]string{} // the last run of each mode
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			w := benchWatchMaildir(b, filepath.Join(e.Maildir(e.User), "new"), filepath.Join(e.Maildir(e.User), "cur"))
			cfg := imapReal{e: e, user: e.User, pass: e.Password, port: e.IMAP, mode: probe.TLSNone,
				smtpPort: e.SMTPNoTLS, smtpMode: probe.TLSNone}.config()
			cfg.AllowPlaintextAuth, cfg.PollInterval, cfg.Timeout = true, time.Second, 20*time.Second
			var errs, reported, truth []time.Duration
			b.ResetTimer()
			for range b.N {
				var box *benchBox
				prober := func(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
					box = &benchBox{imapMailbox: newIMAPMailbox(cfg, t)}
					mode.setup(box.imapMailbox)
					return run(ctx, cfg, t, box)
				}
				r := probe.Run(context.Background(), imapWith(prober), cfg)
				if r.Status != probe.StatusUp || box == nil || box.nonce == "" {
					b.Fatalf("round trip failed:\n%s", dump(r))
				}
				accepted := box.seen.Add(-r.Delivery)
				arrived, ok := w.arrival(box.nonce, 2*time.Second)
				if !ok {
					b.Fatalf("the probe %s never appeared in the maildir", box.nonce)
				}
				reported = append(reported, r.Delivery)
				truth = append(truth, arrived.Sub(accepted))
				errs = append(errs, box.seen.Sub(arrived))
			}
			b.StopTimer()
			b.ReportMetric(benchMS(benchQuantile(errs, 0.5)), "err-p50-ms")
			b.ReportMetric(benchMS(benchQuantile(errs, 0.95)), "err-p95-ms")
			b.ReportMetric(benchMS(benchQuantile(truth, 0.5)), "true-p50-ms")
			b.ReportMetric(benchMS(benchQuantile(reported, 0.5)), "reported-p50-ms")
			rows[mode.name] = fmt.Sprintf("%-8s %4d %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f", mode.name, len(errs),
				benchMS(benchQuantile(truth, 0.5)), benchMS(benchQuantile(reported, 0.5)), benchMS(benchQuantile(errs, 0.5)), benchMS(benchQuantile(errs, 0.95)),
				benchMS(slices.Min(errs)), benchMS(slices.Max(errs)))
		})
	}
	if len(rows) > 0 {
		fmt.Printf("\ndelivery time, ms: true (SMTP 250 → file in the maildir), reported, error (reported − true)\n")
		fmt.Printf("%-8s %4s %10s %10s %10s %10s %10s %10s\n", "mode", "n", "true p50", "rep. p50", "err p50", "err p95", "err min", "err max")
		for _, m := range modes {
			if r, ok := rows[m.name]; ok {
				fmt.Println(r)
			}
		}
		fmt.Println()
	}
}

// benchBox remembers when the mailbox leg saw which probe.
type benchBox struct {
	*imapMailbox
	seen  time.Time
	nonce string
}

func (b *benchBox) await(ctx context.Context, p *Probe, attempt func()) (*sighting, error) {
	b.nonce = p.Nonce
	s, err := b.imapMailbox.await(ctx, p, attempt)
	if s != nil {
		b.seen = s.Seen
	}
	return s, err
}

// benchMaildirWatch notes when each message file first appears in a maildir's
// folders, by the probe nonce it carries, looking every millisecond.
type benchMaildirWatch struct {
	mu    sync.Mutex
	first map[string]time.Time // nonce → first seen
	known map[string]bool      // base file names seen
}

func benchWatchMaildir(tb testing.TB, dirs ...string) *benchMaildirWatch {
	w := &benchMaildirWatch{first: map[string]time.Time{}, known: map[string]bool{}}
	stop := make(chan struct{})
	done := make(chan struct{})
	w.scan(dirs, true)
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				w.scan(dirs, false)
			}
		}
	}()
	tb.Cleanup(func() {
		close(stop)
		<-done
	})
	return w
}

func (w *benchMaildirWatch) scan(dirs []string, initial bool) {
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		now := time.Now()
		if err != nil {
			continue
		}
		for _, ent := range ents {
			base, _, _ := strings.Cut(ent.Name(), ":")
			w.mu.Lock()
			seen := w.known[base]
			w.known[base] = true
			w.mu.Unlock()
			if seen || initial {
				continue
			}
			raw, err := os.ReadFile(filepath.Join(dir, ent.Name()))
			if err != nil {
				continue // moved on; its time is noted already
			}
			// The stamp: "v1 <installation> <nonce> <created> <hmac>".
			if i := bytes.Index(raw, []byte(Header+": ")); i >= 0 {
				line, _, _ := bytes.Cut(raw[i+len(Header)+2:], []byte("\n"))
				if f := strings.Fields(string(line)); len(f) == 5 {
					w.mu.Lock()
					w.first[f[2]] = now
					w.mu.Unlock()
				}
			}
		}
	}
}

// arrival waits up to d for the file carrying nonce to have been seen.
func (w *benchMaildirWatch) arrival(nonce string, d time.Duration) (time.Time, bool) {
	for deadline := time.Now().Add(d); ; time.Sleep(time.Millisecond) {
		w.mu.Lock()
		at, ok := w.first[nonce]
		w.mu.Unlock()
		if ok || time.Now().After(deadline) {
			return at, ok
		}
	}
}

func benchQuantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func benchMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
