package postgres

import "github.com/pressly/goose/v3/lock"

// newLocker serializes migrations of nodes starting together on one
// database (a PostgreSQL advisory lock held for the session).
func newLocker() (lock.SessionLocker, error) { return lock.NewPostgresSessionLocker() }
