package sqlite

import (
	"context"
	"errors"
	"testing"

	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// TestTxPreparesOnce: a transaction makes a prepared statement its own
// once (database/sql's (*Tx).StmtContext), not for every run: a group of
// tests runs each statement of RecordTest a few dozen times. A run in a
// transaction allocates one more than one on the pool (database/sql's
// Tx.grabConn returns a method value), not the four more of a statement
// made for it.
func TestTxPreparesOnce(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t)
	rank := sqlstore.RecordStatements(dialect)[5] // an UPDATE of no row: no such monitor
	args := []any{1, 1 << 40, 1}
	st, err := s.wdb.PrepareContext(ctx, rank)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pool := testing.AllocsPerRun(100, func() {
		if _, err := st.ExecContext(ctx, args...); err != nil {
			t.Fatal(err)
		}
	})
	tx, err := sqlstore.SQLDB{DB: s.wdb, Prepared: &s.prepared}.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	inTx := testing.AllocsPerRun(100, func() {
		if n, err := tx.Exec(ctx, rank, args...); err != nil || n != 0 {
			t.Fatalf("%d rows, %v", n, err)
		}
	})
	if inTx > pool+1 {
		t.Errorf("a prepared statement run in a transaction allocates %.0f times, on the pool %.0f", inTx, pool)
	}
}

// TestTxStatementAfterACancelledOne: a statement that failed for its
// ended context leaves the transaction's prepared statement usable for
// the next call.
func TestTxStatementAfterACancelledOne(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t)
	rank := sqlstore.RecordStatements(dialect)[5]
	tx, err := sqlstore.SQLDB{DB: s.wdb, Prepared: &s.prepared}.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tx.Exec(ended, rank, 1, 1<<40, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("under an ended context: %v", err)
	}
	if _, err := tx.Exec(ctx, rank, 1, 1<<40, 1); err != nil {
		t.Fatalf("then under a live one: %v", err)
	}
}
