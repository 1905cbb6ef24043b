package browser

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/mailmon/mailmon/internal/cli"
	"github.com/mailmon/mailmon/internal/testutil/fakeidp"
)

// addUser runs "mailmon user add NAME --role ROLE" on the daemon's
// database, the password on stdin.
func addUser(t *testing.T, d *daemon, name, role, pw string) {
	t.Helper()
	var out strings.Builder
	if code := cli.Main(context.Background(), []string{"user", "add", name, "--role", role, "--db", d.db},
		cli.Env{Stdin: strings.NewReader(pw + "\n"), Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}); code != 0 {
		t.Fatalf("user add: %d %s", code, out.String())
	}
}

// TestTwoFactorInChromium: an admin whose role needs a second factor is
// sent to enrol, scans (reads) the secret beside the QR code drawn by the
// server, turns it on and sees recovery codes; then logs out and in: a
// wrong code and the code used already are refused, the next one lets
// them in.
func TestTwoFactorInChromium(t *testing.T) {
	skipWithoutChromium(t)
	dir := t.TempDir()
	d := serve(t, dir, "--require-2fa", "admin", "--db", filepath.Join(dir, "mailmon.db"))
	const pw = "two-factor-browser-pw"
	addUser(t, d, "root", "admin", pw)
	ctx := tab(t)
	run(t, ctx, "log in with the password",
		chromedp.Navigate(d.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "root"),
		chromedp.SendKeys(chromedp.CSS(`#password`), pw),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#enrol`)), // sent to enrol: the role needs it
	)
	if w := eval[float64](t, ctx, "the QR code", `document.querySelector('#qr').naturalWidth`); w < 100 {
		t.Errorf("the QR code is %v pixels wide", w)
	}
	secret := get(t, ctx, "the secret", chromedp.Text(chromedp.CSS(`#totp-secret`)))
	enrolledAt := time.Now()
	code, err := totp.GenerateCode(secret, enrolledAt)
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "enrol",
		chromedp.SendKeys(chromedp.CSS(`#enrol-code`), code),
		chromedp.Click(chromedp.CSS(`#enrol-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#recovery`)),
	)
	if n := eval[float64](t, ctx, "recovery codes", `document.querySelectorAll('#recovery li').length`); n != 10 {
		t.Errorf("%v recovery codes", n)
	}
	run(t, ctx, "log out and in again",
		chromedp.Navigate(d.url+"/devices"),
		chromedp.WaitVisible(chromedp.CSS(`#logout`)),
		chromedp.Click(chromedp.CSS(`#logout`)),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "root"),
		chromedp.SendKeys(chromedp.CSS(`#password`), pw),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#code-form`)),
	)
	for what, c := range map[string]string{"a wrong code": "000000", "the code used to enrol": code} {
		// The page before says the same error: mark it, and wait for the
		// answer's page, unmarked.
		run(t, ctx, what,
			chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"; true`),
			chromedp.SetValue(chromedp.CSS(`#code`), c),
			chromedp.Click(chromedp.CSS(`#send-code`)),
			chromedp.WaitVisible(chromedp.CSS(`body:not([data-stale]) #code-error`)),
		)
	}
	next, _ := totp.GenerateCode(secret, enrolledAt.Add(30*time.Second))
	run(t, ctx, "the next code",
		chromedp.SetValue(chromedp.CSS(`#code`), next),
		chromedp.Click(chromedp.CSS(`#send-code`)),
		chromedp.WaitVisible(chromedp.CSS(`#logout`)),
	)
}

// freePort is a loopback port free a moment ago: the provider must know
// mailmon's callback before mailmon starts.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSingleSignOnInChromium: serve with an OpenID provider started by
// the test (zitadel's op, its own keys, on loopback): log in there, land
// in mailmon with the role the groups map to, log out; local logins off.
func TestSingleSignOnInChromium(t *testing.T) {
	skipWithoutChromium(t)
	dir := t.TempDir()
	addr := freePort(t)
	base := "http://" + addr
	idp := fakeidp.Start(t, base+"/login/oidc/callback", map[string][]string{fakeidp.Other: {"noc"}})
	secretFile := filepath.Join(dir, "oidc-secret")
	if err := os.WriteFile(secretFile, []byte(idp.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := serve(t, dir, "--listen", addr, "--oidc-issuer", idp.Issuer, "--oidc-client-id", idp.ClientID,
		"--oidc-client-secret-file", secretFile, "--oidc-roles", "noc=editor,helpdesk=viewer", "--local-logins=false")
	ctx := tab(t)
	run(t, ctx, "log in at the provider",
		chromedp.Navigate(d.url+"/devices"),
		chromedp.WaitVisible(chromedp.CSS(`#sso`)),
	)
	if n := eval[float64](t, ctx, "the password field", `document.querySelectorAll('#password').length`); n != 0 {
		t.Error("local logins are off, yet the password form is shown")
	}
	run(t, ctx, "log in at the provider",
		chromedp.Click(chromedp.CSS(`#sso`)),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "test-user2"),
		chromedp.SendKeys(chromedp.CSS(`#password`), fakeidp.Password),
		chromedp.Submit(chromedp.CSS(`#username`)),
		chromedp.WaitVisible(chromedp.CSS(`#logout`)),
	)
	if loc := get(t, ctx, "where it landed", chromedp.Location()); !strings.HasPrefix(loc, d.url+"/devices") {
		t.Errorf("landed on %s", loc)
	}
	if role := get(t, ctx, "the role", chromedp.Text(chromedp.CSS(`.role`))); role != "editor" {
		t.Errorf("the role shown is %q, want editor (noc=editor)", role)
	}
	if n := eval[float64](t, ctx, "the editor's form", `document.querySelectorAll('#add-device').length`); n != 1 {
		t.Error("an editor sees no form to add a device")
	}
	run(t, ctx, "log out",
		chromedp.Click(chromedp.CSS(`#logout`)),
		chromedp.WaitVisible(chromedp.CSS(`#sso`)),
	)
	run(t, ctx, "a page after logging out sends to the login",
		chromedp.Navigate(d.url+"/devices"),
		chromedp.WaitVisible(chromedp.CSS(`#sso`)),
	)
}
