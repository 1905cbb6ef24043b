// Package migrations holds the database schema, embedded in the binary and
// applied on start by every backend.
package migrations

import "embed"

// FS holds the goose migrations.
//
//go:embed *.sql
var FS embed.FS
