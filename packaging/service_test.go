package main

import (
	"bufio"
	"context"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unit is a systemd unit file: each "Section.Key" with its values in order.
type unit map[string][]string

func parseUnit(text string) unit {
	u := unit{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case l[0] == '[':
			section = strings.Trim(l, "[]")
		default:
			k, v, _ := strings.Cut(l, "=")
			u[section+"."+strings.TrimSpace(k)] = append(u[section+"."+strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

// one is the single value of key, or "" when it has none.
func (u unit) one(key string) string {
	if v := u[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// parseEnvFile reads KEY=VALUE lines as systemd's EnvironmentFile= does
// (comments and blank lines skipped, one level of quotes removed).
func parseEnvFile(text string) map[string]string {
	env := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		env[strings.TrimSpace(k)] = v
	}
	return env
}

var varRE = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`)

// expandExec expands ExecStart= as systemd does for whole words: $VAR
// becomes the value's words, ${VAR} the value as one word.
func expandExec(line string, env map[string]string) []string {
	var argv []string
	for _, w := range strings.Fields(line) {
		m := varRE.FindStringSubmatch(w)
		switch {
		case m == nil:
			argv = append(argv, w)
		case strings.HasPrefix(w, "${"):
			argv = append(argv, env[m[1]])
		default:
			argv = append(argv, strings.Fields(env[m[1]])...)
		}
	}
	return argv
}

func TestExpandExec(t *testing.T) {
	env := parseEnvFile("# c\nMAILMON_OPTS=--listen 127.0.0.1:8080 --node a\nQ=\"a b\"\n")
	got := expandExec("/usr/bin/mailmon serve --db /x.db $MAILMON_OPTS ${Q} $UNSET", env)
	want := []string{"/usr/bin/mailmon", "serve", "--db", "/x.db", "--listen", "127.0.0.1:8080", "--node", "a", "a b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// daemon is the installed unit's command line running in a sysroot.
type daemon struct {
	pid  int
	url  string // where it listens, inside its network namespace
	stop func()
}

// startService runs the installed unit's ExecStart= in the root as its
// User= and Group=, in its WorkingDirectory= with its UMask=, with the
// environment of its EnvironmentFile=, without new privileges and with
// no capability but its CapabilityBoundingSet=, in a network namespace
// of its own; it returns once the daemon says it listens.
func (r *sysroot) startService(t *testing.T, extraEnv ...string) *daemon {
	t.Helper()
	u := parseUnit(r.run(t, "cat", "/lib/systemd/system/mailmon.service"))
	env := map[string]string{}
	for _, f := range u["Service.EnvironmentFile"] {
		text, err := r.try(t, "cat", strings.TrimPrefix(f, "-"))
		if err != nil && !strings.HasPrefix(f, "-") {
			t.Fatalf("EnvironmentFile=%s: %v", f, err)
		}
		for k, v := range parseEnvFile(text) {
			env[k] = v
		}
	}
	argv := expandExec(u.one("Service.ExecStart"), env)
	user, group := u.one("Service.User"), u.one("Service.Group")
	home := strings.Split(strings.TrimSpace(r.run(t, "getent", "passwd", user)), ":")[5]
	envv := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "LANG=C.UTF-8",
		"HOME=" + home, "USER=" + user, "LOGNAME=" + user}
	for k, v := range env {
		envv = append(envv, k+"="+v)
	}
	envv = append(envv, extraEnv...)
	caps := "-all"
	for _, c := range strings.Fields(u.one("Service.CapabilityBoundingSet")) {
		caps += ",+" + strings.ToLower(strings.TrimPrefix(c, "CAP_"))
	}
	args := []string{"setpriv", "--reuid=" + user, "--regid=" + group, "--init-groups", "--no-new-privs", "--bounding-set=" + caps, "--",
		"env", "-i"}
	args = append(args, envv...)
	args = append(args, "sh", "-c", `umask "$1"; cd "$2"; shift 2; exec "$@"`, "sh", u.one("Service.UMask"), u.one("Service.WorkingDirectory"))
	args = append(args, argv...)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := r.cmd(ctx, true, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = errFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	d := &daemon{pid: cmd.Process.Pid}
	d.stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("the daemon did not stop within 30 s of SIGTERM")
		}
		cancel()
	}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			b, _ := os.ReadFile(errFile.Name())
			t.Logf("the daemon's stderr:\n%s", b)
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "mailmon listening on "); ok {
				lines <- strings.Fields(rest)[0]
				break
			}
		}
		close(lines)
		for sc.Scan() {
		}
	}()
	select {
	case url, ok := <-lines:
		if !ok {
			<-done
			b, _ := os.ReadFile(errFile.Name())
			t.Fatalf("%s exited without listening: %s", strings.Join(argv, " "), b)
		}
		d.url = url
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not listen within 60 s", strings.Join(argv, " "))
	}
	return d
}

// get fetches path from the daemon, with a bearer token if given.
func (d *daemon) get(t *testing.T, path, bearer string) string {
	t.Helper()
	out, err := inNetns(t, d.pid, helper{GET: d.url + path, Bearer: bearer})
	if err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, out)
	}
	return out
}
