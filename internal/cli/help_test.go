package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/version"
)

// TestHelpPerCommand: "mailmon help CMD" and "CMD --help" print that
// command's usage and flags on stdout, exit 0.
func TestHelpPerCommand(t *testing.T) {
	for cmd, flag := range map[string]string{
		"serve": "--listen ADDR", "apply": "-f FILE", "export": "--db", "token": "--name TEXT", "user": "--db",
		"key": "--new-key-file FILE", "version": "--output TEXT", "discover": "--ports TEXT", "backup": "--db", "restore": "--db",
	} {
		code, out, errOut := runCLI(t, nil, "help", cmd)
		if code != ExitOK || !strings.HasPrefix(out, "usage: mailmon "+cmd) || !strings.Contains(out, "\nflags:\n") || !strings.Contains(out, "\n  "+flag) || errOut != "" {
			t.Errorf("help %s: exit %d, stderr %q:\n%s", cmd, code, errOut, out)
		}
		if _, again, _ := runCLI(t, nil, cmd, "--help"); again != out {
			t.Errorf("%s --help differs from help %s:\n%s", cmd, cmd, again)
		}
	}
	for _, cmd := range []string{"completion", "help"} {
		if code, out, _ := runCLI(t, nil, "help", cmd); code != ExitOK || !strings.HasPrefix(out, "usage: mailmon "+cmd) {
			t.Errorf("help %s: exit %d:\n%s", cmd, code, out)
		}
	}
	if code, out, _ := runCLI(t, nil, "help"); code != ExitOK || !strings.Contains(out, "mailmon completion bash|zsh|fish") || !strings.Contains(out, `"mailmon help check TYPE"`) {
		t.Errorf("help: exit %d:\n%s", code, out)
	}
}

// TestCheckHelpPerType: each monitor type's help shows its own flags and
// its defaults (a round trip's 60 s timeout, not the 10 s of the others).
func TestCheckHelpPerType(t *testing.T) {
	has := map[string][]string{
		"smtp":           {"--ehlo", "--tls", "--user"},
		"pop3":           {"--stat", "--user"},
		"imap":           {"--mailbox", "--mailbox-check"},
		"tcp":            {"--expect", "--port"},
		"ping":           {"--host"},
		"pop3-roundtrip": {"--smtp-host", "--from", "--to", "--secret-file", "--poll-interval"},
		"imap-roundtrip": {"--smtp-host", "--mailbox"},
	}
	hasNot := map[string][]string{
		"smtp":           {"--stat", "--mailbox", "--smtp-host"},
		"pop3":           {"--ehlo", "--mailbox", "--from"},
		"tcp":            {"--user", "--password-file", "--smtp-host"},
		"ping":           {"--port", "--tls", "--user", "--ca"},
		"pop3-roundtrip": {"--stat", "--mailbox"},
	}
	for _, k := range kinds.All() {
		code, out, _ := runCLI(t, nil, "help", "check", k.Name)
		if code != ExitOK || !strings.HasPrefix(out, "Usage: mailmon check "+k.Name+" -H HOST [options]") || !strings.Contains(out, k.Summary) {
			t.Errorf("help check %s: exit %d:\n%s", k.Name, code, out)
			continue
		}
		timeout := fmt.Sprintf("Timeout: %g seconds by default", k.DefaultTimeout().Seconds())
		if !strings.Contains(out, timeout) {
			t.Errorf("help check %s lacks %q:\n%s", k.Name, timeout, out)
		}
		if k.Ports.Plain != 0 && !strings.Contains(out, "Port: "+strconv.Itoa(k.Ports.Plain)+" by default") {
			t.Errorf("help check %s lacks its port:\n%s", k.Name, out)
		}
		shown := options(out)
		for _, f := range has[k.Name] {
			if !shown[f] {
				t.Errorf("help check %s lacks %s:\n%s", k.Name, f, out)
			}
		}
		for _, f := range hasNot[k.Name] {
			if shown[f] {
				t.Errorf("help check %s shows %s:\n%s", k.Name, f, out)
			}
		}
		if code, again, _ := runCLI(t, nil, "check", k.Name, "--help"); again != out || code != ExitUnknown {
			t.Errorf("check %s --help: exit %d (a plug-in's help exits 3), or differs from help check %s", k.Name, code, k.Name)
		}
	}
	if _, out, _ := runCLI(t, nil, "help", "check"); !strings.Contains(out, "(default 10; round trips 60)") || !strings.Contains(out, `"mailmon help check TYPE"`) {
		t.Errorf("help check:\n%s", out)
	}
	if k, ok := kinds.Lookup("imap-roundtrip"); !ok || k.DefaultTimeout().String() == "10s" {
		t.Fatal("the round trip's default timeout is no longer its own: the test above proves nothing")
	}
}

// options are the long options a help text lists (its lines " -H, --host, --hostname HOST").
func options(help string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(help, "\n") {
		if !strings.HasPrefix(l, " -") {
			continue
		}
		for _, w := range strings.FieldsFunc(l, func(r rune) bool { return r == ' ' || r == ',' }) {
			if strings.HasPrefix(w, "--") {
				out[w] = true
			}
		}
	}
	return out
}

// TestSuggestionsAndHints: a misspelt command, type or flag gets the
// nearest; a password flag points to its file and variable; where the
// fix is a flag, the message names the flag.
func TestSuggestionsAndHints(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("a-password\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
		not  string
	}{
		{[]string{"serv"}, `unknown command "serv"; did you mean "serve"? ("mailmon help" lists the commands)`, "usage:"},
		{[]string{"exprot"}, `did you mean "export"?`, ""},
		{[]string{"help", "serv"}, `did you mean "serve"?`, ""},
		{[]string{"check", "smpt", "--host", "h"}, `unknown type "smpt"; did you mean "smtp"?`, ""},
		{[]string{"check", "smtp", "--host", "h", "--pasword-file", pw}, `SMTP UNKNOWN - --pasword-file is not an option; did you mean --password-file?`, ""},
		{[]string{"check", "smtp", "--host", "h", "--password", "x"}, `--password is not an option; did you mean --password-file? (or --password-env; a password on the command line would be readable by every user of this machine)`, ""},
		{[]string{"check", "pop3-roundtrip", "--smtp-password=x"}, `did you mean --smtp-password-file?`, ""},
		{[]string{"serve", "--listn", "x"}, `serve: unknown flag --listn; did you mean --listen?`, ""},
		{[]string{"apply", "--database", "x"}, `apply: unknown flag --database ("mailmon help apply" lists the flags)`, "did you mean"},
		{[]string{"check", "smtp", "--host"}, `--host needs a value`, ""},
		{[]string{"serve", "--db"}, `serve: flag needs an argument: --db`, ""},
		{[]string{"check", "pop3", "--host", "h", "--user", "u", "--password-file", pw, "--auth", "APOP"},
			`--allow-plaintext-auth: credentials would cross the network unencrypted with tls none, in any form (a CRAM-MD5 or APOP digest too); use --tls starttls or implicit, or give --allow-plaintext-auth to send them anyway`,
			"allow_plaintext_auth"},
		{[]string{"check", "smtp", "--host", "h", "--tls", "ssl"}, `"ssl" is not one of none, starttls-optional, starttls, implicit`, "did you mean"},
		{[]string{"check", "smtp", "--host", "h", "--tls", "startls"}, `--tls: "startls" is not one of none, starttls-optional, starttls, implicit; did you mean "starttls"?`, ""},
		{[]string{"check", "imap-roundtrip", "--host", "h", "--smtp-tls", "implict"}, `--smtp-tls: "implict" is not one of none, starttls-optional, starttls, implicit; did you mean "implicit"?`, ""},
	} {
		// check is a plug-in: its usage errors are on stdout, as an UNKNOWN status line.
		code, out, errOut := runCLI(t, nil, tc.args...)
		if got := out + errOut; code != ExitUnknown || !strings.Contains(got, tc.want) || (tc.not != "" && strings.Contains(got, tc.not)) || (tc.args[0] != "check" && out != "") {
			t.Errorf("%v: exit %d, stdout %q, stderr\n%s\nwant %q", tc.args, code, out, errOut, tc.want)
		}
	}

	// Enum values in any capitals.
	ca := certs.NewCA(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{}))})
	port := strconv.Itoa(srv.Port)
	if code, out, errOut := runCLI(t, nil, "check", "SMTP", "--host", srv.Host, "--port", port, "--tls", "STARTTLS", "--ca", ca.File(t), "--output", "JSON"); code != ExitOK || !strings.HasPrefix(out, "{") {
		t.Errorf("--tls STARTTLS --output JSON: exit %d, %s%s", code, out, errOut)
	}

	// An unknown authority: --ca is the fix.
	code, out, errOut := runCLI(t, nil, "check", "smtp", "--host", srv.Host, "--port", port, "--tls", "starttls")
	if code != ExitCritical || !strings.Contains(out, "cert_invalid") ||
		!strings.Contains(errOut, "mailmon: hint: the certificate is signed by a CA this host does not trust: give that CA's certificate with --ca FILE (PEM)") {
		t.Errorf("unknown authority: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestVersionFlags(t *testing.T) {
	for _, arg := range []string{"-v", "--version", "version"} {
		if code, out, _ := runCLI(t, nil, arg); code != ExitOK || out != version.Get().String()+"\n" {
			t.Errorf("%s: exit %d, %q", arg, code, out)
		}
	}
}

// TestCompletion runs the bash script in bash: commands, types, flags by
// type and flag values complete.
func TestCompletion(t *testing.T) {
	code, script, errOut := runCLI(t, nil, "completion", "bash")
	if code != ExitOK || errOut != "" {
		t.Fatalf("completion bash: exit %d, %s", code, errOut)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	file := filepath.Join(t.TempDir(), "mailmon.bash")
	os.WriteFile(file, []byte(script), 0o600)
	complete := func(words ...string) string {
		t.Helper()
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, strconv.Quote(w))
		}
		prog := "source " + file + "; COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" + strconv.Itoa(len(words)-1) + "; _mailmon; echo \"${COMPREPLY[*]}\""
		out, err := exec.Command(bash, "--norc", "--noprofile", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"mailmon", "se"}, "serve"},
		{[]string{"mailmon", "check", ""}, strings.Join(checkTypes(), " ")},
		{[]string{"mailmon", "check", "smtp", "--pass"}, "--password-file --password-env"},
		{[]string{"mailmon", "check", "ping", "--p"}, ""}, // ping has no port and no login
		{[]string{"mailmon", "check", "pop3", "--st"}, "--starttls --stat"},
		{[]string{"mailmon", "check", "tcp", "--st"}, "--starttls"},
		{[]string{"mailmon", "check", "smtp", "--tls", ""}, "none starttls-optional starttls implicit"},
		{[]string{"mailmon", "check", "imap", "--output", ""}, "nagios json text"},
		{[]string{"mailmon", "discover", "h", "--output", "y"}, "yaml"},
		{[]string{"mailmon", "token", ""}, "create list delete"},
		{[]string{"mailmon", "serve", "--lis"}, "--listen"},
		{[]string{"mailmon", "completion", ""}, "bash zsh fish"},
		{[]string{"mailmon", "help", "ser"}, "serve"},
		{[]string{"mailmon", "help", "check", "sm"}, "smtp"},
	} {
		if got := complete(tc.words...); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.words, got, tc.want)
		}
	}

	for _, shell := range []string{"zsh", "fish"} {
		code, out, _ := runCLI(t, nil, "completion", shell)
		if code != ExitOK || !strings.Contains(out, "password-file") {
			t.Errorf("completion %s: exit %d:\n%s", shell, code, out)
		}
	}
	_, fish, _ := runCLI(t, nil, "completion", "fish")
	for _, want := range []string{
		"complete -c mailmon -n __fish_use_subcommand -a serve -d 'The daemon: tests the monitors on their schedule, delivers their alerts, and serves the web UI, the JSON API and /metrics on --listen'",
		"complete -c mailmon -n '__fish_seen_subcommand_from check; and __fish_seen_subcommand_from smtp' -l tls -d 'none (default), starttls-optional, starttls, implicit' -x -a 'none starttls-optional starttls implicit'",
		"complete -c mailmon -n '__fish_seen_subcommand_from apply' -s f -d 'the configuration file (YAML); - reads standard input' -r -F",
	} {
		if !strings.Contains(fish, want+"\n") {
			t.Errorf("completion fish lacks\n%s", want)
		}
	}
	if fish, err := exec.LookPath("fish"); err == nil {
		if out, err := exec.Command(fish, "--no-config", "-n", "-c", "mailmon completion fish").CombinedOutput(); err != nil {
			t.Errorf("fish: %v %s", err, out)
		}
	}
}
