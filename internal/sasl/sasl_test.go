package sasl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	tests := []struct {
		want      string
		adv       []string
		token, tl bool
		got       string
		err       bool
	}{
		{"", []string{"LOGIN", "PLAIN"}, false, true, "PLAIN", false},
		{"auto", []string{"login", "cram-md5"}, false, true, "LOGIN", false},
		{"", []string{"PLAIN", "CRAM-MD5"}, false, false, "CRAM-MD5", false},
		{"", []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}, true, true, "OAUTHBEARER", false},
		{"", []string{"PLAIN", "XOAUTH2"}, true, true, "XOAUTH2", false},
		{"", []string{"PLAIN"}, true, true, "", true},
		{"login", []string{"PLAIN", "LOGIN"}, false, true, "LOGIN", false},
		{"CRAM-MD5", []string{"PLAIN"}, false, true, "", true},
		{"", nil, false, true, "", true},
	}
	for _, tc := range tests {
		got, err := Choose(tc.want, tc.adv, tc.token, tc.tl)
		if got != tc.got || (err != nil) != tc.err {
			t.Errorf("Choose(%q, %v, %v, %v) = %q, %v", tc.want, tc.adv, tc.token, tc.tl, got, err)
		}
		if err != nil && !errors.Is(err, ErrNoMechanism) {
			t.Errorf("error does not wrap ErrNoMechanism: %v", err)
		}
	}
}

func TestCRAMMD5(t *testing.T) {
	// RFC 2195's example.
	c, _ := New(CRAMMD5, Credentials{User: "tim", Password: "tanstaaftanstaaf"})
	c.Start()
	resp, err := c.Next([]byte("<1896.697170952@postoffice.reston.mci.net>"))
	if err != nil || string(resp) != "tim b913a602c7eda7a495b4e6e7334d3890" {
		t.Fatalf("CRAM-MD5 response %q, %v", resp, err)
	}
}

func TestXOAUTH2AndLOGIN(t *testing.T) {
	x, _ := New(XOAuth2, Credentials{User: "u@example.com", Token: "tok"})
	mech, ir, _ := x.Start()
	if mech != "XOAUTH2" || string(ir) != "user=u@example.com\x01auth=Bearer tok\x01\x01" {
		t.Fatalf("XOAUTH2 start %s %q", mech, ir)
	}
	if r, err := x.Next([]byte(`{"status":"401"}`)); err != nil || len(r) != 0 {
		t.Fatalf("XOAUTH2 must answer an error challenge empty: %q %v", r, err)
	}
	l, _ := New(Login, Credentials{User: "u", Password: "p"})
	l.Start()
	a, _ := l.Next([]byte("Username:"))
	b, _ := l.Next([]byte("Password:"))
	if string(a) != "u" || string(b) != "p" {
		t.Fatalf("LOGIN answered %q %q", a, b)
	}
	if _, err := l.Next(nil); err == nil {
		t.Fatal("LOGIN accepted a third challenge")
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

func TestTokenSource(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "tok")
	os.WriteFile(f, []byte("  abc.def \n"), 0o600)
	ctx := context.Background()
	if tok, err := (TokenSource{File: f}).Token(ctx); err != nil || tok != "abc.def" {
		t.Errorf("file token %q %v", tok, err)
	}
	if tok, err := (TokenSource{Command: []string{"echo", "from-cmd"}}).Token(ctx); err != nil || tok != "from-cmd" {
		t.Errorf("command token %q %v", tok, err)
	}
	// No shell: metacharacters are plain arguments.
	if tok, err := (TokenSource{Command: []string{"echo", "a;", "rm", "-rf", "$HOME"}}).Token(ctx); err != nil || tok != "a; rm -rf $HOME" {
		t.Errorf("command ran through a shell? %q %v", tok, err)
	}
	for _, bad := range []TokenSource{{File: filepath.Join(dir, "missing")}, {Command: []string{"false"}}, {Command: []string{"printf", "a\nb"}}, {Command: []string{"true"}}, {}} {
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
	src := TokenSource{Command: []string{"/bin/sh", "-c", `echo tok-4f9a1c; env >&2; echo "tok-4f9a1c Monitor-Passw0rd" >&2; exit 1`}}
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

func TestWatchSeesEveryResponse(t *testing.T) {
	c, _ := New(Login, Credentials{User: "u", Password: "p"})
	var sent []string
	w := Watch(c, func(r []byte) { sent = append(sent, string(r)) })
	w.Start() // LOGIN has no initial response: nothing to see
	a, _ := w.Next([]byte("Username:"))
	b, _ := w.Next([]byte("Password:"))
	if !slices.Equal(sent, []string{string(a), string(b)}) || !slices.Equal(sent, []string{"u", "p"}) {
		t.Errorf("watched %q", sent)
	}
	x, _ := New(XOAuth2, Credentials{User: "u", Token: "t"})
	sent = nil
	_, ir, _ := Watch(x, func(r []byte) { sent = append(sent, string(r)) }).Start()
	if !slices.Equal(sent, []string{string(ir)}) {
		t.Errorf("the initial response was not seen: %q", sent)
	}
}

func TestUnsupportedError(t *testing.T) {
	err := error(&UnsupportedError{Want: "PLAIN", Offered: []string{"CRAM-MD5", "LOGIN"}})
	if !errors.Is(err, ErrNoMechanism) || err.Error() != "the server does not offer PLAIN (offered: CRAM-MD5 LOGIN)" {
		t.Errorf("%v", err)
	}
	if got := (&UnsupportedError{Why: "LOGINDISABLED"}).Error(); got != "the server offers no mechanism mailmon can use: LOGINDISABLED (offered: none)" {
		t.Errorf("%q", got)
	}
	for mech, want := range map[string]Exposure{"plain": RevealsSecret, "LOGIN": RevealsSecret, "USER": RevealsSecret,
		"XOAUTH2": RevealsSecret, "cram-md5": RevealsDigest, "APOP": RevealsDigest, "": RevealsSecret} {
		if got := ExposureOf(mech); got != want {
			t.Errorf("ExposureOf(%q) = %d, want %d", mech, got, want)
		}
	}
}
