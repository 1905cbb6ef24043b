package sqlstore

import (
	"context"
	"database/sql"
)

// SQLDB is a database/sql pool as a DB. Its transactions run the
// statements of Prepared prepared.
type SQLDB struct {
	DB       *sql.DB
	Prepared *Prepared // nil: none
}

// Prepared is statements prepared on a pool once, and run prepared
// (database/sql reuses a statement on the connection it was prepared on:
// a pool of one connection, SQLite's writer, never prepares it again).
// Its zero value has none.
type Prepared struct {
	index map[string]int // query → stmts' index
	stmts []*sql.Stmt
}

// Prepare prepares queries on db. A Prepared is read without a lock: it
// is prepared before its SQLDB runs a transaction.
func (p *Prepared) Prepare(ctx context.Context, db *sql.DB, queries []string) error {
	if p.index == nil {
		p.index = map[string]int{}
	}
	for _, q := range queries {
		if _, ok := p.index[q]; ok {
			continue
		}
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		p.index[q] = len(p.stmts)
		p.stmts = append(p.stmts, st)
	}
	return nil
}

// Close closes the statements.
func (p *Prepared) Close() {
	for _, st := range p.stmts {
		st.Close()
	}
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
	return &sqlTx{tx: tx, prepared: d.Prepared}, nil
}

type sqlTx struct {
	tx       *sql.Tx
	prepared *Prepared
	// stmts are prepared's statements for tx, each made on its first use
	// and closed with tx (by database/sql). Made for every statement, at
	// a few thousand tests a second, they were the writer's largest
	// allocation after the driver's (database/sql's (*Tx).StmtContext:
	// the statement, its connection's dependency on the pool's, 162 MB
	// in serve's profile at 100,000 monitors); a group of tests makes
	// each once.
	stmts []*sql.Stmt
}

// stmt is query's statement for t, nil if it is not prepared.
func (t *sqlTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.prepared == nil {
		return nil
	}
	i, ok := t.prepared.index[query]
	if !ok {
		return nil
	}
	if t.stmts == nil {
		t.stmts = make([]*sql.Stmt, len(t.prepared.stmts))
	}
	if t.stmts[i] == nil {
		if ctx.Err() != nil {
			// A statement made under an ended context keeps its error
			// (database/sql's stickyErr): this call's, not the tx's.
			return t.tx.StmtContext(ctx, t.prepared.stmts[i])
		}
		t.stmts[i] = t.tx.StmtContext(ctx, t.prepared.stmts[i])
	}
	return t.stmts[i]
}

func (t *sqlTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if st := t.stmt(ctx, query); st != nil {
		return rowsAffected(st.ExecContext(ctx, args...))
	}
	return rowsAffected(t.tx.ExecContext(ctx, query, args...))
}

func (t *sqlTx) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	return sqlRows(t.tx.QueryContext(ctx, query, args...))
}

func (t *sqlTx) QueryRow(ctx context.Context, query string, args ...any) Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t *sqlTx) Commit(context.Context) error   { return t.tx.Commit() }
func (t *sqlTx) Rollback(context.Context) error { return t.tx.Rollback() }

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
