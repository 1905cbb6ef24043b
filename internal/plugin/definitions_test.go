package plugin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// asMailmon makes the test binary mailmon-check for the documented
// definitions: with it in the environment, the binary runs "TYPE ARGS…"
// as cmd/mailmon-check does and exits.
const asMailmon = "MAILMON_PLUGIN_TEST_AS_MAILMON"

// runAsMailmon is called first in TestMain.
func runAsMailmon() {
	if os.Getenv(asMailmon) == "" {
		return
	}
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "check" {
		// The definitions use mailmon-check, which starts at half the cost.
		fmt.Println("MAILMON UNKNOWN - the documented command is \"mailmon check\", not mailmon-check:", args)
		os.Exit(Unknown)
	}
	os.Exit(Check(context.Background(), args, Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Prog: "mailmon-check"}))
}

// docBlocks returns the fenced blocks of docs/plugin.md in language lang.
func docBlocks(t *testing.T, lang string) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/plugin.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?ms)^```"+regexp.QuoteMeta(lang)+"\n(.*?)^```\n").FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatalf("docs/plugin.md has no ```%s block", lang)
	}
	return out
}

// site is what the test puts in place of the documentation's example
// site: the harness's servers, user and files. Only the services'
// values are replaced, never the command definitions.
type site struct {
	e               *realmail.Env
	bin, pw, secret string
	ports           map[string]string // documented port → the harness's
	values          *strings.Replacer
	env             []string
}

func newSite(t *testing.T) *site {
	e := realmail.Start(t)
	dir := t.TempDir()
	s := &site{e: e, pw: filepath.Join(dir, "probe.pw"), secret: filepath.Join(dir, "secret")}
	if err := os.WriteFile(s.pw, []byte(e.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.secret, []byte("documented-definitions-test-key-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if s.bin, err = os.Executable(); err != nil {
		t.Fatal(err)
	}
	p := strconv.Itoa
	s.ports = map[string]string{"25": p(e.SMTP), "587": p(e.Submission), "993": p(e.IMAPS), "110": p(e.POP3), "143": p(e.IMAP)}
	s.values = strings.NewReplacer("mail.example.com", "127.0.0.1", "probe@example.com", e.User,
		"/etc/nagios/mailmon/probe.pw", s.pw, "/etc/icinga2/mailmon/probe.pw", s.pw,
		"/etc/nagios/mailmon/secret", s.secret, "/etc/icinga2/mailmon/secret", s.secret,
		"the password", e.Password)
	// The system's trust is the harness's CA (Go reads SSL_CERT_FILE), so
	// the definitions need no --ca.
	s.env = append(os.Environ(), asMailmon+"=1", "SSL_CERT_FILE="+e.CAFile)
	return s
}

// portsIn replaces the documented ports after -p and --smtp-port.
func (s *site) portsIn(args string) string {
	return regexp.MustCompile(`(-p|--smtp-port) (\d+)`).ReplaceAllStringFunc(args, func(m string) string {
		opt, port, _ := strings.Cut(m, " ")
		if h, ok := s.ports[port]; ok {
			port = h
		}
		return opt + " " + port
	})
}

// mailmonPath puts the test binary where the documentation has
// mailmon-check (and where it has mailmon, which the binary then refuses).
func (s *site) mailmonPath(cmd string) string {
	return strings.NewReplacer("/usr/bin/mailmon-check", s.bin, "/usr/bin/mailmon", s.bin).Replace(cmd)
}

// expect runs cmd and wants a plug-in's OK.
func (s *site) expect(t *testing.T, what string, cmd *exec.Cmd) {
	t.Helper()
	cmd.Env = append(cmd.Env, s.env...)
	out, err := cmd.Output()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s: %v", what, err)
		}
		code = ee.ExitCode()
	}
	ok := code == OK && regexp.MustCompile(`^[A-Z0-9-]+ OK - [^\n]*\|time=`).Match(out)
	// The documented thresholds are a real site's: on a loaded machine, or
	// under the race detector, a test may take longer. The command line
	// still worked if the test passed and only its time was judged.
	slow := (code == Warning || code == Critical) &&
		regexp.MustCompile(`^[A-Z0-9-]+ (WARNING|CRITICAL) - \S+ responded in [^;|]*(; (response|delivery) time [\d.]+ s is over [\d.]+: (WARNING|CRITICAL))+\|time=`).Match(out)
	if slow {
		t.Logf("%s: slower than the documented thresholds: %.200s", what, out)
	}
	if !ok && !slow {
		t.Errorf("%s: exit %d:\n%s\nargv %q", what, code, out, cmd.Args)
	}
}

// TestDocumentedDefinitions runs the Nagios and Icinga 2 definitions of
// docs/plugin.md as those systems would, their macros expanded the way
// each expands them, against real Postfix and Dovecot; and the Checkmk
// MRPE lines and the Zabbix script too.
func TestDocumentedDefinitions(t *testing.T) {
	s := newSite(t)
	t.Run("nagios", func(t *testing.T) { s.nagios(t) })
	t.Run("icinga2", func(t *testing.T) { s.icinga(t) })
	t.Run("mrpe", func(t *testing.T) {
		for _, line := range strings.Split(strings.TrimSpace(docBlocks(t, "mrpe")[0]), "\n") {
			name, cmd, _ := strings.Cut(line, " ")
			s.expect(t, name, exec.Command("/bin/sh", "-c", s.mailmonPath(s.portsIn(cmd))))
		}
	})
	t.Run("zabbix", func(t *testing.T) {
		script := filepath.Join(t.TempDir(), "mailmon_check")
		if err := os.WriteFile(script, []byte(s.mailmonPath(docBlocks(t, "sh")[0])), 0o755); err != nil {
			t.Fatal(err)
		}
		// mailmon_check["smtp","-H","{HOST.CONN}","-p","25","-S"]
		params := []string{"smtp", "-H", "127.0.0.1", "-p", s.ports["25"], "-S"}
		cmd := exec.Command(script, params...)
		cmd.Env = s.env
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), `"status": "up"`) || !strings.Contains(string(out), `"days_left"`) {
			t.Errorf("zabbix script: %v:\n%s", err, out)
		}
	})
}

// nagios expands each documented service's check_command into its
// command's command_line ($HOSTADDRESS$, $ARGn$; an unknown macro is
// empty) and runs it with /bin/sh -c, as Nagios and Naemon do.
func (s *site) nagios(t *testing.T) {
	commands := map[string]string{}
	var services [][2]string // description, check_command
	def := regexp.MustCompile(`(?s)define (command|service) \{\n(.*?)\n\}`)
	for _, block := range docBlocks(t, "nagios") {
		for _, d := range def.FindAllStringSubmatch(block, -1) {
			attrs := map[string]string{}
			for _, l := range strings.Split(d[2], "\n") {
				k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
				attrs[k] = strings.TrimSpace(v)
			}
			if d[1] == "command" {
				commands[attrs["command_name"]] = attrs["command_line"]
			} else {
				services = append(services, [2]string{attrs["service_description"], attrs["check_command"]})
			}
		}
	}
	if len(commands) < 4 || len(services) < 5 {
		t.Fatalf("found %d commands and %d services in the Nagios blocks", len(commands), len(services))
	}
	macro := regexp.MustCompile(`\$[A-Z0-9_]*\$`)
	for _, svc := range services {
		t.Run(svc[0], func(t *testing.T) {
			args := strings.Split(s.portsIn(s.values.Replace(svc[1])), "!")
			line, ok := commands[args[0]]
			if !ok {
				t.Fatalf("check_command %s: no such command", args[0])
			}
			expanded := macro.ReplaceAllStringFunc(s.mailmonPath(line), func(m string) string {
				name := strings.Trim(m, "$")
				if name == "HOSTADDRESS" {
					return "127.0.0.1"
				}
				if n, err := strconv.Atoi(strings.TrimPrefix(name, "ARG")); err == nil && strings.HasPrefix(name, "ARG") && n < len(args) {
					return args[n]
				}
				return ""
			})
			s.expect(t, svc[0], exec.Command("/bin/sh", "-c", expanded))
		})
	}
}

// icinga builds each documented service's command as Icinga 2 does: the
// command array and the arguments, their macros resolved from the
// service's, the command's and the host's variables (and $address$); an
// argument whose value macro is not set is left out, a set_if argument is
// given without a value when its macro is true, and the command runs
// without a shell, with the env dictionary in its environment.
func (s *site) icinga(t *testing.T) {
	objects := map[string]icingaObject{}
	for _, block := range docBlocks(t, "icinga2") {
		for _, o := range parseIcinga(t, block) {
			objects[o.kind+" "+o.name] = o
		}
	}
	host, ok := objects["Host mail"]
	if !ok {
		t.Fatal("no Host mail in the Icinga 2 blocks")
	}
	n := 0
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range objects {
			if !yield(k) {
				return
			}
		}
	}) {
		svc := objects[key]
		if svc.kind != "Service" {
			continue
		}
		n++
		t.Run(svc.name, func(t *testing.T) {
			cmdName, _ := svc.attrs["check_command"].(string)
			cmd, ok := objects["CheckCommand "+cmdName]
			if !ok {
				t.Fatalf("check_command %q: no such CheckCommand", cmdName)
			}
			cmd = cmd.flatten(t, objects)
			vars := map[string]any{}
			for _, scope := range []icingaObject{cmd, host, svc} { // the service's win
				for k, v := range scope.attrs {
					if name, ok := strings.CutPrefix(k, "vars."); ok {
						vars[name] = s.icingaValue(name, v)
					}
				}
			}
			vars["address"] = "127.0.0.1"
			resolve := func(v any) (any, bool) { return resolveIcinga(v, vars, 0) }

			var argv []string
			for _, c := range cmd.attrs["command"].([]any) {
				v, ok := resolve(c)
				if !ok {
					t.Fatalf("command part %v does not resolve", c)
				}
				argv = append(argv, s.mailmonPath(fmt.Sprint(v)))
			}
			args, _ := cmd.attrs["arguments"].(map[string]any)
			for _, key := range slices.Sorted(func(yield func(string) bool) {
				for k := range args {
					if !yield(k) {
						return
					}
				}
			}) {
				spec, ok := args[key].(map[string]any)
				if !ok {
					spec = map[string]any{"value": args[key]}
				}
				if cond, has := spec["set_if"]; has {
					v, ok := resolve(cond)
					if b, isBool := v.(bool); !ok || (isBool && !b) || (!isBool && fmt.Sprint(v) != "1" && fmt.Sprint(v) != "true") {
						continue
					}
				}
				value, has := spec["value"]
				if !has {
					argv = append(argv, key)
					continue
				}
				v, ok := resolve(value)
				if !ok || v == "" {
					if spec["required"] == true {
						t.Fatalf("argument %s is required and %v is not set", key, value)
					}
					continue
				}
				if b, isBool := v.(bool); isBool {
					if b {
						argv = append(argv, key)
					}
					continue
				}
				argv = append(argv, key, fmt.Sprint(v))
			}
			c := exec.Command(argv[0], argv[1:]...)
			if env, ok := cmd.attrs["env"].(map[string]any); ok {
				for k, v := range env {
					if r, ok := resolve(v); ok {
						c.Env = append(c.Env, k+"="+fmt.Sprint(r))
					}
				}
			}
			s.expect(t, svc.name, c)
		})
	}
	if n < 5 {
		t.Fatalf("%d services in the Icinga 2 blocks", n)
	}
}

// icingaValue puts the harness's in place of a documented service value.
func (s *site) icingaValue(name string, v any) any {
	switch v := v.(type) {
	case string:
		return s.values.Replace(v)
	case float64:
		if strings.HasSuffix(name, "port") {
			if h, ok := s.ports[strconv.FormatFloat(v, 'f', -1, 64)]; ok {
				n, _ := strconv.Atoi(h)
				return float64(n)
			}
		}
	}
	return v
}

// resolveIcinga resolves the $name$ macros of v: a string that is one
// macro takes the variable's own value (a boolean stays a boolean), else
// each macro is put in as text. ok is false when a macro is not set.
func resolveIcinga(v any, vars map[string]any, depth int) (any, bool) {
	str, isStr := v.(string)
	if !isStr {
		return v, true
	}
	if depth > 8 {
		return nil, false
	}
	macro := regexp.MustCompile(`\$([a-z0-9_.]+)\$`)
	if m := macro.FindStringSubmatch(str); m != nil && m[0] == str {
		val, ok := vars[m[1]]
		if !ok {
			return nil, false
		}
		return resolveIcinga(val, vars, depth+1)
	}
	ok := true
	out := macro.ReplaceAllStringFunc(str, func(m string) string {
		val, found := vars[strings.Trim(m, "$")]
		if !found {
			ok = false
			return ""
		}
		r, rok := resolveIcinga(val, vars, depth+1)
		ok = ok && rok
		return icingaString(r)
	})
	return out, ok
}

func icingaString(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// icingaObject is an object or template of the Icinga 2 DSL: the subset
// the documentation uses (strings, numbers, durations, booleans, arrays,
// dictionaries, import, dotted attribute names).
type icingaObject struct {
	template   bool
	kind, name string
	imports    []string
	attrs      map[string]any
}

// flatten merges the templates o imports under its own attributes.
func (o icingaObject) flatten(t *testing.T, all map[string]icingaObject) icingaObject {
	out := icingaObject{kind: o.kind, name: o.name, attrs: map[string]any{}}
	for _, imp := range o.imports {
		tpl, ok := all[o.kind+" "+imp]
		if !ok || !tpl.template {
			t.Fatalf("%s %q imports %q: no such template", o.kind, o.name, imp)
		}
		for k, v := range tpl.flatten(t, all).attrs {
			out.attrs[k] = v
		}
	}
	for k, v := range o.attrs {
		out.attrs[k] = v
	}
	return out
}

func parseIcinga(t *testing.T, src string) []icingaObject {
	t.Helper()
	p := &icingaParser{t: t, toks: tokenizeIcinga(t, src)}
	var out []icingaObject
	for p.more() {
		var o icingaObject
		switch tok := p.next(); tok {
		case "object":
		case "template":
			o.template = true
		default:
			t.Fatalf("Icinga 2 block: %q where object or template was expected", tok)
		}
		o.kind, o.name = p.next(), p.str()
		o.attrs = map[string]any{}
		p.want("{")
		for p.peek() != "}" {
			key := p.next()
			if key == "import" {
				o.imports = append(o.imports, p.str())
				continue
			}
			p.want("=")
			o.attrs[key] = p.value()
		}
		p.want("}")
		out = append(out, o)
	}
	return out
}

type icingaParser struct {
	t    *testing.T
	toks []string
	i    int
}

func (p *icingaParser) more() bool   { return p.i < len(p.toks) }
func (p *icingaParser) peek() string { return p.toks[min(p.i, len(p.toks)-1)] }
func (p *icingaParser) next() string {
	if !p.more() {
		p.t.Fatal("Icinga 2 block ends early")
	}
	p.i++
	return p.toks[p.i-1]
}
func (p *icingaParser) want(tok string) {
	if got := p.next(); got != tok {
		p.t.Fatalf("Icinga 2 block: %q where %q was expected", got, tok)
	}
}
func (p *icingaParser) str() string {
	tok := p.next()
	s, err := strconv.Unquote(tok)
	if err != nil {
		p.t.Fatalf("Icinga 2 block: %s is not a string", tok)
	}
	return s
}

func (p *icingaParser) value() any {
	switch tok := p.next(); {
	case tok == "[":
		var arr []any
		for p.peek() != "]" {
			arr = append(arr, p.value())
			if p.peek() == "," {
				p.next()
			}
		}
		p.next()
		return arr
	case tok == "{":
		dict := map[string]any{}
		for p.peek() != "}" {
			key := p.next()
			if k, err := strconv.Unquote(key); err == nil {
				key = k
			}
			p.want("=")
			dict[key] = p.value()
			if p.peek() == "," || p.peek() == ";" {
				p.next()
			}
		}
		p.next()
		return dict
	case strings.HasPrefix(tok, `"`):
		p.i--
		return p.str()
	case tok == "true" || tok == "false":
		return tok == "true"
	default:
		if f, err := strconv.ParseFloat(tok, 64); err == nil {
			return f
		}
		if d, err := time.ParseDuration(tok); err == nil {
			return d.Seconds()
		}
		p.t.Fatalf("Icinga 2 block: value %q", tok)
	}
	return nil
}

// tokenizeIcinga splits src into strings (quoted, as Go quotes them),
// punctuation and words; // and # comments are skipped.
func tokenizeIcinga(t *testing.T, src string) []string {
	var toks []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '#' || strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				t.Fatal("Icinga 2 block: a string is not closed")
			}
			toks = append(toks, src[i:j+1])
			i = j + 1
		case strings.ContainsRune("{}[]=,;", rune(c)):
			toks = append(toks, string(c))
			i++
		default:
			j := i
			for j < len(src) && !unicode.IsSpace(rune(src[j])) && !strings.ContainsRune(`{}[]=,;"`, rune(src[j])) {
				j++
			}
			toks = append(toks, src[i:j])
			i = j
		}
	}
	return toks
}
