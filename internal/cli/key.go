package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/storagekey"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/postgres"
	"github.com/mailmon/mailmon/internal/vault"
)

// storageKey loads the key of stored secrets and says where it came from:
// --key-file, else $MAILMON_SECRET_KEY, else (SQLite) storage.key beside
// the database, created on first use. A PostgreSQL database is shared by
// nodes on several machines, so its key must be given, the same to every
// node.
func storageKey(o *dbOptions, env Env) (*vault.Vault, storagekey.Origin, error) {
	var k keyfile.Key
	var err error
	var origin storagekey.Origin
	switch {
	case o.keyFile != "":
		origin.File = o.keyFile
		k, err = keyfile.Source{File: o.keyFile}.Load()
	case env.Getenv(vault.EnvVar) != "":
		origin.Env = vault.EnvVar
		k, err = keyfile.Source{Getenv: env.Getenv, Env: vault.EnvVar, Dir: os.TempDir()}.Load()
	case postgres.IsURL(o.db):
		return nil, origin, fmt.Errorf("--db postgres://: the key of stored secrets must be the same on every node: set $%s or --key-file FILE", vault.EnvVar)
	default:
		dir := filepath.Dir(o.db)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, origin, fmt.Errorf("--db: %v", err)
		}
		origin.File = filepath.Join(dir, vault.KeyFile)
		_, statErr := os.Stat(origin.File)
		origin.Created = errors.Is(statErr, fs.ErrNotExist)
		v, err := vault.Load(dir, env.Getenv)
		return v, origin, err
	}
	if err != nil {
		return nil, origin, err
	}
	v, err := vault.New(k)
	return v, origin, err
}

// unlock checks the key against the store before a command touches it
// (storagekey.Check), and, unless the command only reads, brings a store made
// by an older mailmon up to date (a verifier, sealed webhook URLs).
func unlock(ctx context.Context, st store.Store, v *vault.Vault, origin storagekey.Origin, readOnly bool, env Env) error {
	var warnings []string
	var err error
	if readOnly {
		warnings, err = storagekey.Check(ctx, st, v, origin, false)
	} else {
		warnings, err = storagekey.Unlock(ctx, st, v, origin)
	}
	for _, w := range warnings {
		fmt.Fprintln(env.Stderr, "mailmon: warning:", w)
	}
	return err
}

const keyUsage = `usage: mailmon key rotate [--db FILE|postgres://…] [--key-file FILE] [--new-key-file FILE]

Seals every stored secret (monitors, alerts, credentials, webhook URLs and
the key check) under a new storage key, in one transaction. Stop every
"mailmon serve" of the database first.

With a key file (storage.key beside a SQLite database, or --key-file), the
new key is written to FILE.new first (or taken from --new-key-file), the
database is sealed under it, and FILE.new then replaces FILE. Interrupted
after the database changed, the next start says so, and "mailmon key
rotate" run again finishes the job.

With $MAILMON_SECRET_KEY, --new-key-file is required: the new key is read
from it (a random one is written there first if it does not exist); after
the rotation, set $MAILMON_SECRET_KEY to its content on every node.
`

// Key is "mailmon key rotate".
func Key(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && (isHelp(args[0]) || args[0] == "help") {
		args = []string{"rotate", "--help"}
	}
	if len(args) == 0 || args[0] != "rotate" {
		fmt.Fprint(env.Stderr, keyUsage)
		return ExitUnknown
	}
	fs := newFlags("key rotate", env)
	dbo := dbFlags(fs)
	newKey := fs.String("new-key-file", "", "the new key: read from FILE, or a random one written there first when it does not exist (required with $"+vault.EnvVar+")")
	help := func(w io.Writer) {
		fmt.Fprint(w, keyUsage+"\nflags:\n")
		printFlags(w, fs, nil, nil)
	}
	if code, done := parseFlags(fs, args[1:], env, help); done {
		return code
	}
	r := rotation{env: env, db: dbo, newKeyFile: *newKey, now: time.Now}
	if err := r.run(ctx); err != nil {
		return errorf(env, "key rotate: %v", err)
	}
	return ExitOK
}

// rotation is one "mailmon key rotate". step, when set, is called between
// the steps ("side file written", "committed"); a test makes it fail to
// leave the rotation where a crash would.
type rotation struct {
	env        Env
	db         *dbOptions
	newKeyFile string
	now        func() time.Time
	step       func(name string) error
}

func (r *rotation) between(name string) error {
	if r.step == nil {
		return nil
	}
	return r.step(name)
}

func (r *rotation) run(ctx context.Context) error {
	cur, origin, err := storageKey(r.db, r.env)
	if err != nil {
		return err
	}
	if origin.Env != "" && r.newKeyFile == "" {
		return fmt.Errorf("the key comes from $%s: give the new one with --new-key-file FILE (created with a random key if missing)", origin.Env)
	}
	st, err := openStoreOnly(ctx, r.db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := unlock(ctx, st, cur, origin, false, r.env); err != nil {
		var wk *storagekey.WrongKeyError
		side := storagekey.SideFile(origin.File)
		if origin.File != "" && errors.As(err, &wk) && finishable(ctx, st, side) {
			// The database is sealed under the side file's key: only the
			// rename was left to do.
			if err := replace(side, origin.File); err != nil {
				return err
			}
			fmt.Fprintf(r.env.Stdout, "finished an interrupted rotation: the new key in %s is in place\n", origin.File)
			return nil
		}
		return err
	}
	if c, ok := st.(store.Cluster); ok {
		nodes, err := c.Nodes(ctx)
		if err != nil {
			return err
		}
		if len(nodes) > 0 {
			return fmt.Errorf("%d mailmon serve nodes are running on this database (%s …): stop them first; a node keeps the key it started with", len(nodes), nodes[0].Name)
		}
	}
	// The new key is on disk before the database is sealed under it.
	target := r.newKeyFile
	if origin.File != "" {
		target = storagekey.SideFile(origin.File)
		if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err // a side file of a rotation that never committed
		}
	}
	if err := writeNewKey(target, r.newKeyFile); err != nil {
		return err
	}
	next, err := storagekey.LoadKeyFile(target)
	if err != nil {
		return err
	}
	if err := r.between("side file written"); err != nil {
		return err
	}
	abs, _ := filepath.Abs(target)
	n, err := storagekey.Rotate(ctx, st, cur, next, storagekey.Rotation{At: r.now().UTC(), NewKeyFile: abs})
	if err != nil {
		return err
	}
	if err := r.between("committed"); err != nil {
		return err
	}
	if origin.File == "" {
		fmt.Fprintf(r.env.Stdout, "rotated %d sealed values under the key in %s: set $%s to its content on every node, then delete the file\n", n, target, origin.Env)
		return nil
	}
	if err := replace(target, origin.File); err != nil {
		return err
	}
	fmt.Fprintf(r.env.Stdout, "rotated %d sealed values; the new key is in %s\n", n, origin.File)
	return nil
}

// finishable: the database's key check opens under the side file's key.
func finishable(ctx context.Context, st store.Store, side string) bool {
	next, err := storagekey.LoadKeyFile(side)
	if err != nil {
		return false
	}
	_, err = storagekey.Check(ctx, st, next, storagekey.Origin{File: side}, false)
	return err == nil
}

// writeNewKey writes the new key to path, synced: a copy of from's key, or
// a random one. A from that does not exist gets the random key first.
func writeNewKey(path, from string) error {
	var k []byte
	if from != "" {
		if _, err := os.Stat(from); errors.Is(err, fs.ErrNotExist) {
			raw := make([]byte, 32)
			rand.Read(raw)
			if err := writeSynced(from, []byte(hex.EncodeToString(raw)+"\n")); err != nil {
				return err
			}
		}
		key, err := keyfile.Source{File: from}.Load()
		if err != nil {
			return err
		}
		k = append([]byte(key), '\n')
	}
	if path == from {
		return nil
	}
	if k == nil {
		raw := make([]byte, 32)
		rand.Read(raw)
		k = []byte(hex.EncodeToString(raw) + "\n")
	}
	return writeSynced(path, k)
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// replace renames from over to, durably.
func replace(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return syncDir(filepath.Dir(to))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
