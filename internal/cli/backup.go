package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mailmon/mailmon/internal/store/postgres"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

// pgDump is what the backup commands say of a PostgreSQL database.
const pgDump = "a PostgreSQL database is backed up with pg_dump (pg_dump -Fc -f mailmon.dump DB) and restored with pg_restore (see docs/operations.md)"

// Backup is "mailmon backup [--db FILE] FILE": a consistent copy of a
// SQLite database, a daemon running on it or not.
func Backup(ctx context.Context, args []string, env Env) int {
	db, dest, code := sqliteArgs("backup", args, env, "the SQLite database to copy", "FILE, the copy to write")
	if code >= 0 {
		return code
	}
	if err := sqlite.Backup(ctx, db, dest); err != nil {
		return errorf(env, "backup: %v", err)
	}
	fmt.Fprintf(env.Stdout, "backup: %s copied to %s (integrity checked)\n", db, dest)
	fmt.Fprintf(env.Stderr, "backup: the key of stored secrets is not in the copy: keep %s (or $%s, or --key-file) with it\n",
		filepath.Join(filepath.Dir(db), vault.KeyFile), vault.EnvVar)
	return ExitOK
}

// Restore is "mailmon restore [--db FILE] FILE": the backup FILE replaces
// the SQLite database, which no daemon may have open.
func Restore(ctx context.Context, args []string, env Env) int {
	db, src, code := sqliteArgs("restore", args, env, "the SQLite database to replace", "FILE, the backup to restore")
	if code >= 0 {
		return code
	}
	kept, err := sqlite.Restore(ctx, src, db)
	if errors.Is(err, sqlite.ErrInUse) {
		return errorf(env, "restore: %s: %v", db, err)
	}
	if err != nil {
		return errorf(env, "restore: %v", err)
	}
	fmt.Fprintf(env.Stdout, "restore: %s restored from %s\n", db, src)
	if kept != "" {
		fmt.Fprintf(env.Stdout, "restore: the database it replaced is kept as %s\n", kept)
	}
	return ExitOK
}

// sqliteArgs parses the flags and the file of backup and restore; code is
// the exit code when the command must end now, else -1.
func sqliteArgs(cmd string, args []string, env Env, dbUsage, what string) (db, file string, code int) {
	fs := newFlags(cmd, env)
	dbf := fs.String("db", "./mailmon.db", dbUsage)
	if file, code = oneArg(fs, args, cmd, what); code >= 0 {
		return "", "", code
	}
	if postgres.IsURL(*dbf) {
		return "", "", errorf(env, "%s: --db: %s", cmd, pgDump)
	}
	return *dbf, file, -1
}

// oneArg parses flags given before or after one argument (what), and
// returns it; code is the exit code when the command must end now, else -1.
func oneArg(fs *flag.FlagSet, args []string, cmd, what string) (arg string, code int) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		arg, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", ExitOK
		}
		return "", ExitUnknown
	}
	if arg == "" && fs.NArg() > 0 {
		arg = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return "", ExitUnknown
		}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "mailmon: %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return "", ExitUnknown
	}
	if arg == "" {
		fmt.Fprintf(fs.Output(), "mailmon: %s: give %s\n", cmd, what)
		return "", ExitUnknown
	}
	return arg, -1
}
