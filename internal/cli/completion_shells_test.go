package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// shell finds a shell for the completion tests: missing, they skip, or
// fail with $CI set (.ci/test-deps installs zsh and fish).
func shell(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: .ci/test-deps installs it", name)
		}
		t.Skipf("%s is missing (apt-get install %s)", name, name)
	}
	return path
}

// script writes "mailmon completion SHELL" to a file.
func script(t *testing.T, sh string) string {
	t.Helper()
	code, out, errOut := runCLI(t, nil, "completion", sh)
	if code != ExitOK || errOut != "" {
		t.Fatalf("completion %s: exit %d, %s", sh, code, errOut)
	}
	file := filepath.Join(t.TempDir(), "mailmon."+sh)
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestCompletionFish runs the fish script in fish: complete -C offers
// the commands, check's types, each type's flags and the flags' values,
// files where a flag takes one, and descriptions cut at a sentence's
// end.
func TestCompletionFish(t *testing.T) {
	fish := shell(t, "fish")
	file := script(t, "fish")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mail.yaml"), nil, 0o600)
	complete := func(line string) (words []string, descs map[string]string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, fish, "--no-config", "-c", "source "+file+"; complete -C "+fishQuote(line)).CombinedOutput()
		if err != nil {
			t.Fatalf("fish: %v\n%s", err, out)
		}
		descs = map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l == "" {
				continue
			}
			w, d, _ := strings.Cut(l, "\t")
			words, descs[w] = append(words, w), d
		}
		slices.Sort(words)
		return words, descs
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"mailmon che", []string{"check"}},
		{"mailmon check ", sorted(checkTypes()...)},
		{"mailmon check smtp --pass", []string{"--password-env", "--password-file"}},
		{"mailmon check pop3 --st", []string{"--starttls", "--stat"}},
		{"mailmon check smtp --tls ", []string{"implicit", "none", "starttls", "starttls-optional"}},
		{"mailmon check imap --mailbox-check ", []string{"select", "status"}},
		{"mailmon help ser", []string{"serve"}},
		{"mailmon help check ", sorted(checkTypes()...)},
		{"mailmon completion ", []string{"bash", "fish", "zsh"}},
		{"mailmon apply -f " + dir + "/ma", []string{dir + "/mail.yaml"}},
	} {
		if got, _ := complete(tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.line, got, tc.want)
		}
	}
	_, descs := complete("mailmon ")
	if d := descs["apply"]; !strings.Contains(d, "docs/configuration.md") {
		t.Errorf("apply's description is cut inside a file name: %q", d)
	}
	if d := descs["serve"]; !strings.HasPrefix(d, "The daemon") {
		t.Errorf("serve's description: %q", d)
	}
}

// TestCompletionZsh runs the zsh script in an interactive zsh -f (compinit,
// the script sourced) on a pseudo-terminal (zsh/zpty): TAB completes a
// command, a type, a flag and a flag's value in the line itself, and
// lists the candidates where several remain.
func TestCompletionZsh(t *testing.T) {
	zsh := shell(t, "zsh")
	file := script(t, "zsh")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mail.yaml"), nil, 0o600)
	cases := []struct {
		typed, line string   // typed before TAB, the line after it
		listed      []string // candidates listed (several remain)
	}{
		{typed: "mailmon che", line: "mailmon check "},
		{typed: "mailmon check sm", line: "mailmon check smtp "},
		{typed: "mailmon check imap-r", line: "mailmon check imap-roundtrip "},
		{typed: "mailmon check smtp --pass", line: "mailmon check smtp --password-", listed: []string{"--password-file", "--password-env"}},
		{typed: "mailmon check smtp --tls imp", line: "mailmon check smtp --tls implicit "},
		{typed: "mailmon check smtp --tls starttls-", line: "mailmon check smtp --tls starttls-optional "},
		{typed: "mailmon check ping --ti", line: "mailmon check ping --timeout "},
		{typed: "mailmon help ser", line: "mailmon help serve "},
		{typed: "mailmon help check pop3-", line: "mailmon help check pop3-roundtrip "},
		{typed: "mailmon completion fi", line: "mailmon completion fish "},
		{typed: "mailmon apply -f " + dir + "/ma", line: "mailmon apply -f " + dir + "/mail.yaml "},
	}
	// The driver types each case, TAB, then ^X, a widget that prints the
	// line between markers the echo of its own definition does not have;
	// it reads up to each marker (no sleeps) and ^U clears the line (^C
	// would flush what is typed next).
	var drive strings.Builder
	drive.WriteString(`zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PS1="> "; PS2=""; autoload -U compinit && compinit -u -D; source ` + file + `'
zpty -w z 'zstyle ":completion:*" menu no; unsetopt beep; show() { print -r -- "LI""NE<$BUFFER>" }; zle -N show; bindkey "^X" show'
`)
	for _, c := range cases {
		tabs := "\t"
		if c.listed != nil {
			tabs = "\t\t" // the first inserts what they share, the second lists them
		}
		drive.WriteString("zpty -n -w z " + zshQuote(c.typed+tabs+"\x18") + "\nzpty -r z out '*LINE<*>*'\nprint -r -- \"$out\"\nzpty -n -w z $'\\x15'\n")
	}
	drive.WriteString("zpty -d z\n")
	// Saved as _mailmon in $fpath instead, it completes at the first TAB.
	fpath := t.TempDir()
	if b, err := os.ReadFile(file); err != nil || os.WriteFile(filepath.Join(fpath, "_mailmon"), b, 0o600) != nil {
		t.Fatal(err)
	}
	drive.WriteString(`zpty y zsh -f -i
zpty -w y 'PS1="> "; fpath=(` + fpath + ` $fpath); autoload -U compinit && compinit -u -D'
zpty -w y 'zstyle ":completion:*" menu no; unsetopt beep; show() { print -r -- "FPA""TH<$BUFFER>" }; zle -N show; bindkey "^X" show'
zpty -n -w y $'mailmon che\t\x18'
zpty -r y out '*FPATH<*>*'
print -r -- "$out"
zpty -d y
`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, zsh, "-f", "-c", drive.String())
	cmd.Env = append(os.Environ(), "TERM=dumb", "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("zsh: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`FPATH<([^>]*)>`).FindSubmatch(out); m == nil || string(m[1]) != "mailmon check " {
		t.Errorf("from $fpath, the first TAB: %q, want \"mailmon check \"", m)
	}
	// Each case's output: what the terminal showed up to its line.
	parts := regexp.MustCompile(`LINE<([^>]*)>`).FindAllSubmatchIndex(out, -1)
	if len(parts) != len(cases) {
		t.Fatalf("%d lines for %d cases:\n%s", len(parts), len(cases), out)
	}
	from := 0
	for i, c := range cases {
		shown, line := string(out[from:parts[i][0]]), string(out[parts[i][2]:parts[i][3]])
		from = parts[i][1]
		if line != c.line {
			t.Errorf("%q TAB: %q, want %q", c.typed, line, c.line)
		}
		for _, l := range c.listed {
			if !strings.Contains(shown, l) {
				t.Errorf("%q TAB: %s not listed in\n%s", c.typed, l, shown)
			}
		}
	}
}

// zshQuote quotes s as $'…' for zsh.
func zshQuote(s string) string {
	return "$'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\t", `\t`, "\x18", `\x18`).Replace(s) + "'"
}
