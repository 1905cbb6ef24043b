package pop3probe

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
)

// The account of the fake servers. The secrets are long enough that finding
// them anywhere in a result is no accident.
const (
	user     = "alice@example.test"
	password = "correct-horse-battery-staple"
	token    = "ya29.token-secret-value-0123456789"
)

var alice = fakepop3.User{Name: user, Password: password, Token: token}

// start starts a fake with alice as its user.
func start(t *testing.T, opts fakepop3.Options) *fakepop3.Server {
	t.Helper()
	if opts.Users == nil {
		opts.Users = []fakepop3.User{alice}
	}
	return fakepop3.Start(t, opts)
}

// config is a pop3 check of srv in mode.
func config(srv *fakepop3.Server, mode probe.TLSMode) probe.Config {
	return probe.Config{Type: "pop3", Host: srv.Host, Port: srv.Port, TLS: mode, CAFile: srv.CAFile, Timeout: 5 * time.Second}
}

// withLogin adds alice's password.
func withLogin(cfg probe.Config, auth string) probe.Config {
	cfg.User, cfg.Password, cfg.Auth = user, password, auth
	return cfg
}

func run(cfg probe.Config) *probe.Result {
	return probe.Run(context.Background(), Kind(), cfg)
}

func dump(r *probe.Result) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

func wantUp(t *testing.T, r *probe.Result) {
	t.Helper()
	if r.Status != probe.StatusUp || r.Error != nil {
		t.Fatalf("status %s, want up:\n%s", r.Status, dump(r))
	}
}

func wantCode(t *testing.T, r *probe.Result, code probe.Code) {
	t.Helper()
	if r.Status != probe.StatusDown || r.Error == nil {
		t.Fatalf("status %s, want down with %s:\n%s", r.Status, code, dump(r))
	}
	if r.Error.Code != code {
		t.Fatalf("code %s, want %s:\n%s", r.Error.Code, code, dump(r))
	}
}

func phaseNames(r *probe.Result) []string {
	var names []string
	for _, p := range r.Phases {
		names = append(names, p.Name)
	}
	return names
}

func wantPhases(t *testing.T, r *probe.Result, want ...string) {
	t.Helper()
	if got := phaseNames(r); !slices.Equal(got, want) {
		t.Errorf("phases %q, want %q", got, want)
	}
}

// noSecrets checks that neither the secrets, nor their base64, nor any
// credential the server received (a PASS argument, an APOP digest, a SASL
// payload) appears anywhere in the JSON of the result.
func noSecrets(t *testing.T, r *probe.Result, srv *fakepop3.Server) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	forbidden := []string{password, token}
	for _, s := range []string{password, token} {
		forbidden = append(forbidden, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	if srv != nil {
		for _, c := range srv.Commands() {
			if !c.Secret {
				continue
			}
			f := strings.Fields(c.Line)
			if len(f) > 0 && len(f[len(f)-1]) >= 3 {
				forbidden = append(forbidden, f[len(f)-1])
			}
		}
	}
	for _, s := range forbidden {
		if strings.Contains(js, s) {
			t.Errorf("the result holds the secret %q:\n%s", s, dump(r))
		}
	}
}

// received returns the command verbs the server received (upper case, the
// first word), with "+tls" after those that came over TLS.
func received(srv *fakepop3.Server) []string {
	var out []string
	for _, c := range srv.Commands() {
		verb, _, _ := strings.Cut(c.Line, " ")
		verb = strings.ToUpper(verb)
		if c.Secret && verb != "PASS" && verb != "APOP" && verb != "AUTH" {
			verb = "<sasl>"
		}
		if c.TLS {
			verb += "+tls"
		}
		out = append(out, verb)
	}
	return out
}

func wantReceived(t *testing.T, srv *fakepop3.Server, want ...string) {
	t.Helper()
	if got := received(srv); !slices.Equal(got, want) {
		t.Errorf("the server received %q, want %q", got, want)
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

// tokenFile writes the token to a file.
func tokenFile(t *testing.T, tok string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tokenCommand writes a tiny program that prints the token; it is run as
// argv, without a shell between mailmon and it.
func tokenCommand(t *testing.T, tok string) []string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nprintf '%s\\n' '"+tok+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return []string{p}
}
