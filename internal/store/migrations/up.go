package migrations

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"
)

// NewerError is a database whose schema is newer than this binary knows:
// a newer mailmon wrote it. It is refused, not used: this binary would
// misread the tables a newer version changed.
type NewerError struct {
	Database, Known int64 // the database's schema version, this binary's latest
}

func (e *NewerError) Error() string {
	return fmt.Sprintf("the database is at schema version %d, newer than this mailmon knows (version %d): "+
		"a newer mailmon wrote it; upgrade mailmon to that version (or restore a backup taken before the upgrade)", e.Database, e.Known)
}

// Up applies the migrations p does not find in its database, and refuses
// (*NewerError) a database at a version above the last of them. Up first:
// on a newer database every migration this binary knows is applied
// already, so it changes nothing there.
func Up(ctx context.Context, p *goose.Provider) error {
	if _, err := p.Up(ctx); err != nil {
		return err
	}
	db, err := p.GetDBVersion(ctx)
	if err != nil {
		return err
	}
	srcs := p.ListSources()
	if known := srcs[len(srcs)-1].Version; db > known {
		return &NewerError{Database: db, Known: known}
	}
	return nil
}
