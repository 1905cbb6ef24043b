package layers

import (
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/mailmon/mailmon/"

// bands are the floors of docs/architecture.md, top to bottom. A package
// imports only from the bands below its own, or sideways where sideways
// says so; "x/..." is x and the packages below it, which may import each
// other. Every package of the module is on a floor, but the tests' own.
var bands = [][]string{
	{"cmd/mailmon", "cmd/mailmon-check"},
	{"internal/cli"},
	{"internal/plugin", "internal/api", "internal/web", "internal/apply", "internal/metrics", "internal/discover", "internal/demo"},
	{"internal/catalog", "internal/engine"},
	{"internal/alert", "internal/storagekey", "internal/secretbind", "internal/schedule"},
	{"internal/config"},
	{"internal/recovery", "internal/report", "internal/vault"},
	{"internal/store/..."},
	{"internal/probe/kinds", "internal/state", "internal/schedule/phase"},
	{"internal/probe/roundtrip", "internal/probe/smtpprobe", "internal/probe/pop3probe", "internal/probe/imapprobe",
		"internal/probe/tcpprobe", "internal/probe/pingprobe", "internal/probe/graphprobe", "internal/probe/domainprobe"},
	{"internal/probe"},
	{"internal/mail/...", "internal/oauth/endpoint"},
	{"internal/sasl", "internal/oauth", "internal/egress", "internal/hostcmd", "internal/dnsq"},
	{"internal/wire", "internal/keyfile", "internal/gctune", "internal/proctune", "internal/version"},
}

// sideways are the imports within a band, each with its reason.
var sideways = map[[2]string]string{
	{"internal/api", "internal/metrics"}:                      "the API serves /metrics",
	{"internal/probe/roundtrip", "internal/probe/smtpprobe"}:  "a round trip's SMTP leg is the smtp monitor's checks",
	{"internal/probe/roundtrip", "internal/probe/pop3probe"}:  "its mailbox leg logs in as the pop3 monitor does",
	{"internal/probe/roundtrip", "internal/probe/imapprobe"}:  "its mailbox leg logs in as the imap monitor does",
	{"internal/probe/roundtrip", "internal/probe/graphprobe"}: "graph-roundtrip holds Graph to the graph monitor's checks",
	{"internal/oauth", "internal/hostcmd"}:                    "an OAuth token may come from the operator's command",
	{"internal/oauth", "internal/egress"}:                     "a token URL set over the network is dialled under the egress policy",
}

// testOnly are the packages of the tests and the benchmarks: on no floor,
// and never in the binary.
var testOnly = []string{"internal/testutil/...", "internal/bench/...", "internal/store/storetest", "internal/web/browser", "internal/layers"}

// rules are what the floors say in words, each with its reason: on every
// dependency, or on the direct imports only.
var rules = []struct {
	pkg, why string
	not      []string
	direct   bool
}{
	{"internal/web", "the web UI saves through catalog and reads the engine, not through the JSON API",
		[]string{"internal/api"}, false},
	{"internal/api", "the JSON API does not draw pages", []string{"internal/web"}, false},
	{"internal/plugin", "a check is one test now, as a monitoring plug-in: it links no part of the daemon",
		[]string{"internal/config", "internal/store/...", "internal/engine", "internal/catalog", "internal/vault", "internal/alert",
			"internal/web", "internal/api", "internal/metrics", "internal/apply", "internal/schedule", "internal/storagekey"}, false},
	{"internal/catalog", "catalog sits below the engine: its callers tell the engine what changed",
		[]string{"internal/engine", "internal/api", "internal/web", "internal/apply", "internal/cli"}, false},
	{"internal/engine", "the engine is the scheduler loop, leases and state bookkeeping; writes come through catalog's callers",
		[]string{"internal/catalog", "internal/api", "internal/web", "internal/apply", "internal/metrics", "internal/cli"}, false},
	{"internal/alert", "delivery knows neither the engine, which hands it events, nor catalog",
		[]string{"internal/engine", "internal/catalog"}, false},
	// Through config (which validates with the registry) alert reaches the
	// monitor types; it must not use them itself.
	{"internal/alert", "delivery sends e-mail with mail/smtp, not through a monitor type",
		[]string{"internal/probe/kinds", "internal/probe/roundtrip", "internal/probe/smtpprobe", "internal/probe/pop3probe",
			"internal/probe/imapprobe", "internal/probe/tcpprobe", "internal/probe/pingprobe", "internal/probe/domainprobe"}, true},
	{"internal/recovery", "recovery actions run what the engine or a test asks, knowing no delivery or configuration",
		[]string{"internal/engine", "internal/alert", "internal/config"}, false},
	{"internal/state", "the state machine is a pure function of a result",
		[]string{"internal/store/...", "internal/config", "internal/schedule", "internal/engine"}, false},
	{"internal/store/...", "storage keeps rows; it knows no configuration, secrets or daemon",
		[]string{"internal/config", "internal/vault", "internal/engine", "internal/alert", "internal/catalog"}, false},
	{"internal/probe/...", "monitor types test a service; they know no configuration file, store or daemon",
		[]string{"internal/config", "internal/store/...", "internal/engine", "internal/alert", "internal/catalog", "internal/vault"}, false},
	{"internal/mail/...", "the protocol clients and the POP3 server know nothing of monitoring",
		[]string{"internal/probe/...", "internal/config", "internal/store/..."}, false},
}

type pkg struct {
	imports, deps []string // module-relative
}

// load reads the module's packages with `go list -deps`.
func load(t *testing.T) map[string]pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{join .Imports \" \"}}\t{{join .Deps \" \"}}", module+"...").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	ours := func(list string) []string {
		var r []string
		for _, p := range strings.Fields(list) {
			if rest, ok := strings.CutPrefix(p, module); ok {
				r = append(r, rest)
			}
		}
		return r
	}
	pkgs := map[string]pkg{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("go list line %q", line)
		}
		pkgs[strings.TrimPrefix(f[0], module)] = pkg{imports: ours(f[1]), deps: ours(f[2])}
	}
	return pkgs
}

// match is go's "x/..." pattern, or x itself.
func match(pattern, p string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pattern
}

func matchAny(patterns []string, p string) bool {
	return slices.ContainsFunc(patterns, func(pat string) bool { return match(pat, p) })
}

// floor returns the band of p and the pattern that placed it there.
func floor(p string) (int, string) {
	for i, band := range bands {
		for _, pat := range band {
			if match(pat, p) {
				return i, pat
			}
		}
	}
	return -1, ""
}

// TestLayers: every import goes down the floors of docs/architecture.md
// (or sideways where it says why), every package is on a floor, and the
// rules in words hold on every dependency.
func TestLayers(t *testing.T) {
	pkgs := load(t)
	for _, band := range bands {
		for _, pat := range band {
			if !slices.ContainsFunc(slices.Collect(maps.Keys(pkgs)), func(p string) bool { return match(pat, p) }) {
				t.Errorf("floor entry %s matches no package: renamed or gone? Update docs/architecture.md and this test", pat)
			}
		}
	}
	for _, p := range slices.Sorted(maps.Keys(pkgs)) {
		if matchAny(testOnly, p) {
			continue
		}
		from, fromPat := floor(p)
		if from < 0 {
			t.Errorf("%s is on no floor: place it in docs/architecture.md and in bands here", p)
			continue
		}
		for _, imp := range pkgs[p].imports {
			to, toPat := floor(imp)
			switch {
			case matchAny(testOnly, imp):
				t.Errorf("%s imports %s, a package of the tests", p, imp)
			case to < 0:
				// reported as on no floor
			case to > from:
			case to == from && fromPat == toPat && strings.HasSuffix(fromPat, "/..."):
				// within one family (store/..., mail/...)
			case to == from && sideways[[2]string{p, imp}] != "":
			case to == from:
				t.Errorf("%s imports %s on its own floor: not a sideways import docs/architecture.md names", p, imp)
			default:
				t.Errorf("%s imports %s, a floor above it (%s above %s)", p, imp, toPat, fromPat)
			}
		}
	}
	for side := range sideways {
		if !slices.Contains(pkgs[side[0]].imports, side[1]) {
			t.Errorf("sideways %s → %s is no import any more: drop it here and from docs/architecture.md", side[0], side[1])
		}
	}
	for _, r := range rules {
		found := false
		for p, info := range pkgs {
			if !match(r.pkg, p) {
				continue
			}
			found = true
			deps := info.deps
			if r.direct {
				deps = info.imports
			}
			for _, d := range deps {
				if matchAny(r.not, d) {
					t.Errorf("%s depends on %s: %s", p, d, r.why)
				}
			}
		}
		if !found {
			t.Errorf("rule on %s matches no package", r.pkg)
		}
	}
}

// TestBinary: cmd/mailmon is wiring only, cmd/mailmon-check is package
// plugin and the mail types it registers (cmd/mailmon-check's own test
// holds what it may not link),
// nothing else imports the CLI, and no package of the tests ships in the
// binary.
func TestBinary(t *testing.T) {
	pkgs := load(t)
	for _, b := range []struct {
		main    string
		imports []string
		why     string
	}{
		{"cmd/mailmon", []string{"internal/cli"}, "wiring only"},
		{"cmd/mailmon-check", []string{"internal/plugin", "internal/probe", "internal/probe/imapprobe", "internal/probe/pop3probe",
			"internal/probe/smtpprobe", "internal/probe/tcpprobe"}, "mailmon check of the mail types alone"},
	} {
		main, ok := pkgs[b.main]
		if !ok {
			t.Fatalf("no %s", b.main)
		}
		if !slices.Equal(slices.Sorted(slices.Values(main.imports)), b.imports) {
			t.Errorf("%s imports %v of the module, want only %v (%s)", b.main, main.imports, b.imports, b.why)
		}
		for _, d := range main.deps {
			if matchAny(testOnly, d) {
				t.Errorf("%s contains %s, a package of the tests", b.main, d)
			}
		}
	}
	for p, info := range pkgs {
		if p != "cmd/mailmon" && slices.Contains(info.deps, "internal/cli") {
			t.Errorf("%s depends on internal/cli: only cmd/mailmon wires the commands", p)
		}
	}
}

// TestPicture: every package on a floor has its box in the picture of
// docs/architecture.md (named without internal/; a family such as store/...
// may be one box "store/").
func TestPicture(t *testing.T) {
	svg, err := os.ReadFile("../../docs/architecture.svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range slices.Sorted(maps.Keys(load(t))) {
		if matchAny(testOnly, p) {
			continue
		}
		rel := strings.TrimPrefix(p, "internal/")
		names := []string{rel, rel[strings.LastIndex(rel, "/")+1:]}
		if _, pat := floor(p); strings.HasSuffix(pat, "/...") {
			names = append(names, strings.TrimPrefix(strings.TrimSuffix(pat, "..."), "internal/"))
		}
		if !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(string(svg), ">"+n+"<") }) {
			t.Errorf("%s has no box in docs/architecture.svg (looked for %q)", p, names)
		}
	}
}
