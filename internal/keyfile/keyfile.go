// Package keyfile loads key material: from a file the user names (refused
// when others may read it), from an environment variable, or from a file in
// the configuration directory, created with mode 0600 on first use. Keys
// never print themselves.
//
// Its defaults are those of this installation's key (MAILMON_SECRET, the
// file "secret"): the key under which round-trip probe messages are signed,
// so that mailmon deletes only the messages it sent itself. The vault's
// storage key is loaded through it too, under its own names.
package keyfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MinLen is the shortest secret accepted, in bytes.
const MinLen = 16

// InstallationEnv names the environment variable that may hold the
// installation key.
const InstallationEnv = "MAILMON_SECRET"

// Key is key material. It never prints itself.
type Key []byte

func (Key) String() string   { return "[redacted]" }
func (Key) GoString() string { return "[redacted]" }

// Source says where a key comes from, in order of precedence: a file
// named by the user, the environment, or the default file in the user's
// configuration directory (created when missing).
type Source struct {
	File   string              // --secret-file
	Getenv func(string) string // nil: os.Getenv
	Dir    string              // default directory; "": os.UserConfigDir()/mailmon
	Env    string              // environment variable; "": InstallationEnv
	Name   string              // file name in Dir; "": "secret"
}

// Load returns the key.
func (s Source) Load() (Key, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env, name := s.Env, s.Name
	if env == "" {
		env = InstallationEnv
	}
	if name == "" {
		name = "secret"
	}
	switch {
	case s.File != "":
		return readFile(s.File)
	case getenv(env) != "":
		return check([]byte(strings.TrimSpace(getenv(env))), env)
	}
	dir := s.Dir
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, fmt.Errorf("secret: no configuration directory (set %s or --secret-file): %w", InstallationEnv, err)
		}
		dir = filepath.Join(base, "mailmon")
	}
	path := filepath.Join(dir, name)
	k, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return create(dir, path)
	}
	return k, err
}

func readFile(path string) (Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret file %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	return check([]byte(strings.TrimSpace(string(b))), path)
}

func check(b []byte, from string) (Key, error) {
	if len(b) < MinLen {
		return nil, fmt.Errorf("the secret in %s is shorter than %d bytes", from, MinLen)
	}
	return Key(b), nil
}

// create writes a new random secret. O_EXCL makes two first starts agree:
// the loser reads what the winner wrote.
func create(dir, path string) (Key, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	k := []byte(hex.EncodeToString(raw))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	if _, err := f.Write(append(k, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return Key(k), nil
}
