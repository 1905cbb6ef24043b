package postgres

import "testing"

// TestRebind: the ? of a statement written once become PostgreSQL's
// numbered parameters, in order; a statement without one is left alone.
func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                               `SELECT 1`,
		`DELETE FROM t WHERE id=?`:               `DELETE FROM t WHERE id=$1`,
		`UPDATE t SET a=?, b=? WHERE id=?`:       `UPDATE t SET a=$1, b=$2 WHERE id=$3`,
		`VALUES(?,?,?,?,?,?,?,?,?,?,?)`:          `VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		`unnest(?::bigint[], ?::text[]) LIMIT ?`: `unnest($1::bigint[], $2::text[]) LIMIT $3`,
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}
