package migrations

import (
	"context"
	"database/sql"
	"slices"
	"testing"
)

// TestFiringIndexDown: 00017 replaces the index of every monitor's state
// by one of the firing states; its Down puts the old one back.
func TestFiringIndexDown(t *testing.T) {
	ctx := context.Background()
	db, p := sqliteAt(t, 17)
	want := func(names ...string) {
		t.Helper()
		got, err := indexes(ctx, db, "monitor_status")
		if err != nil || !slices.Equal(got, names) {
			t.Errorf("indexes of monitor_status: %v, %v; want %v", got, err, names)
		}
	}
	want("monitor_status_firing")
	if _, err := p.Down(ctx); err != nil {
		t.Fatal(err)
	}
	want("monitor_status_state")
}

func indexes(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_index_list(?) ORDER BY name`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
