package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// TestNamesRefuseHiddenCharacters: the forms refuse a name holding a
// control or text-direction character; a name stored before that rule is
// shown in the page's title with U+FFFD in its place.
func TestNamesRefuseHiddenCharacters(t *testing.T) {
	f := newFixture(t, false)
	b := f.loggedIn(t)
	b.get(t, "/users")
	code, body, _ := b.post(t, "/users", url.Values{"name": {"eve\u202enimda"}, "password": {"eve's password"}, "again": {"eve's password"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), "character 4 of the name is U+202E") {
		t.Errorf("user: %d %s", code, errorsIn(body))
	}
	b.get(t, "/devices")
	code, body, _ = b.post(t, "/devices", url.Values{"name": {"mail\x1b[2J"}, "address": {"127.0.0.1"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), "character 5 of the name is U+001B") {
		t.Errorf("device: %d %s", code, errorsIn(body))
	}

	ctx := context.Background()
	d := &store.Device{Name: "legacy", Address: "127.0.0.1"}
	if err := f.st.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	m := &store.Monitor{DeviceID: d.ID, Name: "gpj\u202eexe.txt", Type: "tcp", Enabled: true, Spec: []byte(`{"port":25}`)}
	if err := f.st.PutMonitor(ctx, m); err != nil {
		t.Fatal(err)
	}
	_, body = b.get(t, fmt.Sprintf("/monitors/%d", m.ID))
	title := regexp.MustCompile(`<title>(.*)</title>`).FindStringSubmatch(body)
	if title == nil || title[1] != "gpj\uFFFDexe.txt · mailmon" {
		t.Errorf("title %q", title)
	}
}
