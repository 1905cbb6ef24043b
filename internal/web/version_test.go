package web

import (
	"html/template"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/version"
)

// Every page's footer names the running version: the login page and the
// board after it.
func TestFooterShowsTheVersion(t *testing.T) {
	f := newFixture(t, false)
	want := `<footer class="foot">mailmon ` + template.HTMLEscapeString(version.String()) + `</footer>`
	b := f.browser(t)
	if _, body := b.get(t, "/login"); !strings.Contains(body, want) {
		t.Errorf("login page has no %s", want)
	}
	if _, body := f.loggedIn(t).get(t, "/"); !strings.Contains(body, want) {
		t.Errorf("board has no %s", want)
	}
}
