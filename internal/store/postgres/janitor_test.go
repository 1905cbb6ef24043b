package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlstore"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

// TestJanitorReadsThroughKeys: on an analyzed database of 20 monitors (a
// week of results 10 minutes apart, 90 days of hourly roll-ups), every
// janitor statement has a plan that reads and deletes the janitor's rows
// through the keys (a seek a monitor: each scan of results or rollups an
// index scan whose condition names the monitor), none that needs a
// sequential scan or a whole index, which grow with what is stored rather
// than with what changed. The old statements had no other plan: filtered
// on time alone, with sequential scans disabled (as here) they read the
// whole primary key.
//
// Sequential scans, hash and merge joins are disabled for the EXPLAIN,
// so that it shows whether such a plan exists, because on a test-size
// table the choice is the planner's near thing, not the janitor's: with
// 100 monitors and a week of results a minute apart (a million rows,
// analyzed) it took a parallel scan for the hour's read in three runs of
// five, and with sequential scans disabled a hash semi-join over the
// whole primary key for the prune in some runs (its sampled statistics
// differ from one ANALYZE to the next). A seek a monitor costs about the
// same whatever is stored, a whole read grows with the raw retention: on
// a user's server (7 days of results, a hundredth of them or fewer in
// the hour rolled or the rows pruned) the keyed plan is the cheaper by
// far. SQLite's planner, deterministic, is held to it as it plans
// (internal/store/sqlite TestJanitorReadsThroughKeys).
func TestJanitorReadsThroughKeys(t *testing.T) {
	ctx := context.Background()
	url := realpg.NewDB(t)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d := &store.Device{Name: "d", Address: "d"}
	if err := s.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("m", i), Type: "smtp", Enabled: true, Spec: []byte(`{}`)}
		if err := s.PutMonitor(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range []string{
		`INSERT INTO results(monitor_id, t_ms, status, rtt_us) SELECT m.id, g*600000::bigint, 0, 1000 FROM monitors m, generate_series(1, 7*24*6) g`,
		`INSERT INTO rollups SELECT m.id, 'hour', g*3600000::bigint, 6, 6, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0 FROM monitors m, generate_series(1, 90*24) g`,
		`ANALYZE`,
		`SET enable_seqscan = off`,
		`SET enable_hashjoin = off`,
		`SET enable_mergejoin = off`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []struct {
		name, query string
		args        []any
	}{
		{"hour", sqlstore.RollHourQuery, []any{int64(0), int64(100 * 3600000), int64(101 * 3600000)}},
		{"day", sqlstore.RollDayQuery, []any{int64(10), int64(20), int64(20), "day", int64(0), "hour", int64(24 * 3600000), int64(48 * 3600000)}},
		{"prune", sqlstore.PruneQuery, []any{int64(10), int64(20), int64(20), int64(3600000)}},
		{"prune roll-ups", sqlstore.PruneRollupsQuery, []any{int64(10), int64(20), int64(20), "hour", int64(3600000)}},
		{"parts of results", sqlstore.PartsOfResultsQuery, []any{int64(1000)}},
		{"parts of roll-ups", sqlstore.PartsOfRollupsQuery, []any{int64(1000)}},
		{"last roll-up", sqlstore.LastRollupQuery, []any{"hour"}},
	} {
		rows, err := c.Query(ctx, `EXPLAIN `+rebind(q.query), q.args...)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", q.name, text)
		if bad := wholeReads(plan); bad != "" {
			t.Errorf("%s: the plan reads a whole table or index (%s):\n%s", q.name, bad, text)
		}
	}
}

// scanOn is a plan node reading results or rollups, or an index of theirs
// (a bitmap index scan names the index).
var scanOn = regexp.MustCompile(`(Seq Scan|Index Scan|Index Only Scan|Bitmap Index Scan|Bitmap Heap Scan)( Backward)?( using \S+)? on (results|rollups)(_\w+)?\b`)

// wholeReads names the first node of an EXPLAIN's lines that reads
// results or rollups whole: a sequential scan, or an index scan whose
// condition does not name the monitor (the keys lead with it); "" if
// none. A bitmap heap scan reads what its index scan, checked in turn,
// found.
func wholeReads(plan []string) string {
	for i, line := range plan {
		m := scanOn.FindStringSubmatch(line)
		switch {
		case m == nil, m[1] == "Bitmap Heap Scan":
			continue
		case m[1] == "Seq Scan":
			return strings.TrimSpace(line)
		}
		keyed := false
		for _, next := range plan[i+1:] {
			if strings.Contains(next, "->") {
				break
			}
			if strings.Contains(next, "Index Cond:") && strings.Contains(next, "monitor_id") {
				keyed = true
			}
		}
		if !keyed {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
