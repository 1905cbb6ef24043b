package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// options are the values of a select's options in a page.
func options(body, name string) []string {
	sel := regexp.MustCompile(`(?s)<select[^>]*name="` + regexp.QuoteMeta(name) + `"[^>]*>(.*?)</select>`).FindStringSubmatch(body)
	if sel == nil {
		return nil
	}
	var out []string
	for _, m := range regexp.MustCompile(`<option value="([^"]*)"([^>]*)>`).FindAllStringSubmatch(sel[1], -1) {
		v := m[1]
		if strings.Contains(m[2], "selected") {
			v += "*"
		}
		out = append(out, v)
	}
	return out
}

// TestFormDefaults: a new monitor's form offers the auth mechanisms of
// its protocol (USER and APOP for POP3 alone), starts at TLS starttls
// where the type logs in, and a round trip saved with From and To empty
// sends from and to its mailbox's user, as "mailmon check" does.
func TestFormDefaults(t *testing.T) {
	f := newFixture(t, false)
	b := f.loggedIn(t)
	d, _ := f.seed(t, "mail1", "seeded", "")
	form := func(typ string) string {
		code, body := b.get(t, fmt.Sprintf("/devices/%d/monitors/new?type=%s", d.ID, typ))
		if code != http.StatusOK {
			t.Fatalf("%s form: %d", typ, code)
		}
		return body
	}
	smtp, pop3, rt := form("smtp"), form("pop3"), form("imap-roundtrip")
	if got := strings.Join(options(smtp, "auth"), " "); strings.Contains(got, "USER") || strings.Contains(got, "APOP") || !strings.Contains(got, "CRAM-MD5") {
		t.Errorf("smtp auth choices: %s", got)
	}
	if got := strings.Join(options(pop3, "auth"), " "); !strings.Contains(got, "USER") || !strings.Contains(got, "APOP") {
		t.Errorf("pop3 auth choices: %s", got)
	}
	if got := strings.Join(options(rt, "smtp.auth"), " "); strings.Contains(got, "APOP") {
		t.Errorf("a round trip's SMTP auth choices: %s", got)
	}
	for _, c := range []struct{ body, field string }{{smtp, "tls"}, {pop3, "tls"}, {rt, "tls"}, {rt, "smtp.tls"}} {
		if got := options(c.body, c.field); !strings.Contains(strings.Join(got, " "), "starttls*") {
			t.Errorf("%s: %v, want starttls selected", c.field, got)
		}
	}
	if got := options(form("tcp"), "tls"); strings.Contains(strings.Join(got, " "), "starttls*") {
		t.Errorf("tcp's tls: %v, want none (it does not log in)", got)
	}

	code, body, _ := b.post(t, fmt.Sprintf("/devices/%d/monitors/new?type=imap-roundtrip", d.ID), url.Values{
		"name": {"rt"}, "enabled": {"on"}, "tls": {"starttls"}, "port": {"143"}, "user": {"probe@example.com"}, "password": {"pw"},
		"smtp.tls": {"starttls"}, "smtp.port": {"25"}, "from": {""}, "to": {""},
	}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("a round trip without From and To: %d %s", code, errorsIn(body))
	}
	m, err := f.st.MonitorByName(t.Context(), d.ID, "rt")
	if err != nil || !strings.Contains(string(m.Spec), `"from":"probe@example.com"`) || !strings.Contains(string(m.Spec), `"to":"probe@example.com"`) {
		t.Errorf("saved: %s %v", m.Spec, err)
	}
}
