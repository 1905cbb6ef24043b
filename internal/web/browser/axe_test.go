package browser

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axe-core (npm axe-core, MPL-2.0), vendored for the tests only: it is
// never served to users. Update: npm pack axe-core, copy axe.min.js and
// the licences into testdata/axe-core.
//
//go:embed testdata/axe-core/axe.min.js
var axeSource string

// violation is one of axe's findings.
type violation struct {
	ID, Impact, Help string
	Nodes            []string
}

// axe runs axe-core on the tab's page and returns its serious and
// critical violations. The script goes in through the DevTools protocol,
// which the page's CSP does not govern: the page itself keeps its
// script-src 'self'.
func axe(t *testing.T, ctx context.Context) []violation {
	t.Helper()
	run(t, ctx, "load axe-core", chromedp.Evaluate[chromedp.Void](axeSource+";true"))
	out := get(t, ctx, "axe.run", chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
			id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary)}))))`,
		chromedp.EvalAwaitPromise))
	var vs []violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("axe: %v: %s", err, out)
	}
	return vs
}

// TestAccessibility: every page of the UI, in Chromium, has no serious or
// critical violation by axe-core's rules (WCAG 2 A and AA, best
// practices).
func TestAccessibility(t *testing.T) {
	p := servePages(t)
	ctx := tab(t)
	run(t, ctx, "the login page", chromedp.Navigate(p.url+"/login"), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	report := func(page string) {
		for _, v := range axe(t, ctx) {
			t.Errorf("%s: %s (%s): %s\n\t%s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
		}
	}
	report("/login")
	login(t, ctx, p.url, "admin", pagesPassword)
	// An alert, so that its edit page exists.
	run(t, ctx, "add an alert", chromedp.Navigate(p.url+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`#add-alert`)),
		fill(map[string]string{"name": "ops", "kind": "email", "email.to": "ops@example.test", "email.relay.host": "127.0.0.1"}),
		chromedp.Submit(chromedp.CSS(`#add-alert`)), chromedp.WaitVisible(chromedp.CSS(`a[href$="/edit"]`)))
	alertEdit := eval[string](t, ctx, "the alert's edit link", `document.querySelector('a[href$="/edit"]').getAttribute('href')`)
	imap, dev := p.ids["IMAP login"], int64(1)
	for _, page := range []string{
		"/", "/?group=device", "/?state=down", "/devices", fmt.Sprintf("/devices/%d", dev),
		fmt.Sprintf("/devices/%d/monitors/new", dev), fmt.Sprintf("/devices/%d/monitors/new?type=imap-roundtrip", dev),
		fmt.Sprintf("/monitors/%d", imap), fmt.Sprintf("/monitors/%d?period=1h", imap), fmt.Sprintf("/monitors/%d/edit", imap),
		"/reports", fmt.Sprintf("/reports?monitor=%d", imap), "/alerts", alertEdit, "/credentials", "/users", "/password",
		"/monitors/999999", "/status-pages",
	} {
		run(t, ctx, page, chromedp.Navigate(p.url+page), chromedp.WaitVisible(chromedp.CSS(`main`)))
		// Open what folds, so that its contents are checked too.
		run(t, ctx, "unfold", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('details').forEach(d => d.open = true); true`))
		report(page)
	}
}
