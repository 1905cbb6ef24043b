package cli

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakegraph"
	"github.com/mailmon/mailmon/internal/testutil/oauthsrv"
)

// approver is stderr for oauth login: it plays the person who opens the
// URL and enters the code it was shown.
type approver struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	srv  *oauthsrv.Server
	done bool
}

var codeRE = regexp.MustCompile(`enter the code ([A-Z0-9]+)`)

func (a *approver) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buf.Write(p)
	if m := codeRE.FindStringSubmatch(a.buf.String()); m != nil && !a.done {
		a.done = a.srv.Approve(m[1], "probe@contoso.test", false)
	}
	return len(p), nil
}

// TestOAuthLoginThenCheck: "mailmon oauth login" runs the device code
// flow against a local authorization server and prints the refresh token;
// "mailmon check graph" with --oauth-* flags and that refresh token logs
// in to a Graph mailbox; a wrong client secret is CRITICAL with Entra's
// words, and no output shows a secret or a token.
func TestOAuthLoginThenCheck(t *testing.T) {
	ca := certs.NewCA(t)
	caFile := ca.File(t)
	srv := oauthsrv.New(t, ca, time.Hour)
	srv.AddClient(oauthsrv.Client{ID: "app", Secret: "app-secret-value"})
	g := fakegraph.Start(t, ca)
	g.TrustTokens(srv.Active)
	g.AddMailbox("probe@contoso.test")

	a := &approver{srv: srv}
	var out bytes.Buffer
	env := map[string]string{"APP_SECRET": "app-secret-value"}
	getenv := func(k string) string { return env[k] }
	code := Main(context.Background(), []string{"oauth", "login", "--token-url", srv.TokenURL(), "--device-url", srv.DeviceURL(),
		"--client-id", "app", "--client-secret-env", "APP_SECRET", "--scope", "Mail.ReadWrite offline_access", "--ca", caFile},
		Env{Stdout: &out, Stderr: a, Getenv: getenv})
	rt := strings.TrimSpace(out.String())
	if code != 0 || !strings.HasPrefix(rt, "rt-") {
		t.Fatalf("oauth login: %d %q %s", code, rt, a.buf.String())
	}
	rtFile := t.TempDir() + "/rt"
	if err := os.WriteFile(rtFile, []byte(rt+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	check := func(secretVar string) (int, string) {
		var o, e bytes.Buffer
		code := Main(context.Background(), []string{"check", "graph", "-H", g.Host, "-p", strconv.Itoa(g.Port), "--ca", caFile, "-U", "probe@contoso.test",
			"--oauth-token-url", srv.TokenURL(), "--oauth-client-id", "app", "--oauth-client-secret-env", secretVar,
			"--oauth-scope", "Mail.ReadWrite", "--oauth-refresh-token-file", rtFile, "--output", "json"},
			Env{Stdout: &o, Stderr: &e, Getenv: getenv})
		return code, o.String() + e.String()
	}
	code, text := check("APP_SECRET")
	if code != 0 || !strings.Contains(text, `"status": "up"`) {
		t.Fatalf("check graph: %d\n%s", code, text)
	}
	env["WRONG"] = "not-the-secret"
	code, text = check("WRONG")
	if code != 2 || !strings.Contains(text, "AADSTS7000215") {
		t.Errorf("a wrong secret: %d\n%s", code, text)
	}
	for _, s := range append(srv.Issued(), "app-secret-value", "not-the-secret", rt) {
		if strings.Contains(text, s) || strings.Contains(a.buf.String(), s) {
			t.Errorf("the output shows %q", s)
		}
	}
}
