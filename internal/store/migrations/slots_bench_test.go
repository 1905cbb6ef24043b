package migrations

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

func TestMain(m *testing.M) { realpg.Main(m) }

var upgradeMonitors = flag.Int("upgrade.monitors", 1000, "BenchmarkUpgradeSlots: the monitors (and statuses) of the database it upgrades")

// fillAt17 gives a database at 00017 n monitors, ten a device, each with
// a status of a daemon's size (its JSON, a last result, a recent strip),
// in a few statements whatever n.
func fillAt17(ctx context.Context, db *sql.DB, dialect goose.Dialect, n int) error {
	arg := "?"
	if dialect == goose.DialectPostgres {
		arg = "$1"
	}
	upTo := func(k int) string {
		return `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ` + strconv.Itoa(k) + `) `
	}
	pad := strings.Repeat("x", 200)
	for _, q := range []string{
		upTo((n+9)/10) + `INSERT INTO devices(id, name, address, created_ms, updated_ms)
			SELECT i, 'd' || CAST(i AS TEXT), 'h' || CAST(i AS TEXT), 1, 1 FROM n`,
		upTo(n) + `INSERT INTO monitors(id, device_id, name, type, enabled, spec, created_ms, updated_ms, shown_rank)
			SELECT i, (i+9)/10, 'm' || CAST(i AS TEXT), 'smtp', true, '{"timing":{"up_every":"1m"}}', 1, 1, 0 FROM n`,
		upTo(n) + `INSERT INTO monitor_status(monitor_id, state, status, last_result, last_ms, version, recent)
			SELECT i, CASE WHEN i % 50 = 0 THEN 'down' ELSE 'up' END, '{"n":' || CAST(i AS TEXT) || ',"pad":"` + pad + `"}',
			'{"rtt":' || CAST(i AS TEXT) || ',"pad":"` + pad + `"}', 1700000000000 + i, i, ` + arg + ` FROM n`,
	} {
		var args []any
		if strings.Contains(q, arg) {
			args = append(args, make([]byte, 120))
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%s: %w", q[:60], err)
		}
	}
	return nil
}

// cpu is the process's user and system time.
func cpu() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU is the CPU time of PostgreSQL's backend pid (from /proc, in
// clock ticks of 10 ms), or -1 where it cannot be read.
func backendCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after "pid (comm) "
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(u+k) * 10 * time.Millisecond
}

// BenchmarkUpgradeSlots: how long a database at 00017 with
// -upgrade.monitors monitors and statuses takes to migrate to the newest
// version (00018, which gives every status its slot, and 00019), on
// either store: wall time (and 00018's share), this process's CPU, and on PostgreSQL the
// server's (its backend's) CPU. The database is built outside the timer.
//
//	go test ./internal/store/migrations -run '^$' -bench UpgradeSlots -benchtime 1x -upgrade.monitors 100000
func BenchmarkUpgradeSlots(b *testing.B) {
	n := *upgradeMonitors
	for _, dialect := range []goose.Dialect{goose.DialectSQLite3, goose.DialectPostgres} {
		b.Run(fmt.Sprintf("%s/%d", dialect, n), func(b *testing.B) {
			ctx := context.Background()
			var wall, slots, client, server time.Duration
			for range b.N {
				b.StopTimer()
				var db *sql.DB
				var p *goose.Provider
				if dialect == goose.DialectPostgres {
					var err error
					if db, err = sql.Open("pgx", realpg.NewDB(b)); err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { db.Close() })
					db.SetMaxOpenConns(1) // one backend, whose CPU is the server's share
					if p, err = NewProvider(dialect, db); err != nil {
						b.Fatal(err)
					}
					if _, err := p.UpTo(ctx, SlotsVersion-1); err != nil {
						b.Fatal(err)
					}
				} else {
					db, p = sqliteAt(b, SlotsVersion-1)
				}
				if err := fillAt17(ctx, db, dialect, n); err != nil {
					b.Fatal(err)
				}
				pid := -1
				if dialect == goose.DialectPostgres {
					if err := db.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
						b.Fatal(err)
					}
				}
				c0, s0, t0 := cpu(), backendCPU(pid), time.Now()
				b.StartTimer()
				if _, err := p.UpTo(ctx, SlotsVersion); err != nil {
					b.Fatal(err)
				}
				slots += time.Since(t0)
				if err := Up(ctx, p); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				wall += time.Since(t0)
				client += cpu() - c0
				if s1 := backendCPU(pid); s0 >= 0 && s1 >= 0 {
					server += s1 - s0
				}
				var got int
				if err := db.QueryRowContext(ctx, `SELECT count(*) FROM monitor_status`).Scan(&got); err != nil || got != n {
					b.Fatalf("%d statuses after the upgrade, %v; want %d", got, err, n)
				}
			}
			b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/op")
			b.ReportMetric(slots.Seconds()/float64(b.N), "00018-wall-s/op")
			b.ReportMetric(client.Seconds()/float64(b.N), "cpu-s/op")
			if dialect == goose.DialectPostgres {
				b.ReportMetric(server.Seconds()/float64(b.N), "server-cpu-s/op")
			}
		})
	}
}

// TestUpgradeSlotsManyPostgres: on PostgreSQL 00018 gives each of
// thousands of statuses its slot at a minute (sent at once, as arrays)
// and changes nothing else; its down migration drops the column and
// keeps every status.
func TestUpgradeSlotsManyPostgres(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("pgx", realpg.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := NewProvider(goose.DialectPostgres, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, SlotsVersion-1); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	if err := fillAt17(ctx, db, goose.DialectPostgres, n); err != nil {
		t.Fatal(err)
	}
	const sum = `SELECT count(*), sum(version), sum(last_ms), sum(length(status)), count(*) FILTER (WHERE state = 'down') FROM monitor_status`
	var before, after [5]int64
	if err := db.QueryRowContext(ctx, sum).Scan(&before[0], &before[1], &before[2], &before[3], &before[4]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, SlotsVersion); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT monitor_id, slot FROM monitor_status`)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for rows.Next() {
		var id, slot int64
		if err := rows.Scan(&id, &slot); err != nil {
			t.Fatal(err)
		}
		seen++
		if want := slotOf(id); slot != want {
			t.Errorf("monitor %d: slot %d, want %d", id, slot, want)
		}
	}
	if err := rows.Err(); err != nil || seen != n {
		t.Fatalf("%d statuses after 00018, %v; want %d", seen, err, n)
	}
	rows.Close()
	if err := db.QueryRowContext(ctx, sum).Scan(&after[0], &after[1], &after[2], &after[3], &after[4]); err != nil || after != before {
		t.Errorf("statuses after 00018 %v, %v; before %v", after, err, before)
	}
	if _, err := p.DownTo(ctx, SlotsVersion-1); err != nil {
		t.Fatal(err)
	}
	var cols int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'monitor_status' AND column_name = 'slot'`).Scan(&cols); err != nil || cols != 0 {
		t.Errorf("%d slot columns after 00018's down, %v", cols, err)
	}
	if err := db.QueryRowContext(ctx, sum).Scan(&after[0], &after[1], &after[2], &after[3], &after[4]); err != nil || after != before {
		t.Errorf("statuses after 00018's down %v, %v; before %v", after, err, before)
	}
}
