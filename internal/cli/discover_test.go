package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/discover"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
)

func TestDiscoverCommand(t *testing.T) {
	ca := certs.NewCA(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{}))})
	caFile := ca.File(t)
	ports := "--ports=submission:" + strconv.Itoa(srv.Port)

	code, out, errOut := runCLI(t, nil, "discover", "127.0.0.1", ports, "--ca", caFile, "--output", "json")
	var r discover.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != ExitOK {
		t.Fatalf("exit %d, %v: %s %s", code, err, out, errOut)
	}
	if s := r.Hosts[0].Services[0]; !s.Open || s.Name != "submission" || s.TLSMode != "starttls" || s.Verdict.Grade != discover.GradeGood {
		t.Errorf("service: %+v", s)
	}

	// Flags before the host work too; a terminal gets a progress line on
	// stderr and colours on stdout.
	var o, e bytes.Buffer
	code = Main(context.Background(), []string{"discover", ports, "--ca", caFile, "127.0.0.1"},
		Env{Stdout: &o, Stderr: &e, Getenv: func(string) string { return "" }, IsTerminal: true, StdoutTerminal: true})
	if code != ExitOK || !strings.Contains(e.String(), "discovering 127.0.0.1: 1 of 1 ports done") || !strings.Contains(o.String(), "\033[32mgood\033[0m") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, o.String(), e.String())
	}

	// Nothing answers: exit 2.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	code, _, errOut = runCLI(t, nil, "discover", "127.0.0.1", "--ports", "imap:"+strconv.Itoa(closed))
	if code != ExitCritical || !strings.Contains(errOut, "no mail service answered on 127.0.0.1") {
		t.Errorf("nothing open: exit %d %s", code, errOut)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"discover"}, "discover: give one HOST or DOMAIN"},
		{[]string{"discover", "a", "b"}, `discover: unexpected argument "b"`},
		{[]string{"discover", "h", "--ports", "http:80"}, `--ports: "http:80": the service must be one of`},
		{[]string{"discover", "h", "--output", "xml"}, `--output: "xml" is not table, json or yaml`},
		{[]string{"discover", "h", "--resolver", "dns.example"}, "give the DNS server's IP address"},
		{[]string{"discover", "h", "--ca", "/nonexistent"}, "--ca: open /nonexistent"},
	} {
		code, _, errOut := runCLI(t, nil, c.args...)
		if code != ExitUnknown || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want 3 and %q", c.args, code, errOut, c.want)
		}
	}
}

func TestCheckPing(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "check", "ping", "--host", "127.0.0.1")
	if code == ExitUnknown && strings.Contains(out, "no ICMP socket") && os.Getenv("CI") == "" {
		t.Skipf("no ICMP socket here: %s", out)
	}
	re := regexp.MustCompile(`^PING OK - 127\.0\.0\.1 responded in \d+\.\d ms\|time=[\d.]+s;;;0 socket=[\d.]+s;;;0 echo=[\d.]+s;;;0\n$`)
	if code != ExitOK || !re.MatchString(out) {
		t.Errorf("exit %d: %q %s", code, out, errOut)
	}
}

// TestApplyStdin: apply -f - reads the configuration from standard input,
// and its problems are named stdin:line:col.
func TestApplyStdin(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	run := func(yaml string) (int, string, string) {
		var o, e bytes.Buffer
		code := Main(context.Background(), []string{"apply", "-f", "-", "--db", db},
			Env{Stdin: strings.NewReader(yaml), Stdout: &o, Stderr: &e, Getenv: func(string) string { return "" }})
		return code, o.String(), e.String()
	}
	code, out, errOut := run("devices:\n  - name: d\n    address: 127.0.0.1\n    monitors:\n      - {name: Ping, type: ping}\n")
	if code != ExitOK || !strings.Contains(out, "monitor d/Ping: created") {
		t.Errorf("exit %d: %s %s", code, out, errOut)
	}
	code, _, errOut = run("devices:\n  - name: d\n    address: 127.0.0.1\n    monitors:\n      - {name: Ping, type: ping, port: 7}\n")
	if code != ExitCritical || !strings.Contains(errOut, "stdin:5:") || !strings.Contains(errOut, "devices[0].monitors[0].port: a ping has no port") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
