package oauth

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFileAndCommandSource(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "tok")
	os.WriteFile(f, []byte("  abc.def \n"), 0o600)
	ctx := context.Background()
	if tok, err := (Source{File: f}).Token(ctx); err != nil || tok != "abc.def" {
		t.Errorf("file token %q %v", tok, err)
	}
	if tok, err := (Source{Command: []string{"echo", "from-cmd"}}).Token(ctx); err != nil || tok != "from-cmd" {
		t.Errorf("command token %q %v", tok, err)
	}
	// No shell: metacharacters are plain arguments.
	if tok, err := (Source{Command: []string{"echo", "a;", "rm", "-rf", "$HOME"}}).Token(ctx); err != nil || tok != "a; rm -rf $HOME" {
		t.Errorf("command ran through a shell? %q %v", tok, err)
	}
	for _, bad := range []Source{{File: filepath.Join(dir, "missing")}, {Command: []string{"false"}}, {Command: []string{"printf", "a\nb"}}, {Command: []string{"true"}}, {}} {
		if tok, err := bad.Token(ctx); err == nil {
			t.Errorf("%+v gave token %q", bad, tok)
		}
	}
}

// TestTokenCommandEnvironmentAndStderr: a token command gets none of the
// daemon's environment, and a failed one's stderr, which ends up in the
// test's error detail, shows neither the token it printed nor the secrets
// given to redact.
func TestTokenCommandEnvironmentAndStderr(t *testing.T) {
	t.Setenv("MAILMON_SECRET_KEY", "daemon-storage-key-0123456789")
	t.Setenv("PCMDS_PLANTED", "planted-in-the-daemon")
	src := Source{Command: []string{"/bin/sh", "-c", `echo tok-4f9a1c; env >&2; echo "tok-4f9a1c Monitor-Passw0rd" >&2; exit 1`}}
	_, err := src.Token(context.Background(), "Monitor-Passw0rd")
	if err == nil {
		t.Fatal("a failed command gave a token")
	}
	msg := err.Error()
	for _, leak := range []string{"daemon-storage-key", "planted-in-the-daemon", "tok-4f9a1c", "Monitor-Passw0rd"} {
		if strings.Contains(msg, leak) {
			t.Errorf("the error shows %q: %s", leak, msg)
		}
	}
	if !strings.Contains(msg, "PATH=/usr/local/sbin:") || !strings.Contains(msg, "[redacted] [redacted]") {
		t.Errorf("the error does not show the command's stderr, redacted: %s", msg)
	}
}

func TestSplitCommand(t *testing.T) {
	tests := map[string][]string{
		`gettoken`:                          {"gettoken"},
		`oauth2l fetch --scope "mail read"`: {"oauth2l", "fetch", "--scope", "mail read"},
		`a 'b c' d\ e "f\"g"`:               {"a", "b c", "d e", `f"g`},
		`  spaced   out  `:                  {"spaced", "out"},
		`empty "" arg`:                      {"empty", "", "arg"},
	}
	for in, want := range tests {
		got, err := SplitCommand(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`"open`, `trailing\`, ``, `   `} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("SplitCommand(%q) accepted", bad)
		}
	}
}
