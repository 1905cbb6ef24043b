package web

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"

	"github.com/mailmon/mailmon/internal/config"
)

// Commands and local paths (CA files, OAuth token files and commands,
// recovery actions, command alerts) are the operator's: the forms show an
// object's as text, never as a field, and keep them as stored. A post that
// carries one anyway (a crafted request, an old page) is refused unless it
// says what is stored.

// operatorTexts are an object's operator-only values as the forms show
// them, by field path; unset ones are left out.
func operatorTexts(v any) map[string]string {
	out := map[string]string{}
	for _, f := range config.OperatorValues(v) {
		if t := operatorText(f.Value); t != "" {
			out[f.Path] = t
		}
	}
	return out
}

func operatorText(v reflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	switch x := v.Interface().(type) {
	case string:
		return x
	case []string:
		return strings.Join(x, " ")
	case []config.Recovery:
		return recoveryText(x)
	case *config.Command:
		if x == nil {
			return ""
		}
		return strings.Join(x.Argv, " ")
	}
	if v.IsZero() {
		return ""
	}
	b, _ := json.Marshal(v.Interface())
	return string(b)
}

// recoveryText writes recovery actions one per line, as the form showed
// them: "program args" or "ssh USER@HOST CREDENTIAL program args".
func recoveryText(rs []config.Recovery) string {
	var lines []string
	for _, r := range rs {
		line := strings.Join(r.Command, " ")
		if r.SSH != "" {
			line = "ssh " + r.SSH + " " + r.Credential + " " + line
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// postedOperatorFields are the operator-only fields of stored (the object
// as stored; its zero value for a new one) that a post sets to something
// else: a key that is the field's path or under it (command.argv).
func postedOperatorFields(form url.Values, stored any) []config.FieldError {
	var out []config.FieldError
	for _, f := range config.OperatorValues(stored) {
		have := words(operatorText(f.Value))
		for k, vs := range form {
			if k != f.Path && !strings.HasPrefix(k, f.Path+".") && !strings.HasPrefix(k, f.Path+"[") {
				continue
			}
			if len(vs) != 1 || words(vs[0]) != have {
				out = append(out, config.OperatorError(f.Path, f.Kind))
				break
			}
		}
	}
	return out
}

func words(s string) string { return strings.Join(strings.Fields(s), " ") }
