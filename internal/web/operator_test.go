package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/testutil/operator"
)

// webWriteTakes says what each UI route that writes takes: a monitor's,
// an alert's or a credential's form, or something that holds no command
// or path (why). A route that writes and is missing here fails
// TestEveryFormRefusesCommandsAndPaths: say what it takes.
var webWriteTakes = map[string]string{
	"POST /login":                         "-a user's name and password",
	"POST /logout":                        "-nothing",
	"POST /ack/{token}":                   "-an acknowledgement's comment",
	"POST /password":                      "-a user's passwords",
	"POST /devices":                       "-a device's name and address, nothing else is read",
	"POST /devices/{id}":                  "-a device's name and address, nothing else is read",
	"POST /devices/{id}/delete":           "-deletes",
	"POST /devices/{id}/monitors/new":     "monitor",
	"POST /monitors/{id}/edit":            "monitor",
	"POST /monitors/{id}/delete":          "-deletes",
	"POST /monitors/{id}/test":            "-tests the stored monitor",
	"POST /monitors/{id}/ack":             "-a comment only: acknowledges the outage",
	"POST /monitors/{id}/maintenance":     "-a duration only: begins maintenance",
	"POST /monitors/{id}/maintenance/end": "-ends maintenance",
	"POST /devices/{id}/maintenance":      "-a duration only: begins maintenance",
	"POST /devices/{id}/maintenance/end":  "-ends maintenance",
	"POST /alerts":                        "alert",
	"POST /alerts/{id}/edit":              "alert",
	"POST /alerts/{id}/delete":            "-deletes",
	"POST /alerts/{id}/test":              "-sends a test alert through the stored alert",
	"POST /credentials":                   "credential",
	"POST /credentials/{id}/delete":       "-deletes",
	"POST /users":                         "-a user's name and password",
	"POST /users/{id}/delete":             "-deletes",
	"POST /users/{id}/role":               "-a role's name",
	"POST /tokens":                        "-a token's name, scopes and lifetime",
	"POST /tokens/{id}/delete":            "-deletes",
	"POST /login/code":                    "-a login's second factor",
	"POST /2fa":                           "-a second factor's secret and code",
}

// TestEveryFormRefusesCommandsAndPaths walks the UI's route table: every
// form that saves a monitor, an alert or a credential, posted with each
// field that runs a program or names a file (from the configuration
// types' tags), is refused, and nothing is stored.
func TestEveryFormRefusesCommandsAndPaths(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	b := f.loggedIn(t)
	d, _ := f.saveDevice(ctx, 0, "mail1", "127.0.0.1")
	rtForm := func() url.Values {
		return url.Values{"name": {"rt"}, "enabled": {"on"}, "port": {"993"}, "tls": {"implicit"}, "user": {"u"}, "password": {"pw"},
			"from": {"a@example.test"}, "to": {"u@example.test"}, "smtp.port": {"587"}, "smtp.tls": {"starttls"}}
	}
	pw := "pw"
	m, err := f.saveMonitor(ctx, 0, catalog.Monitor{Device: d.ID, Password: &pw, Settings: config.Monitor{Name: "rt", Type: "imap-roundtrip",
		Port: 993, TLS: "implicit", User: "u", From: "a@example.test", To: "u@example.test", SMTP: &config.Leg{Port: 587, TLS: "starttls"}}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.saveAlert(ctx, 0, config.Alert{Name: "ops", Webhook: &config.Webhook{URL: config.SecretRef{Value: "https://hooks.example.test/x"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	host := operator.HostKey(t)
	forms := map[string]func() url.Values{
		"monitor": rtForm,
		"alert": func() url.Values {
			return url.Values{"name": {"ops"}, "kind": {"webhook"}, "webhook.url": {"https://hooks.example.test/x"}}
		},
		"credential": func() url.Values {
			return url.Values{"name": {"ops"}, "user": {"root"}, "known_host": {host}, "password": {"pw"}}
		},
	}
	types := map[string]reflect.Type{"monitor": reflect.TypeFor[config.Monitor](), "alert": reflect.TypeFor[config.Alert](),
		"credential": reflect.TypeFor[config.Credential]()}
	paths := map[string]string{
		"POST /devices/{id}/monitors/new": fmt.Sprintf("/devices/%d/monitors/new?type=imap-roundtrip", d.ID),
		"POST /monitors/{id}/edit":        fmt.Sprintf("/monitors/%d/edit", m.ID),
		"POST /alerts":                    "/alerts",
		"POST /alerts/{id}/edit":          fmt.Sprintf("/alerts/%d/edit", a.ID),
		"POST /credentials":               "/credentials",
	}
	b.get(t, "/alerts")
	before := operator.Snapshot(t, f.st)
	tried := 0
	for _, rt := range f.web.Routes() {
		if rt.Method == "GET" {
			continue
		}
		key := rt.Method + " " + rt.Path
		kind, ok := webWriteTakes[key]
		if !ok {
			t.Errorf("%s writes: say in webWriteTakes what it takes, so that it is tried with every command and path", key)
			continue
		}
		if strings.HasPrefix(kind, "-") {
			continue
		}
		type field struct {
			key, path string
			extra     url.Values
			operator  bool
		}
		var fields []field
		for _, of := range config.OperatorFields(types[kind]) {
			v := "/etc/shadow"
			if of.Kind == config.OperatorCommand {
				v = "/bin/sh -c id"
			}
			fl := field{of.Path, of.Path, url.Values{of.Path: {v}}, true}
			switch of.Path { // the alert form's kind goes with its fields
			case "command":
				fl.extra.Set("kind", "command")
			case "email.relay.ca":
				fl.extra.Set("kind", "email")
				fl.extra.Set("email.to", "oncall@example.test")
				fl.extra.Set("email.relay.host", "smtp.example.test")
			}
			fields = append(fields, fl)
			if of.Path == "command" { // the old form's field, and the kind alone
				fields = append(fields, field{"command.argv", "command", url.Values{"kind": {"command"}, "command.argv": {v}}, true},
					field{"kind=command", "command", url.Values{"kind": {"command"}}, true})
			}
		}
		if kind == "credential" { // a key is PEM text, never a file to read
			fields = append(fields, field{"key", "key", url.Values{"key": {"/root/.ssh/id_ed25519"}}, false})
		}
		for _, fl := range fields {
			form := forms[kind]()
			for k, v := range fl.extra {
				form[k] = v
			}
			tried++
			code, body, _ := b.post(t, paths[key], form, nil)
			switch {
			case fl.operator && code != http.StatusForbidden:
				t.Errorf("%s with %s: %d %s, want 403", key, fl.key, code, errorsIn(body))
			case fl.operator && (!strings.Contains(body, fl.path+": ") || !strings.Contains(body, "mailmon apply -f")):
				t.Errorf("%s with %s: the page does not name %s and say how to set it: %s", key, fl.key, fl.path, errorsIn(body))
			case code == http.StatusSeeOther:
				t.Errorf("%s with %s: accepted", key, fl.key)
			}
			if now := operator.Snapshot(t, f.st); now != before {
				t.Fatalf("%s with %s: something was stored:\nbefore %s\nafter  %s", key, fl.key, before, now)
			}
		}
	}
	if tried == 0 {
		t.Fatal("no form was tried")
	}
}

// TestFormKeepsOperatorCommandAlert: a command alert set up with apply is
// shown read-only, may be renamed, and keeps its command; the form cannot
// change it, turn it into another kind or make a new one.
func TestFormKeepsOperatorCommandAlert(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	operator.Apply(t, f.st, f.api.Vault, `
alerts:
  - name: page
    command: {argv: [/usr/local/bin/page, --urgent], timeout: 5s}
`)
	a, _ := f.st.AlertByName(ctx, "page")
	stored := string(a.Spec)
	b := f.loggedIn(t)
	_, page := b.get(t, fmt.Sprintf("/alerts/%d/edit", a.ID))
	if !strings.Contains(page, `<pre class="readonly" id="ro-command">/usr/local/bin/page --urgent</pre>`) || strings.Contains(page, `name="command.argv"`) ||
		strings.Contains(page, "<option>webhook</option>") {
		t.Errorf("the edit form of a command alert: %s", page)
	}
	if _, page := b.get(t, "/alerts"); strings.Contains(page, "<option>command</option>") {
		t.Error("the new alert form offers the command kind")
	}
	edit := fmt.Sprintf("/alerts/%d/edit", a.ID)
	if code, body, _ := b.post(t, edit, url.Values{"name": {"pager"}, "kind": {"command"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("rename: %d %s", code, errorsIn(body))
	}
	a, _ = f.st.AlertByName(ctx, "pager")
	var spec config.Alert
	json.Unmarshal(a.Spec, &spec)
	if spec.Command == nil || strings.Join(spec.Command.Argv, " ") != "/usr/local/bin/page --urgent" || spec.Command.Timeout.D().Seconds() != 5 {
		t.Fatalf("after a rename: %s (was %s)", a.Spec, stored)
	}
	stored = string(a.Spec)
	for _, form := range []url.Values{
		{"name": {"pager"}, "kind": {"command"}, "command.argv": {"/bin/sh -c id"}},
		{"name": {"pager"}, "kind": {"webhook"}, "webhook.url": {"https://hooks.example.test/x"}},
	} {
		if code, body, _ := b.post(t, edit, form, nil); code != http.StatusForbidden || !strings.Contains(body, "command: ") {
			t.Errorf("%v: %d %s", form, code, errorsIn(body))
		}
		if now, _ := f.st.Alert(ctx, a.ID); string(now.Spec) != stored {
			t.Errorf("%v: stored %s", form, now.Spec)
		}
	}
	// The unchanged command, posted as the old form did, passes.
	if code, body, _ := b.post(t, edit, url.Values{"name": {"pager"}, "kind": {"command"}, "command.argv": {"/usr/local/bin/page   --urgent"}}, nil); code != http.StatusSeeOther {
		t.Errorf("the unchanged command: %d %s", code, errorsIn(body))
	}
}
