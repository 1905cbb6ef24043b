package apply

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/mailmon/mailmon/internal/bench/applygen"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

// BenchmarkApply parses and applies a generated file of
// $MAILMON_BENCH_APPLY_MONITORS monitors (default 1,000, so that
// "make bench-smoke" stays short) to a new SQLite database; "make
// bench-apply" runs the command at 10,000 to 100,000. It reports seconds
// per apply and the bytes allocated.
func BenchmarkApply(b *testing.B) {
	n := 1000
	if v := os.Getenv("MAILMON_BENCH_APPLY_MONITORS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("MAILMON_BENCH_APPLY_MONITORS=%q: a number of monitors", v)
		}
	}
	var buf bytes.Buffer
	if err := applygen.Write(&buf, n); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	v, _ := vault.New([]byte("apply-bench-key-0123456789"))
	env := Env{Getenv: func(string) string { return "bench-password" }}
	ctx := context.Background()
	b.Run("monitors="+strconv.Itoa(n), func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "m.db"))
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			b.StartTimer()
			f, err := config.Parse("bench.yaml", data)
			if err != nil {
				b.Fatal(err)
			}
			rep, err := Apply(ctx, s, v, f, env)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if got := len(rep); got < n {
				b.Fatalf("%d changes for %d monitors", got, n)
			}
			s.Close()
			b.StartTimer()
		}
	})
}
