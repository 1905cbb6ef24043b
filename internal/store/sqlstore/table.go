package sqlstore

import (
	"context"

	"github.com/mailmon/mailmon/internal/store"
)

// named is a table whose rows have an id and a unique name (devices,
// alerts, credentials, users, tokens), and how its rows are read.
type named[T any] struct {
	table, cols string
	scan        func(Row) (T, error)
}

// get returns the row whose column key is v.
func (n named[T]) get(ctx context.Context, c Conn, key string, v any) (*T, error) {
	return one(n.scan(c.QueryRow(ctx, `SELECT `+n.cols+` FROM `+n.table+` WHERE `+key+`=?`, v)))
}

// one returns a scanned row, or its error.
func one[T any](v T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// all returns every row, by name.
func (n named[T]) all(ctx context.Context, c Conn) ([]T, error) {
	return List(ctx, c, n.scan, `SELECT `+n.cols+` FROM `+n.table+` ORDER BY name`)
}

// page returns a page of the rows, by name (by id for p.ByID), and how
// many there are.
func (n named[T]) page(ctx context.Context, c Conn, p store.Page) ([]T, int, error) {
	var total int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM `+n.table).Scan(&total); err != nil {
		return nil, 0, err
	}
	if p.ByID {
		out, err := List(ctx, c, n.scan, `SELECT `+n.cols+` FROM `+n.table+` WHERE id>? ORDER BY id LIMIT ?`, p.After, p.LimitOr(100))
		return out, total, err
	}
	out, err := List(ctx, c, n.scan, `SELECT `+n.cols+` FROM `+n.table+` ORDER BY name LIMIT ? OFFSET ?`, p.LimitOr(100), p.Offset)
	return out, total, err
}

// delete deletes the row id (store.ErrNotFound if there is none).
func (n named[T]) delete(ctx context.Context, c Conn, id int64) error {
	return affected(c.Exec(ctx, `DELETE FROM `+n.table+` WHERE id=?`, id))
}
