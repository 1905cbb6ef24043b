package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite", to look into the files
)

// countRows counts a table's rows in the SQLite file at path, read-only
// (a daemon may be writing it).
func countRows(t *testing.T, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}

// TestBackupWhileServing is issue 22's backup: a copy taken while the
// daemon writes (results keep arriving), whole by PRAGMA integrity_check;
// a restore refused while the daemon runs, then done with it stopped, and
// a new daemon serving what the copy holds.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mailmon.db")
	var healthy atomic.Bool
	healthy.Store(true)
	target := smtpTarget(t, &healthy)
	monitor := func(name string) string {
		return `
      - name: ` + name + `
        type: smtp
        port: ` + strconv.Itoa(target.Port) + `
        timing: {max_duration: 90ms, up_every: 100ms}`
	}
	cfg := filepath.Join(dir, "one.yaml")
	os.WriteFile(cfg, []byte("devices:\n  - name: target\n    address: 127.0.0.1\n    monitors:"+monitor("first")+"\n"), 0o600)
	env := []string{"MAILMON_SECRET=backup-test-installation-secret-0123"}
	if code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	_, tok, _, _ := mailmon(t, nil, "token", "create", "--name", "t", "--db", db)
	tok = strings.TrimSpace(tok)

	// The daemon tests every 100 ms; the waits for its results allow a
	// minute, as a daemon under the race detector on a loaded machine
	// was seen to need more than 15 s for its first three.
	const within = time.Minute
	d := startNode(t, db, env, "--min-interval", "100ms")
	waitFor(t, "the daemon's first results", within, func() bool { return countRows(t, db, "results") >= 3 })

	backup := filepath.Join(t.TempDir(), "copy.db")
	code, out, errOut, _ := mailmon(t, nil, "backup", "--db", db, backup)
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "storage.key") {
		t.Errorf("backup does not say to keep the storage key: %s", errOut)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the copy: %v, mode %v; want 0600 (it holds sealed secrets)", err, fi.Mode())
	}
	inCopy := countRows(t, backup, "results")
	atBackup := countRows(t, db, "results")
	waitFor(t, "results after the backup", within, func() bool { return countRows(t, db, "results") >= atBackup+3 })
	if inCopy < 3 {
		t.Errorf("the copy holds %d results, want the 3 or more stored before it", inCopy)
	}
	c, err := sql.Open("sqlite", "file:"+backup+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := c.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check of the copy: %q %v", check, err)
	}
	c.Close()

	// A change after the backup, which the restore takes back.
	cfg2 := filepath.Join(dir, "two.yaml")
	os.WriteFile(cfg2, []byte("devices:\n  - name: target\n    address: 127.0.0.1\n    monitors:"+monitor("first")+monitor("second")+"\n"), 0o600)
	if code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg2, "--db", db); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	if code, _, errOut, _ := mailmon(t, nil, "restore", "--db", db, backup); code == 0 || !strings.Contains(errOut, "in use") {
		t.Fatalf("restore under a running daemon: exit %d, %s", code, errOut)
	}
	if err := d.stop(); err != nil {
		t.Fatalf("serve on SIGTERM: %v\n%s", err, d.stderr.String())
	}
	if code, out, errOut, _ := mailmon(t, nil, "restore", "--db", db, backup); code != 0 || !strings.Contains(out, db+".before-restore") {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	if n := countRows(t, db+".before-restore", "monitors"); n != 2 {
		t.Errorf("the replaced database, kept, has %d monitors, want 2", n)
	}

	d = startNode(t, db, env, "--min-interval", "100ms")
	var list struct {
		Total int
		Items []struct{ Name string }
	}
	if code := d.get("/api/v1/monitors", tok, &list); code != 200 || list.Total != 1 || list.Items[0].Name != "first" {
		t.Fatalf("the restored daemon serves %d: %+v, want the backup's one monitor", code, list)
	}
	waitFor(t, "the restored daemon's results", within, func() bool { return countRows(t, db, "results") > inCopy })
}
