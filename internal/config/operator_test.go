package config

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// looksLikeCommandOrPath are names of fields that may run a program or
// name a file on the host.
var looksLikeCommandOrPath = regexp.MustCompile(`(?i)(file|path|dir|command|cmd|argv|exec|script|program|socket|plugin|^ca$|cert|key)`)

// notCommandsOrPaths are fields whose names look like one but are not,
// each with why.
var notCommandsOrPaths = map[string]string{
	"cert_warn_days": "a number of days",
	"known_host":     "a public host key, given inline",
	"description":    "a status page's text, shown as text",
}

// TestOperatorFieldsTagged: every field of the configuration that looks
// like a command or a path is tagged operator (or sits under a tagged
// one), so that the API, the web UI and their route-table tests cover it;
// and every secret is out of JSON, so {file: PATH} never comes from the
// network.
func TestOperatorFieldsTagged(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string, tagged bool)
	walk = func(typ reflect.Type, path string, tagged bool) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] && !tagged {
			return
		}
		seen[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type == reflect.TypeFor[SecretRef]() || f.Type == reflect.TypeFor[SecretHeaders]() {
				// A secret the API takes (a webhook's URL) is a literal
				// string only: Secret.UnmarshalJSON refuses {file: PATH}
				// and {env: VAR}, the operator's forms (checked below).
				continue
			}
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			op := f.Tag.Get("operator")
			if op != "" && op != OperatorCommand && op != OperatorPath {
				t.Errorf("%s%s: operator:%q is neither %q nor %q", path, name, op, OperatorCommand, OperatorPath)
			}
			if !tagged && op == "" && (looksLikeCommandOrPath.MatchString(name) || looksLikeCommandOrPath.MatchString(f.Name)) && notCommandsOrPaths[name] == "" {
				t.Errorf("%s%s looks like a command or a path: tag it operator:\"command\" or operator:\"path\" (config/operator.go), "+
					"or say in notCommandsOrPaths why it is neither", path, name)
			}
			walk(f.Type, path+name+".", tagged || op != "")
		}
	}
	walk(reflect.TypeFor[File](), "", false)
	for _, in := range []string{`{"file":"/etc/shadow"}`, `{"env":"MAILMON_SECRET_KEY"}`, `{"File":"/etc/shadow"}`} {
		var s SecretRef
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("a secret from JSON took %s: %+v; only a literal string may come over the network", in, s)
		}
	}

	var paths []string
	for _, typ := range []reflect.Type{reflect.TypeFor[Monitor](), reflect.TypeFor[Alert]()} {
		for _, f := range OperatorFields(typ) {
			paths = append(paths, f.Path)
		}
	}
	want := "oauth_token_file oauth_token_command ca smtp.ca recovery email.relay.ca command"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("operator fields: %s, want %s", got, want)
	}
}

func TestOperatorChanges(t *testing.T) {
	recovery := []Recovery{{Command: []string{"/usr/local/bin/restart"}, Timeout: Duration(30e9)}}
	for _, tc := range []struct {
		name      string
		old, next *Monitor
		want      string
	}{
		{"new, without", nil, &Monitor{Name: "m", Port: 25}, ""},
		{"new, with a recovery", nil, &Monitor{Recovery: recovery}, "recovery"},
		{"new, with an empty recovery list", nil, &Monitor{Recovery: []Recovery{}}, ""},
		{"new, with a CA and an SMTP CA", nil, &Monitor{CA: "/etc/ssl/ca.pem", SMTP: &Leg{CA: "/x"}}, "ca smtp.ca"},
		{"new, with an SMTP leg", nil, &Monitor{SMTP: &Leg{Port: 587}}, ""},
		{"unchanged", &Monitor{Recovery: recovery, CA: "/a"}, &Monitor{Name: "renamed", Recovery: recovery, CA: "/a"}, ""},
		{"timeout changed", &Monitor{Recovery: recovery}, &Monitor{Recovery: []Recovery{{Command: recovery[0].Command}}}, "recovery"},
		{"removed", &Monitor{Recovery: recovery, OAuthTokenCommand: []string{"tok"}}, &Monitor{}, "oauth_token_command recovery"},
		{"SMTP leg dropped with its CA", &Monitor{SMTP: &Leg{CA: "/a"}}, &Monitor{}, "smtp.ca"},
	} {
		var got []string
		for _, e := range OperatorChanges(tc.old, tc.next) {
			got = append(got, e.Path)
			if !strings.Contains(e.Msg, "mailmon apply -f") {
				t.Errorf("%s: %s does not say how to set it: %s", tc.name, e.Path, e.Msg)
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, got, tc.want)
		}
	}
	// An alert: a command (even an empty one) is the operator's.
	if got := OperatorChanges(nil, &Alert{Command: &Command{}}); len(got) != 1 || got[0].Path != "command" {
		t.Errorf("new command alert: %v", got)
	}
	if got := OperatorChanges(&Alert{Command: &Command{Argv: []string{"x"}}}, &Alert{Name: "y", Command: &Command{Argv: []string{"x"}}}); len(got) != 0 {
		t.Errorf("renamed command alert: %v", got)
	}
}
