package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/mailmon/mailmon/internal/catalog"
)

// enrolled is a browser logged in as admin who turned two-factor login
// on; it returns the secret and the recovery codes.
func (f *fixture) enrolled(t *testing.T) (*browser, string, []string) {
	t.Helper()
	b := f.loggedIn(t)
	_, page := b.get(t, "/2fa")
	secret := between(page, `<code id="totp-secret">`, `</code>`)
	if secret == "" || !strings.Contains(page, `src="data:image/png;base64,`) {
		t.Fatalf("no secret or QR code: %.500s", page)
	}
	if code, _, _ := b.post(t, "/2fa", url.Values{"secret": {secret}, "code": {"000000"}}, nil); code != http.StatusBadRequest {
		t.Errorf("a wrong code enrols: %d", code)
	}
	code, _ := totp.GenerateCode(secret, f.clock.Now())
	st, page, _ := b.post(t, "/2fa", url.Values{"secret": {secret}, "code": {code}}, nil)
	if st != http.StatusOK || !strings.Contains(page, `id="recovery"`) {
		t.Fatalf("enrol: %d %.500s", st, page)
	}
	var rec []string
	for _, part := range strings.Split(page, "<li><code>")[1:] {
		rec = append(rec, part[:strings.Index(part, "<")])
	}
	if len(rec) != recoveryCodes {
		t.Fatalf("%d recovery codes", len(rec))
	}
	return b, secret, rec
}

// codeStep posts the login's second step.
func codeStep(t *testing.T, b *browser, code string) int {
	t.Helper()
	st, _, _ := b.post(t, "/login/code", url.Values{"code": {code}}, nil)
	return st
}

// passwordStep logs in with the password and expects the code's page.
func passwordStep(t *testing.T, f *fixture) *browser {
	t.Helper()
	b := f.browser(t)
	b.get(t, "/login")
	st, page, _ := b.post(t, "/login", url.Values{"name": {"admin"}, "password": {testPassword}, "next": {"/"}}, nil)
	if st != http.StatusOK || !strings.Contains(page, `id="code-form"`) {
		t.Fatalf("the password alone: %d %.300s", st, page)
	}
	return b
}

// TestTwoFactorLogin: after the password, a code; a wrong one and one used
// already are refused, a recovery code is good once.
func TestTwoFactorLogin(t *testing.T) {
	f := newFixture(t, false)
	_, secret, rec := f.enrolled(t)
	now := f.clock.Now()
	b := passwordStep(t, f)
	if got, _ := b.get(t, "/devices"); got != http.StatusSeeOther {
		t.Errorf("the password alone opens a page: %d", got)
	}
	if st := codeStep(t, b, "123456"); st != http.StatusUnauthorized {
		t.Errorf("a wrong code: %d", st)
	}
	used, _ := totp.GenerateCode(secret, now) // the one that enrolled
	if st := codeStep(t, b, used); st != http.StatusUnauthorized {
		t.Errorf("a code used already: %d", st)
	}
	next, _ := totp.GenerateCode(secret, now.Add(totpPeriod*time.Second))
	if st := codeStep(t, b, next); st != http.StatusSeeOther {
		t.Fatalf("the next code: %d", st)
	}
	if got, _ := b.get(t, "/devices"); got != http.StatusOK {
		t.Errorf("logged in: %d", got)
	}
	// A recovery code, once.
	b2 := passwordStep(t, f)
	if st := codeStep(t, b2, rec[0]); st != http.StatusSeeOther {
		t.Errorf("a recovery code: %d", st)
	}
	b3 := passwordStep(t, f)
	if st := codeStep(t, b3, rec[0]); st != http.StatusUnauthorized {
		t.Errorf("a recovery code twice: %d", st)
	}
	u, _ := f.st.UserByName(context.Background(), "admin")
	if len(u.RecoveryCodes) != recoveryCodes-1 || u.TOTPSecret == "" || strings.Contains(u.TOTPSecret, secret) {
		t.Errorf("stored: %d codes, secret %q", len(u.RecoveryCodes), u.TOTPSecret)
	}
}

// TestWrongCodesLockOut: wrong codes count as wrong passwords do, and
// the right password does not reset the count.
func TestWrongCodesLockOut(t *testing.T) {
	f := newFixture(t, false)
	_, secret, _ := f.enrolled(t)
	var b *browser
	for i := range pairLimit {
		b = passwordStep(t, f) // the password again each time
		if st := codeStep(t, b, "000000"); st != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, st)
		}
	}
	good, _ := totp.GenerateCode(secret, f.clock.Now().Add(totpPeriod*time.Second))
	if st := codeStep(t, b, good); st != http.StatusTooManyRequests {
		t.Errorf("the right code after %d wrong ones: %d", pairLimit, st)
	}
	b = f.browser(t)
	b.get(t, "/login")
	if st, page, _ := b.post(t, "/login", url.Values{"name": {"admin"}, "password": {testPassword}, "next": {"/"}}, nil); st != http.StatusTooManyRequests {
		t.Errorf("after %d wrong codes the password step says %d: %.200s", pairLimit, st, page)
	}
}

// TestTwoFactorRequiredByRole: a role that needs a second factor can do
// nothing but enrol until it has one.
func TestTwoFactorRequiredByRole(t *testing.T) {
	f := newFixture(t, false)
	f.web.TwoFactorRoles = []catalog.Role{catalog.Editor}
	b := f.asRole(t, catalog.Editor)
	if st, _ := b.get(t, "/devices"); st != http.StatusSeeOther {
		t.Errorf("a page before enrolling: %d", st)
	}
	if st, _, _ := b.post(t, "/devices", url.Values{"name": {"x"}, "address": {"10.0.0.1"}}, nil); st != http.StatusForbidden {
		t.Errorf("a change before enrolling: %d", st)
	}
	if st, page := b.get(t, "/2fa"); st != http.StatusOK || !strings.Contains(page, "Your role needs a second factor") {
		t.Errorf("the enrolment page: %d", st)
	}
	if st, _ := f.asRole(t, catalog.Viewer).get(t, "/devices"); st != http.StatusOK {
		t.Errorf("a viewer, whose role needs none: %d", st)
	}
}
