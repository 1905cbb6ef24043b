package sqlite

import (
	"testing"

	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// TestStatesReadInTableOrder: the engine's load reads every state in
// one pass over monitor_status in the order the table is kept (by slot,
// its rowid: "SCAN monitor_status"), not through monitor_id's unique
// index. Read by monitor id, a page of monitors' statuses lay scattered
// over the whole table since migration 00018 and each took a page read
// of its own: Load at 100,000 monitors cost 42 instead of 33 µs of CPU a
// monitor (BenchmarkLoad -load.tested, medians). Through the index
// ("SCAN monitor_status USING INDEX sqlite_autoindex_monitor_status_1",
// as an ORDER BY monitor_id would have it) the pass is as scattered.
func TestStatesReadInTableOrder(t *testing.T) {
	plan := queryPlan(t, openSQLite(t).rdb, sqlstore.StatesQuery)
	if len(plan) != 1 || plan[0] != "SCAN monitor_status" {
		t.Errorf("plan of the states' read: %q; want [\"SCAN monitor_status\"] (the table in rowid order, no index)", plan)
	}
}
