package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// shipped is what the packages hold: path, owner, mode.
var shipped = []struct{ path, owner, mode string }{
	{"/usr/bin/mailmon", "root:root", "755"},
	{"/usr/bin/mailmon-check", "root:root", "755"},
	{"/lib/systemd/system/mailmon.service", "root:root", "644"},
	{"/etc/mailmon/mailmon.env", "root:root", "600"},
	{"/etc/mailmon/mail.yaml.example", "root:root", "644"},
	{"/usr/share/man/man1/mailmon.1.gz", "root:root", "644"},
	{"/usr/share/doc/mailmon/README.md", "root:root", "644"},
	{"/usr/share/doc/mailmon/docs/tls.md", "root:root", "644"},
}

func TestDebContents(t *testing.T) {
	needTools(t, "dpkg-deb")
	deb := distFile(t, "mailmon_*_amd64.deb")
	out, err := exec.Command("dpkg-deb", "--contents", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	listing := string(out)
	for _, f := range shipped {
		mode := map[string]string{"755": "-rwxr-xr-x", "644": "-rw-r--r--", "600": "-rw-------"}[f.mode]
		if !strings.Contains(listing, mode+" "+strings.ReplaceAll(f.owner, ":", "/")) || !strings.Contains(listing, " ."+f.path+"\n") {
			t.Errorf("%s is not in the .deb as %s %s:\n%s", f.path, mode, f.owner, listing)
		}
	}
	if strings.Contains(listing, "./var/lib/mailmon") {
		t.Errorf("the .deb ships /var/lib/mailmon (postinst makes it, so that removal leaves the data):\n%s", listing)
	}
	conf, err := exec.Command("dpkg-deb", "--ctrl-tarfile", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	x := exec.Command("tar", "-x", "-C", dir)
	x.Stdin = strings.NewReader(string(conf))
	if out, err := x.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "conffiles"))
	if got := strings.Fields(string(b)); strings.Join(got, " ") != "/etc/mailmon/mail.yaml.example /etc/mailmon/mailmon.env" {
		t.Errorf("conffiles: %q", got)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if _, err := os.Stat(filepath.Join(dir, s)); err != nil {
			t.Errorf("no %s: %v", s, err)
		}
	}
	if deps, _ := exec.Command("dpkg-deb", "--field", deb, "Depends").Output(); strings.TrimSpace(string(deps)) != "passwd" {
		t.Errorf("Depends: %q, want passwd (groupadd, useradd)", deps)
	}
	ver, _ := exec.Command("dpkg-deb", "--field", deb, "Version").Output()
	if want := debVersion(distVersion(t)); strings.TrimSpace(string(ver)) != want {
		t.Errorf("Version: %q, want %q (mailmon version's, with ~ before the pre-release)", ver, want)
	}
}

// debVersion is a semver as Debian orders it: 0.1.0-dev.5 below 0.1.0.
func debVersion(v string) string {
	core, meta, _ := strings.Cut(v, "+")
	core = strings.Replace(core, "-", "~", 1)
	if meta != "" {
		core += "+" + meta
	}
	return core
}

func TestRPMContents(t *testing.T) {
	needTools(t, "rpm")
	rpm := distFile(t, "mailmon-*.x86_64.rpm")
	out, err := exec.Command("rpm", "-qp", "--qf", `[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]`, rpm).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	listing := string(out)
	for _, f := range shipped {
		mode := map[string]string{"755": "-rwxr-xr-x", "644": "-rw-r--r--", "600": "-rw-------"}[f.mode]
		path := strings.Replace(f.path, "/lib/systemd/", "/usr/lib/systemd/", 1)
		if !strings.Contains(listing, mode+" "+f.owner+" "+path+"\n") {
			t.Errorf("%s %s %s is not in the .rpm:\n%s", mode, f.owner, path, listing)
		}
	}
	scripts, err := exec.Command("rpm", "-qp", "--scripts", rpm).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, scripts)
	}
	if deps, _ := exec.Command("rpm", "-qpR", rpm).Output(); !strings.Contains(string(deps), "shadow-utils") {
		t.Errorf("the .rpm does not require shadow-utils (useradd):\n%s", deps)
	}
	for _, want := range []string{"preinstall scriptlet", "useradd --system", "postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet"} {
		if !strings.Contains(string(scripts), want) {
			t.Errorf("the .rpm's scripts have no %q:\n%s", want, scripts)
		}
	}
	conf, _ := exec.Command("rpm", "-qp", "--configfiles", rpm).CombinedOutput()
	if got := strings.Fields(string(conf)); strings.Join(got, " ") != "/etc/mailmon/mail.yaml.example /etc/mailmon/mailmon.env" {
		t.Errorf("config files: %q", got)
	}
}

// stat is "owner:group mode" of each path in the root, "-" if missing.
func (r *sysroot) stat(t *testing.T, paths ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	script := `for p; do if [ -e "$p" ] || [ -L "$p" ]; then stat -c '%n %U:%G %a' "$p"; else echo "$p -"; fi; done`
	o := r.run(t, append([]string{"sh", "-c", script, "sh"}, paths...)...)
	for _, l := range strings.Split(strings.TrimSpace(o), "\n") {
		p, rest, _ := strings.Cut(l, " ")
		got[p] = rest
	}
	return got
}

func TestDebInstallRemovePurge(t *testing.T) {
	r := newSysroot(t)
	deb := r.share(t, distFile(t, "mailmon_*_amd64.deb"), "mailmon.deb")
	version := distVersion(t)

	r.run(t, "dpkg", "-i", deb)
	if got := r.run(t, "dpkg-query", "-W", "-f", "${Status} ${Version}", "mailmon"); got != "install ok installed "+debVersion(version) {
		t.Errorf("dpkg-query: %q", got)
	}
	var paths []string
	for _, f := range shipped {
		paths = append(paths, f.path)
	}
	st := r.stat(t, append(paths, "/var/lib/mailmon")...)
	for _, f := range shipped {
		if st[f.path] != f.owner+" "+f.mode {
			t.Errorf("%s: %s, want %s %s", f.path, st[f.path], f.owner, f.mode)
		}
	}
	if st["/var/lib/mailmon"] != "mailmon:mailmon 750" {
		t.Errorf("/var/lib/mailmon: %s, want mailmon:mailmon 750", st["/var/lib/mailmon"])
	}
	pw := strings.Split(strings.TrimSpace(r.run(t, "getent", "passwd", "mailmon")), ":")
	if len(pw) != 7 || pw[5] != "/var/lib/mailmon" || pw[6] != "/usr/sbin/nologin" || len(pw[2]) > 3 {
		t.Errorf("the mailmon user: %q, want a system user (uid below 1000) with home /var/lib/mailmon and no shell", pw)
	}
	if out, err := r.try(t, "test", "-L", "/etc/systemd/system/multi-user.target.wants/mailmon.service"); err != nil {
		t.Errorf("mailmon.service is not enabled: %v %s", err, out)
	}
	var v struct{ Version string }
	if out := r.run(t, "mailmon", "version", "--output", "json"); json.Unmarshal([]byte(out), &v) != nil || v.Version != version {
		t.Errorf("the installed mailmon says %q, want %s", out, version)
	}
	// -V exits 3 (UNKNOWN), as the plug-in guidelines ask.
	if out, err := r.try(t, "mailmon-check", "-V"); !strings.HasPrefix(out, "mailmon "+version+" ") || !isExit(err, 3) {
		t.Errorf("the installed mailmon-check -V: %v %q, want exit 3 and mailmon %s", err, out, version)
	}
	if out, err := r.try(t, "man", "-w", "mailmon"); err != nil || strings.TrimSpace(out) != "/usr/share/man/man1/mailmon.1.gz" {
		t.Errorf("man -w mailmon: %v %q", err, out)
	}
	// The unit as installed, with its binary and man page in place.
	if out, err := r.try(t, "systemd-analyze", "verify", "/lib/systemd/system/mailmon.service"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	// The service's command line, as the service user, on a new database;
	// and the example monitors file applied to it by the same user.
	d := r.startService(t)
	var h struct{ Status, Version string }
	if out := d.get(t, "/healthz", ""); json.Unmarshal([]byte(out), &h) != nil || h.Status != "ok" || h.Version != version {
		t.Errorf("/healthz: %q, want ok and %s", out, version)
	}
	out := r.run(t, "setpriv", "--reuid=mailmon", "--regid=mailmon", "--init-groups", "--",
		"env", "PROBE_PW=x", "RELAY_PW=y", "mailmon", "apply", "-f", "/etc/mailmon/mail.yaml.example", "--db", "/var/lib/mailmon/mailmon.db")
	if !strings.Contains(out, "monitor mail1/SMTP: created") {
		t.Errorf("apply -f /etc/mailmon/mail.yaml.example: %s", out)
	}
	d.stop()
	st = r.stat(t, "/var/lib/mailmon/mailmon.db", "/var/lib/mailmon/storage.key", "/var/lib/mailmon/.config/mailmon/secret")
	for p, s := range st {
		if s != "mailmon:mailmon 600" {
			t.Errorf("%s: %s, want mailmon:mailmon 600", p, s)
		}
	}

	// Removal keeps the data and the settings; purge deletes them.
	r.run(t, "dpkg", "-r", "mailmon")
	if got := r.run(t, "dpkg-query", "-W", "-f", "${Status}", "mailmon"); got != "deinstall ok config-files" {
		t.Errorf("after dpkg -r: %q", got)
	}
	st = r.stat(t, "/usr/bin/mailmon", "/lib/systemd/system/mailmon.service", "/etc/systemd/system/multi-user.target.wants/mailmon.service",
		"/etc/mailmon/mailmon.env", "/var/lib/mailmon/mailmon.db", "/var/lib/mailmon/storage.key")
	for p, want := range map[string]string{
		"/usr/bin/mailmon": "-", "/lib/systemd/system/mailmon.service": "-", "/etc/systemd/system/multi-user.target.wants/mailmon.service": "-",
		"/etc/mailmon/mailmon.env": "root:root 600", "/var/lib/mailmon/mailmon.db": "mailmon:mailmon 600", "/var/lib/mailmon/storage.key": "mailmon:mailmon 600",
	} {
		if st[p] != want {
			t.Errorf("after dpkg -r, %s: %s, want %s", p, st[p], want)
		}
	}
	r.run(t, "dpkg", "-P", "mailmon")
	if out, err := r.try(t, "dpkg-query", "-W", "mailmon"); err == nil {
		t.Errorf("after dpkg -P, dpkg still knows mailmon: %s", out)
	}
	for p, s := range r.stat(t, "/etc/mailmon", "/var/lib/mailmon") {
		if s != "-" {
			t.Errorf("after dpkg -P, %s is still there (%s)", p, s)
		}
	}
}

// fixtureToken is the API token of testdata/previous (README.md there).
const fixtureToken = "mm_76e8aea29048bc4c86e7ac49cd1d95014d51e65f4b1517fe1e67aae452c90528"

// An upgrade from the package before keeps the settings, the user and
// the data, and the new binary migrates a database of the previous schema.
// There is no earlier release to take the package from: "previous" is
// this package's contents under a lower version, and its data the
// fixture written by mailmon at the commit before the latest migration.
func TestDebUpgrade(t *testing.T) {
	r := newSysroot(t, "sqlite3")
	newDeb := r.share(t, distFile(t, "mailmon_*_amd64.deb"), "new.deb")
	version := distVersion(t)
	prev := &build{Binary: filepath.Join(dist(t), "bin", "mailmon"), Version: "0.0.1-previous", Out: t.TempDir(), Date: time.Unix(1764892800, 0).UTC()}
	man, err := os.ReadFile(filepath.Join(dist(t), "mailmon.1.gz"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(prev.Out, "mailmon.1.gz"), man, 0o644)
	prevDeb, err := writePackage(prev, "deb")
	if err != nil {
		t.Fatal(err)
	}
	r.share(t, prevDeb, "previous.deb")
	r.share(t, "testdata/previous/mailmon.sql", "previous.sql")
	r.share(t, "testdata/previous/storage.key", "previous.key")

	r.run(t, "dpkg", "-i", "/share/previous.deb")
	if got := r.run(t, "dpkg-query", "-W", "-f", "${Version}", "mailmon"); got != "0.0.1~previous" {
		t.Fatalf("the previous package is %q", got)
	}
	// What the previous version left: its database and key, and an edited
	// environment file.
	r.sh(t, `cd /var/lib/mailmon
		setpriv --reuid=mailmon --regid=mailmon --init-groups -- sh -ec 'umask 077; sqlite3 mailmon.db < /share/previous.sql; cp /share/previous.key storage.key'
		echo 'MAILMON_OPTS=--listen 127.0.0.1:8080 --node upgraded' >> /etc/mailmon/mailmon.env`)

	r.run(t, "dpkg", "-i", newDeb)
	if got := r.run(t, "dpkg-query", "-W", "-f", "${Status} ${Version}", "mailmon"); got != "install ok installed "+debVersion(version) {
		t.Errorf("after the upgrade: %q", got)
	}
	if env := r.run(t, "cat", "/etc/mailmon/mailmon.env"); !strings.HasSuffix(env, "--node upgraded\n") {
		t.Errorf("the edited environment file was replaced:\n%s", env)
	}
	if st := r.stat(t, "/var/lib/mailmon/mailmon.db", "/var/lib/mailmon/storage.key"); st["/var/lib/mailmon/mailmon.db"] != "mailmon:mailmon 600" || st["/var/lib/mailmon/storage.key"] != "mailmon:mailmon 600" {
		t.Errorf("the data after the upgrade: %v", st)
	}

	d := r.startService(t)
	var monitors struct {
		Items []struct{ Name string }
	}
	if out := d.get(t, "/api/v1/monitors", fixtureToken); json.Unmarshal([]byte(out), &monitors) != nil || len(monitors.Items) != 3 {
		t.Errorf("the previous database's monitors, through its token: %s", out)
	}
	if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", d.pid)); !strings.HasSuffix(string(cmdline), "--node\x00upgraded\x00") {
		t.Errorf("the daemon's command line %q has not the edited environment file's --node upgraded", cmdline)
	}
	d.stop()
	latest := latestMigration(t)
	if got := strings.TrimSpace(r.run(t, "sqlite3", "/var/lib/mailmon/mailmon.db", "SELECT max(version_id) FROM goose_db_version")); got != strconv.Itoa(latest) || latest <= 7 {
		t.Errorf("schema version %s after the upgrade, want %d (from 7)", got, latest)
	}
	// The secrets still open under the kept key.
	out := r.run(t, "setpriv", "--reuid=mailmon", "--regid=mailmon", "--init-groups", "--", "mailmon", "export", "--db", "/var/lib/mailmon/mailmon.db")
	if !strings.Contains(out, "name: IMAP login") || !strings.Contains(out, "name: ops") {
		t.Errorf("export after the upgrade:\n%s", out)
	}
}

// isExit reports whether err is a process's exit with code.
func isExit(err error, code int) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == code
}

// goMigration is how internal/store/migrations declares a migration
// written in Go (one SQL cannot express): its version, a constant.
var goMigration = regexp.MustCompile(`(?m)^const \w+Version = (\d+)$`)

// latestMigration is the schema version the new binary migrates to: the
// highest of SQLite's SQL migration files' numbers (00019_….sql) and the
// migrations written in Go (00018, between them: counting the files is
// one short).
func latestMigration(t *testing.T) int {
	t.Helper()
	files, _ := filepath.Glob("../internal/store/migrations/sqlite/*.sql")
	latest := 0
	for _, f := range files {
		num, _, _ := strings.Cut(filepath.Base(f), "_")
		if v, _ := strconv.Atoi(num); v > latest {
			latest = v
		}
	}
	src, _ := filepath.Glob("../internal/store/migrations/*.go")
	for _, f := range src {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goMigration.FindAllSubmatch(b, -1) {
			if v, _ := strconv.Atoi(string(m[1])); v > latest {
				latest = v
			}
		}
	}
	return latest
}
