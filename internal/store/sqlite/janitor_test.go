package sqlite

import (
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// TestJanitorReadsThroughKeys: every statement of the janitor's pass reads
// and deletes through the keys of results and rollups (a range of each
// monitor's), never the whole table: at 100,000 monitors a scan of results
// cost seconds every 5 minutes whatever changed.
func TestJanitorReadsThroughKeys(t *testing.T) {
	db := openSQLite(t).rdb
	for _, c := range []struct {
		name, query string
		args        []any
	}{
		{"hour", sqlstore.RollHourQuery, []any{0, 0, 1}},
		{"day", sqlstore.RollDayQuery, []any{0, 1, 1, "day", 0, "hour", 0, 1}},
		{"prune", sqlstore.PruneQuery, []any{0, 1, 1, 0}},
		{"prune roll-ups", sqlstore.PruneRollupsQuery, []any{0, 1, 1, "hour", 0}},
		{"parts of results", sqlstore.PartsOfResultsQuery, []any{1000}},
		{"parts of roll-ups", sqlstore.PartsOfRollupsQuery, []any{1000}},
		{"last roll-up", sqlstore.LastRollupQuery, []any{"hour"}},
	} {
		plan := queryPlan(t, db, c.query, c.args...)
		t.Logf("%s: %q", c.name, plan)
		for _, step := range plan {
			if f := strings.Fields(step); len(f) > 1 && f[0] == "SCAN" && (f[1] == "results" || f[1] == "rollups" || f[1] == "r") {
				t.Errorf("%s: plan %q scans a whole table", c.name, plan)
			}
		}
	}
}
