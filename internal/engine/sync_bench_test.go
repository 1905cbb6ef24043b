package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// BenchmarkSync is the watch's look for changes made behind the engine's
// back (every WatchEvery) over -load.monitors smtp monitors loaded from
// SQLite (BenchmarkLoad's), with ten credentials stored and nothing
// written between looks: "unchanged" is a look as the watch makes them,
// one after another (the full ones among them included); "full" a look
// that compares every monitor. CPU of the process (the database's
// included) and allocations per look.
func BenchmarkSync(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "sync.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	check := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	smtpMonitors(b, st, max(*loadMonitors/100, 1), 100, certs.NewCA(b).File(b))
	for i := range 10 {
		check(st.PutCredential(ctx, &store.Credential{Name: fmt.Sprint("cred", i), Spec: json.RawMessage(`{"user":"ops"}`)}))
	}
	noop := func(context.Context, *probe.Config, *probe.Trace) error { return nil }
	e := New(Options{Store: st, Probers: func(string) (probe.Prober, bool) { return noop, true }})
	check(e.Load(ctx))
	check(e.sync(ctx))
	look := func(b *testing.B, before func()) {
		perUnit(b, "look", 1, func() {
			before()
			if err := e.sync(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.Run("unchanged", func(b *testing.B) { look(b, func() {}) })
	b.Run("full", func(b *testing.B) { look(b, e.synced.forget) })
}
