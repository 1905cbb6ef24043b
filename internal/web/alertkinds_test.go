package web

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
)

// headerNames are a stored alert's sealed header names.
func headerNames(secrets map[string]string) []string {
	var out []string
	for n := range secrets {
		if h, ok := strings.CutPrefix(n, config.HeaderSecret); ok {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// TestAlertFormHeaders: a templated webhook's headers in the form: names
// shown, values never; a value left empty is kept, a typed one replaces
// it; a header goes only by its remove box (all of them too), never by
// an emptied name; a renamed header needs its value; errors name the
// field as the form does.
func TestAlertFormHeaders(t *testing.T) {
	f := newFixture(t, false)
	ctx := t.Context()
	b := f.loggedIn(t)
	b.get(t, "/alerts")
	base := url.Values{"name": {"tickets"}, "kind": {"webhook"}, "webhook.url": {"http://127.0.0.1:9/tickets"}, "webhook.format": {"template"},
		"webhook.method": {"PUT"}, "webhook.body": {`{"t": {{json .Monitor}}}`}}
	post := func(path string, rows [][3]string, extra url.Values) (int, string) {
		t.Helper()
		v := maps.Clone(base)
		for _, r := range rows { // was, name, value
			v["webhook.headers.was"] = append(v["webhook.headers.was"], r[0])
			v["webhook.headers.name"] = append(v["webhook.headers.name"], r[1])
			v["webhook.headers.value"] = append(v["webhook.headers.value"], r[2])
		}
		for k, x := range extra {
			v[k] = x
		}
		code, body, _ := b.post(t, path, v, nil)
		return code, body
	}
	if code, body := post("/alerts", [][3]string{{"", "Authorization", "Bearer s3cret-one"}, {"", "X-Key", "s3cret-two"}, {"", "", ""}}, nil); code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", code, errorsIn(body))
	}
	a, err := f.st.AlertByName(ctx, "tickets")
	if err != nil {
		t.Fatal(err)
	}
	edit := fmt.Sprintf("/alerts/%d/edit", a.ID)
	sealed := a.Secrets[config.HeaderSecret+"Authorization"]
	_, page := b.get(t, edit)
	if strings.Contains(page, "s3cret") || !strings.Contains(page, `value="Authorization"`) || !strings.Contains(page, `value="X-Key"`) {
		t.Errorf("the edit form shows the values, or not the names:\n%s", page)
	}
	// Kept when left empty; replaced when typed.
	if code, body := post(edit, [][3]string{{"Authorization", "Authorization", ""}, {"X-Key", "X-Key", "s3cret-three"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", code, errorsIn(body))
	}
	a, _ = f.st.Alert(ctx, a.ID)
	if a.Secrets[config.HeaderSecret+"Authorization"] != sealed || !slices.Equal(headerNames(a.Secrets), []string{"Authorization", "X-Key"}) {
		t.Errorf("after an edit that leaves a value empty: %v", a.Secrets)
	}
	// An emptied name is refused, naming the header; a renamed one needs its value.
	for _, c := range []struct {
		rows [][3]string
		want string
	}{
		{[][3]string{{"Authorization", "", ""}, {"X-Key", "X-Key", ""}}, `Headers: the name of header &#34;Authorization&#34; is empty: tick remove`},
		{[][3]string{{"Authorization", "Authorisation", ""}, {"X-Key", "X-Key", ""}}, `header &#34;Authorisation&#34;: is required (a new or renamed header needs its value)`},
		{[][3]string{{"", "", "orphan"}}, `Headers: a header value has no name`},
	} {
		code, body := post(edit, c.rows, nil)
		if code != http.StatusBadRequest || !strings.Contains(errorsIn(body), c.want) || strings.Contains(body, "s3cret") {
			t.Errorf("%v: %d %s, want %q", c.rows, code, errorsIn(body), c.want)
		}
	}
	// Removed by its box; all of them by theirs.
	if code, body := post(edit, [][3]string{{"Authorization", "Authorization", ""}, {"X-Key", "X-Key", ""}}, url.Values{"webhook.headers.remove": {"X-Key"}}); code != http.StatusSeeOther {
		t.Fatalf("remove one: %d %s", code, errorsIn(body))
	}
	if a, _ = f.st.Alert(ctx, a.ID); !slices.Equal(headerNames(a.Secrets), []string{"Authorization"}) {
		t.Errorf("after removing X-Key: %v", headerNames(a.Secrets))
	}
	if code, body := post(edit, [][3]string{{"Authorization", "Authorization", ""}, {"", "", ""}}, url.Values{"webhook.headers.remove": {"Authorization"}}); code != http.StatusSeeOther {
		t.Fatalf("remove all: %d %s", code, errorsIn(body))
	}
	if a, _ = f.st.Alert(ctx, a.ID); len(headerNames(a.Secrets)) != 0 || a.Secrets["webhook.url"] == "" {
		t.Errorf("after removing every header: %v", a.Secrets)
	}
}

// TestAlertFormErrorsInItsWords: the alert form's refusals name the field
// by its label, beside it; a key the edit must send again says why.
func TestAlertFormErrorsInItsWords(t *testing.T) {
	f := newFixture(t, false)
	ctx := t.Context()
	b := f.loggedIn(t)
	b.get(t, "/alerts")
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"kind": {"pagerduty"}, "pagerduty.routing_key": {"short"}}, "Routing key: is not a routing key (32 characters"},
		{url.Values{"kind": {"opsgenie"}, "opsgenie.api_key": {"k"}, "opsgenie.url": {"ftp://x"}}, "API URL: is not an http(s) URL"},
		{url.Values{"kind": {"alertmanager"}}, "Alertmanager URL: is required"},
		{url.Values{"kind": {"email"}, "email.to": {"a@example.test"}, "email.relay.host": {"127.0.0.1"}, "email.relay.port": {"x"}}, "Relay port: is a whole number"},
		{url.Values{"kind": {"webhook"}, "webhook.url": {"http://127.0.0.1:9/x"}, "webhook.format": {"generic"}, "webhook.body": {"{}"}}, "Body template: is only sent with the format template"},
		{url.Values{"kind": {"pigeon"}}, "Kind: pick one of webhook, email, command, alertmanager, pagerduty, opsgenie"},
	} {
		c.form.Set("name", "x")
		code, body, _ := b.post(t, "/alerts", c.form, nil)
		if code != http.StatusBadRequest || !strings.Contains(errorsIn(body), c.want) {
			t.Errorf("%v: %d %s, want %q", c.form, code, errorsIn(body), c.want)
		}
	}
	key := strings.Repeat("k", 32)
	if code, body, _ := b.post(t, "/alerts", url.Values{"name": {"pd"}, "kind": {"pagerduty"}, "pagerduty.routing_key": {key}, "pagerduty.url": {"http://127.0.0.1:9/a"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", code, errorsIn(body))
	}
	a, _ := f.st.AlertByName(ctx, "pd")
	code, body, _ := b.post(t, fmt.Sprintf("/alerts/%d/edit", a.ID), url.Values{"name": {"pd"}, "kind": {"pagerduty"}, "pagerduty.url": {"http://127.0.0.1:9/b"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(errorsIn(body), "Routing key: is required: the change sends it elsewhere") {
		t.Errorf("a new URL without the key: %d %s", code, errorsIn(body))
	}
}
