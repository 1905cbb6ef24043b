package browser

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/mailmon/mailmon/internal/cli"
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
		run(t, ctx, what,
			chromedp.SetValue(chromedp.CSS(`#code`), c),
			chromedp.Click(chromedp.CSS(`#send-code`)),
			chromedp.WaitVisible(chromedp.CSS(`#code-error`)),
		)
	}
	next, _ := totp.GenerateCode(secret, enrolledAt.Add(30*time.Second))
	run(t, ctx, "the next code",
		chromedp.SetValue(chromedp.CSS(`#code`), next),
		chromedp.Click(chromedp.CSS(`#send-code`)),
		chromedp.WaitVisible(chromedp.CSS(`#logout`)),
	)
}
