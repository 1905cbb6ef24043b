package probe

import (
	"context"
	"testing"
	"time"
)

// TestRunDeadline: Run's probe runs under the earlier of ctx's deadline
// and the timeout, and when ctx's comes first under ctx itself (no
// context, timer and registration with ctx of its own).
func TestRunDeadline(t *testing.T) {
	const timeout = 10 * time.Second
	cfg := Config{Type: "tcp", Host: "127.0.0.1", Port: 25, Timeout: timeout}
	for _, c := range []struct {
		name   string
		parent time.Duration // ctx's deadline from now; 0: none
		same   bool          // the probe gets ctx itself
	}{
		{"none", 0, false},
		{"earlier", time.Second, true},
		{"later", time.Hour, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if c.parent > 0 {
				ctx, cancel = context.WithTimeout(ctx, c.parent)
			}
			defer cancel()
			want := time.Now().Add(timeout)
			if c.parent > 0 && c.parent < timeout {
				want = time.Now().Add(c.parent)
			}
			var got context.Context
			r := Run(ctx, Kind{Name: "tcp", HasPort: true, Probe: func(pctx context.Context, _ *Config, _ *Trace) error {
				got = pctx
				return nil
			}}, cfg)
			if r.Status != StatusUp {
				t.Fatalf("status %s: %+v", r.Status, r.Error)
			}
			dl, ok := got.Deadline()
			if !ok || dl.Sub(want).Abs() > time.Second {
				t.Errorf("the probe's deadline %v (%v), want about %v", dl, ok, want)
			}
			if (got == ctx) != c.same {
				t.Errorf("the probe got ctx itself: %v, want %v", got == ctx, c.same)
			}
		})
	}
}
