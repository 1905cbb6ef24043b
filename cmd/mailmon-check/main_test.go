package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
)

// notLinked are the packages mailmon-check must never link, each with
// its reason: the daemon's own packages and its libraries, which cost
// every check process their package initialisation and page faults at
// start-up (docs/plugin.md). A pattern "x/..." is x and below it.
var notLinked = []struct{ pattern, why string }{
	{"github.com/mailmon/mailmon/internal/cli", "the commands: mailmon-check is package plugin alone"},
	{"github.com/mailmon/mailmon/internal/config", "the configuration schema (YAML, validation of every type)"},
	{"github.com/mailmon/mailmon/internal/store/...", "storage"},
	{"github.com/mailmon/mailmon/internal/engine", "the daemon's loop"},
	{"github.com/mailmon/mailmon/internal/catalog", "the daemon's write path"},
	{"github.com/mailmon/mailmon/internal/web", "the web UI"},
	{"github.com/mailmon/mailmon/internal/api", "the JSON API"},
	{"github.com/mailmon/mailmon/internal/metrics", "/metrics"},
	{"github.com/mailmon/mailmon/internal/apply", "apply/export"},
	{"github.com/mailmon/mailmon/internal/discover", "the network scan (it writes monitors in the configuration's YAML)"},
	{"github.com/mailmon/mailmon/internal/demo", "serve --demo"},
	{"github.com/mailmon/mailmon/internal/alert", "delivery"},
	{"github.com/mailmon/mailmon/internal/recovery", "recovery actions (SSH)"},
	{"github.com/mailmon/mailmon/internal/vault", "sealed secrets"},
	{"modernc.org/...", "SQLite"},
	{"github.com/jackc/...", "PostgreSQL"},
	{"github.com/pressly/goose/...", "migrations"},
	{"github.com/prometheus/...", "the Prometheus client"},
	{"google.golang.org/protobuf/...", "protobuf (the Prometheus client's)"},
	{"golang.org/x/crypto/ssh/...", "SSH"},
	{"go.yaml.in/...", "YAML"},
	{"gopkg.in/yaml.v3", "YAML"},
	{"html/template", "templates"},
	{"text/template", "templates"},
	{"github.com/pquerna/otp/...", "two-factor logins"},
	{"github.com/boombuler/barcode/...", "two-factor QR codes"},
	{"github.com/go-jose/...", "the web UI's sign-in"},
	{"golang.org/x/text/...", "x/text tables (only the standard library's vendored copy, for IDNA)"},
	{"image/...", "QR code images"},
}

// TestLinksNoDaemon: no package of the list is among mailmon-check's
// dependencies, so that no later import brings the daemon back silently.
func TestLinksNoDaemon(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed only %d packages: %q", len(deps), deps)
	}
	for _, d := range deps {
		for _, n := range notLinked {
			base, family := strings.CutSuffix(n.pattern, "/...")
			if d == base || family && strings.HasPrefix(d, base+"/") {
				t.Errorf("mailmon-check links %s: %s is the daemon's, not a check's (%s)", d, n.pattern, n.why)
			}
		}
	}
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// binary is mailmon-check built as the packages ship it (static,
// stripped), once for all the tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailmon-check-test-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "mailmon-check")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", built, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if built != "" {
		os.RemoveAll(filepath.Dir(built))
	}
	os.Exit(code)
}

// run runs mailmon-check with args and returns its exit code and stdout.
func run(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	t.Logf("mailmon-check %s → exit %d\n%s%s", strings.Join(args, " "), cmd.ProcessState.ExitCode(), o.String(), e.String())
	return cmd.ProcessState.ExitCode(), o.String(), e.String()
}

// TestInitAllocations: no package of mailmon-check allocates much at
// initialisation (GODEBUG=inittrace=1): a table, regexp or registry built
// there is paid by every check process. Bytes, not time: they do not
// depend on the machine's load. (The tenant regexp of internal/oauth,
// `{0,252}`, took 201,048 bytes and about 3 ms at every start.)
func TestInitAllocations(t *testing.T) {
	const perPackage, total = 32 << 10, 160 << 10
	code, _, stderr := run(t, []string{"GODEBUG=inittrace=1"}, "-V")
	if code != 3 {
		t.Errorf("-V exited %d, want 3", code)
	}
	sum, n := 0, 0
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		// init PKG @T ms, C ms clock, B bytes, A allocs
		f := strings.Fields(sc.Text())
		if len(f) != 11 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		b, err := strconv.Atoi(f[7])
		if err != nil {
			t.Fatalf("inittrace line %q", sc.Text())
		}
		n++
		sum += b
		if b > perPackage {
			t.Errorf("package %s allocates %d bytes at init (at most %d): build it on first use", f[1], b, perPackage)
		}
	}
	if n < 50 {
		t.Fatalf("inittrace showed %d packages; GODEBUG=inittrace=1 not honoured?\n%s", n, stderr)
	}
	if sum > total {
		t.Errorf("the packages allocate %d bytes at init, at most %d", sum, total)
	}
}

// TestCheck: mailmon-check takes what "mailmon check" takes and answers
// as a plug-in, with its own name in the usage.
func TestCheck(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{})
	code, out, _ := run(t, nil, "smtp", "-H", srv.Host, "-p", strconv.Itoa(srv.Port), "-w", "2", "-c", "5")
	if code != 0 || !strings.HasPrefix(out, "SMTP OK - ") || !strings.Contains(out, ";2;5;0") {
		t.Errorf("smtp check: exit %d, output %q; want 0, SMTP OK and the thresholds in the perfdata", code, out)
	}
	code, out, _ = run(t, nil, "smtp", "-H", srv.Host, "-p", strconv.Itoa(srv.Port), "--no-such-option")
	if code != 3 || !strings.Contains(out, "mailmon-check") {
		t.Errorf("bad option: exit %d, output %q; want 3 and a usage naming mailmon-check", code, out)
	}
	code, out, _ = run(t, nil, "-V")
	if code != 3 || !strings.HasPrefix(out, "mailmon ") {
		t.Errorf("-V: exit %d, output %q; want 3 and the version", code, out)
	}
}
