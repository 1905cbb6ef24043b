package browser

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestOAuthFieldsetInChromium: the monitor form's OAuth fieldset. A
// Microsoft 365 mailbox by provider, tenant, client id and secret is
// saved; its secret shows as "set" and never in the page; saved again
// untouched, the secret stays; the generic form refuses a token URL that
// is neither https nor on loopback, naming the field beside it.
func TestOAuthFieldsetInChromium(t *testing.T) {
	p := servePages(t)
	ctx := tab(t)
	login(t, ctx, p.url, "admin", pagesPassword)
	const secret = "s3cret-entra-client-secret~0123"
	dev := int64(1)
	run(t, ctx, "the form", chromedp.Navigate(fmt.Sprintf("%s/devices/%d/monitors/new?type=imap", p.url, dev)), chromedp.WaitVisible(chromedp.CSS(`#f-oauth\.provider`)),
		fill(map[string]string{"name": "M365 mailbox", "user": "probe@contoso.example", "tls": "implicit", "oauth.provider": "microsoft",
			"oauth.tenant": "contoso.onmicrosoft.com", "oauth.client_id": "00000000-1111-2222-3333-444444444444", "oauth.client_secret": secret}))
	run(t, ctx, "save", submitted(`#monitor-form`)...)
	if errs := texts(t, ctx, "errors", `.ferr, .error-box`); len(errs) > 0 {
		t.Fatalf("refused: %v", errs)
	}
	stored := func() *store.Monitor {
		t.Helper()
		ms, _, err := p.st.Monitors(context.Background(), store.MonitorFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Name == "M365 mailbox" {
				return &m
			}
		}
		t.Fatal("the monitor was not stored")
		return nil
	}
	keeps := func(when string) {
		t.Helper()
		m := stored()
		b, err := p.vault.Open(m.Secrets[config.SecretOAuthClient], vault.MonitorRecord(m.ID, config.SecretOAuthClient))
		if err != nil || string(b) != secret {
			t.Errorf("%s: the stored client secret is %q (%v)", when, b, err)
		}
		if strings.Contains(string(m.Spec), secret) {
			t.Errorf("%s: the secret is in the settings: %s", when, m.Spec)
		}
	}
	keeps("saved")
	noSecret := func(where string) {
		t.Helper()
		if html := get(t, ctx, where, chromedp.OuterHTML(chromedp.CSS(`html`))); strings.Contains(html, secret) || strings.Contains(html, "s3cret") {
			t.Errorf("%s: the page holds the client secret", where)
		}
	}
	noSecret("the monitor's page")
	edit := fmt.Sprintf("%s/monitors/%d/edit", p.url, stored().ID)
	run(t, ctx, "edit", chromedp.Navigate(edit), chromedp.WaitVisible(chromedp.CSS(`#f-oauth\.provider`)))
	noSecret("the edit form")
	if set := eval[bool](t, ctx, "set", `!!document.getElementById('oauth.client_secret-set')`); !set {
		t.Error(`the client secret is not shown as "set"`)
	}
	if v := eval[string](t, ctx, "tenant", `document.getElementById('f-oauth.tenant').value`); v != "contoso.onmicrosoft.com" {
		t.Errorf("tenant shown %q", v)
	}
	shoot(t, ctx, "monitor-form-oauth")
	run(t, ctx, "save untouched", submitted(`#monitor-form`)...)
	if errs := texts(t, ctx, "errors", `.ferr, .error-box`); len(errs) > 0 {
		t.Fatalf("re-save refused: %v", errs)
	}
	keeps("saved again untouched")
	// The generic form: a token URL in the clear, off loopback.
	run(t, ctx, "generic", chromedp.Navigate(edit), chromedp.WaitVisible(chromedp.CSS(`#f-oauth\.provider`)),
		fill(map[string]string{"oauth.provider": "", "oauth.tenant": "", "oauth.token_url": "http://login.example.com/oauth2/token",
			"oauth.scope": "https://outlook.office365.com/.default"}))
	run(t, ctx, "save generic", submitted(`#monitor-form`)...)
	beside := eval[string](t, ctx, "the token URL's error", `(function(){let e=document.getElementById('f-oauth.token_url'); while (e && !(e.classList && e.classList.contains('ferr'))) e=e.nextElementSibling; return e ? e.textContent : ""})()`)
	if !strings.Contains(beside, "Token URL") || !strings.Contains(beside, "use https") {
		t.Errorf("beside the token URL: %q, want it named and https asked", beside)
	}
	if shown := eval[bool](t, ctx, "the error shown", `document.getElementById('f-oauth.token_url').getClientRects().length > 0`); !shown {
		t.Error("the token URL and its error are folded away")
	}
	if inv := eval[string](t, ctx, "aria-invalid", `document.getElementById('f-oauth.token_url').getAttribute('aria-invalid') || ""`); inv != "true" {
		t.Errorf("the token URL is not marked invalid: %q", inv)
	}
	noSecret("the refused form")
	shoot(t, ctx, "monitor-form-oauth-refused")
	keeps("after the refused save")
	if m := stored(); !strings.Contains(string(m.Spec), "contoso.onmicrosoft.com") || strings.Contains(string(m.Spec), "login.example.com") {
		t.Errorf("the refused save changed the monitor: %s", m.Spec)
	}
}
