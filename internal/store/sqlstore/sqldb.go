package sqlstore

import (
	"context"
	"database/sql"
)

// SQLDB is a database/sql pool as a DB. Statements in prepared, prepared
// on the pool once, run prepared (database/sql reuses a statement on the
// connection it was prepared on: a pool of one connection, SQLite's
// writer, never prepares it again).
type SQLDB struct {
	DB       *sql.DB
	Prepared map[string]*sql.Stmt
}

func (d SQLDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return rowsAffected(d.DB.ExecContext(ctx, query, args...))
}

func (d SQLDB) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	return sqlRows(d.DB.QueryContext(ctx, query, args...))
}

func (d SQLDB) QueryRow(ctx context.Context, query string, args ...any) Row {
	return d.DB.QueryRowContext(ctx, query, args...)
}

func (d SQLDB) Begin(ctx context.Context) (Tx, error) {
	tx, err := d.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return sqlTx{tx, d.Prepared}, nil
}

type sqlTx struct {
	tx       *sql.Tx
	prepared map[string]*sql.Stmt
}

func (t sqlTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if st := t.prepared[query]; st != nil {
		return rowsAffected(t.tx.StmtContext(ctx, st).ExecContext(ctx, args...))
	}
	return rowsAffected(t.tx.ExecContext(ctx, query, args...))
}

func (t sqlTx) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	return sqlRows(t.tx.QueryContext(ctx, query, args...))
}

func (t sqlTx) QueryRow(ctx context.Context, query string, args ...any) Row {
	if st := t.prepared[query]; st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t sqlTx) Commit(context.Context) error   { return t.tx.Commit() }
func (t sqlTx) Rollback(context.Context) error { return t.tx.Rollback() }

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// rows is *sql.Rows as Rows (whose Close reports nothing: Err does).
type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }

func sqlRows(r *sql.Rows, err error) (Rows, error) {
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}
