package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mailmon/mailmon/internal/probe/kinds"
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
	// What only the handed-over types need (handover.go): mailmon check
	// runs them, so that the mail checks do not pay for these clients'
	// code and initialisation.
	{"net/http", "HTTP: Graph and OAuth token endpoints (handed to mailmon check)"},
	{"golang.org/x/oauth2/...", "OAuth token endpoints (handed to mailmon check)"},
	{"github.com/miekg/...", "DNS: the domain types (handed to mailmon check)"},
	{"github.com/mailmon/mailmon/internal/oauth/endpoint", "OAuth token endpoints over HTTP"},
	{"github.com/mailmon/mailmon/internal/mail/graph", "Graph"},
	{"github.com/mailmon/mailmon/internal/dnsq", "the domain types' DNS client"},
	{"github.com/mailmon/mailmon/internal/probe/kinds", "the registry of every type: mailmon-check registers the mail types alone"},
	{"golang.org/x/net/icmp", "ping (handed to mailmon check)"},
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

// beside copies mailmon-check into a folder of its own, next to a
// mailmon of the test's (nil: none), and returns the copy's path.
func beside(t *testing.T, mailmon func(dir string)) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mailmon-check"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if mailmon != nil {
		mailmon(dir)
	}
	return filepath.Join(dir, "mailmon-check")
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
// `{0,252}`, took 201,048 bytes and about 3 ms at every start.) mailmon's
// own packages build nothing there at all: tables are static or switches,
// and what must be made is made on first use (2,800 bytes in 14 allocations
// before, in six packages; internal/oauth's hints map is the one left).
func TestInitAllocations(t *testing.T) {
	const perPackage, total, ours = 32 << 10, 160 << 10, 512
	code, _, stderr := run(t, []string{"GODEBUG=inittrace=1"}, "-V")
	if code != 3 {
		t.Errorf("-V exited %d, want 3", code)
	}
	sum, n, own := 0, 0, 0
	var owners []string
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
		if strings.HasPrefix(f[1], "github.com/mailmon/") && b > 0 {
			own += b
			owners = append(owners, fmt.Sprintf("%s %d", f[1], b))
		}
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
	if own > ours {
		t.Errorf("mailmon's packages allocate %d bytes at init (%s), at most %d: make tables static or switches, the rest on first use", own, strings.Join(owners, ", "), ours)
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

// TestHandedOverTypes: mailmon-check checks the mail types and hands the
// others over, so that together they are every type of the registry.
func TestHandedOverTypes(t *testing.T) {
	got := slices.Clone(handedOver)
	for _, k := range []string{"smtp", "pop3", "imap", "tcp"} {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(kinds.Names()))
	if !slices.Equal(got, want) {
		t.Errorf("mail types and handedOver are %q, the registry's types %q", got, want)
	}
}

// runAt runs the mailmon-check at bin with args and PATH, and returns its
// exit code and stdout.
func runAt(t *testing.T, bin, path string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "PATH="+path), env...)
	out, err := cmd.Output()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	t.Logf("%s %s → exit %d\n%s", bin, strings.Join(args, " "), cmd.ProcessState.ExitCode(), out)
	return cmd.ProcessState.ExitCode(), string(out)
}

// TestHandOverArguments: a handed-over check becomes "mailmon check" with
// the same arguments, and its output and exit code are the check's.
func TestHandOverArguments(t *testing.T) {
	bin := beside(t, func(dir string) {
		script := "#!/bin/sh\nprintf '%s|' \"$@\"\necho\nexit 2\n"
		if err := os.WriteFile(filepath.Join(dir, "mailmon"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	})
	args := []string{"dnsbl", "--domain", "example.org", "--zones", "a b,c", "-w", "2"}
	code, out := runAt(t, bin, "/usr/bin:/bin", nil, args...)
	if want := "check|" + strings.Join(args, "|") + "|\n"; code != 2 || out != want {
		t.Errorf("exit %d, output %q; want 2 and %q", code, out, want)
	}
	// A mail check that fetches its token from an endpoint goes too.
	code, out = runAt(t, bin, "/usr/bin:/bin", []string{"SECRET=s"}, "imap", "-H", "127.0.0.1", "--oauth-token-url", "http://127.0.0.1:9/token",
		"--oauth-client-id", "id", "--oauth-client-secret-env", "SECRET")
	if code != 2 || !strings.HasPrefix(out, "check|imap|-H|127.0.0.1|--oauth-token-url|") {
		t.Errorf("imap with a token endpoint: exit %d, output %q; want it handed over", code, out)
	}
	// So does a round trip whose SMTP leg alone fetches its own.
	code, out = runAt(t, bin, "/usr/bin:/bin", []string{"SECRET=s"}, "imap-roundtrip", "-H", "127.0.0.1", "--smtp-oauth-token-url", "http://127.0.0.1:9/token",
		"--smtp-oauth-client-id", "id", "--smtp-oauth-client-secret-env", "SECRET")
	if code != 2 || !strings.HasPrefix(out, "check|imap-roundtrip|-H|127.0.0.1|--smtp-oauth-token-url|") {
		t.Errorf("a round trip with the leg's own token endpoint: exit %d, output %q; want it handed over", code, out)
	}
	// The mail checks stay: a smtp check against nothing is this binary's.
	code, out = runAt(t, bin, "/usr/bin:/bin", nil, "smtp", "-H", "127.0.0.1", "-p", "9", "-t", "5")
	if code != 2 || !strings.HasPrefix(out, "SMTP CRITICAL") {
		t.Errorf("smtp: exit %d, output %q; want SMTP CRITICAL from mailmon-check itself", code, out)
	}
}

// TestHandOverMailmon: with the real mailmon beside it, a handed-over
// type's check is mailmon's (its help names the type's checks, which
// mailmon-check does not link).
func TestHandOverMailmon(t *testing.T) {
	bin := beside(t, func(dir string) {
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "mailmon"), "../mailmon")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build mailmon: %v\n%s", err, out)
		}
	})
	code, out := runAt(t, bin, "/usr/bin:/bin", nil, "dnsbl", "-h")
	if code != 3 || !strings.Contains(out, "Usage: mailmon check dnsbl") || !strings.Contains(out, "blocklists") {
		t.Errorf("dnsbl -h: exit %d, output %q; want mailmon check's help of dnsbl", code, out)
	}
	code, out = runAt(t, bin, "/usr/bin:/bin", nil, "graph", "-H", "127.0.0.1", "-p", "9", "--user", "u@example.org",
		"--oauth-token-file", "/nonexistent/token", "-t", "5")
	if code == 0 || !strings.HasPrefix(out, "GRAPH ") || strings.Contains(out, "hands this check") {
		t.Errorf("graph: exit %d, output %q; want mailmon's GRAPH status", code, out)
	}
}

// TestHandOverWithoutMailmon: without mailmon beside it or on PATH, a
// handed-over check is UNKNOWN and says what to install.
func TestHandOverWithoutMailmon(t *testing.T) {
	bin := beside(t, nil)
	code, out := runAt(t, bin, t.TempDir(), nil, "dnsbl", "--domain", "example.org")
	if code != 3 || !strings.HasPrefix(out, "DNSBL UNKNOWN - ") || !strings.Contains(out, "found no mailmon at "+filepath.Join(filepath.Dir(bin), "mailmon")+" or on PATH") ||
		!strings.Contains(out, "install the mailmon package") {
		t.Errorf("exit %d, output %q; want DNSBL UNKNOWN naming where mailmon was looked for and the fix", code, out)
	}
}
