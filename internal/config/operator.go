package config

import (
	"encoding/json"
	"reflect"
	"strings"
)

// Commands and local paths are the operator's. A field tagged
// operator:"command" runs a program on the mailmon host (an alert's
// command, a monitor's recovery actions, its OAuth token command); one
// tagged operator:"path" names a file there (a CA file, an OAuth token
// file). Only the configuration applied on the host ("mailmon apply -f",
// which needs the database and its key) sets them. The JSON API and the
// web UI show them and may send them back unchanged, never add, change or
// remove one: a bearer token or a UI login is not a shell on the host.
// Secrets given as {file: PATH} are the operator's too: Secret fields are
// never read from JSON at all (json:"-"), the API takes a secret's value.

// Operator-only kinds, the values of the operator tag.
const (
	OperatorCommand = "command"
	OperatorPath    = "path"
)

// OperatorField is a field only the operator sets, by its path as the API
// and the YAML name it ("recovery", "smtp.ca", "email.relay.ca").
type OperatorField struct {
	Path  string
	Kind  string        // OperatorCommand or OperatorPath
	Type  reflect.Type  // the field's Go type
	Value reflect.Value // in OperatorValues; the zero Value when a pointer on the way is nil
}

// OperatorFields lists the operator-only fields of a configuration type
// (Monitor, Alert, Credential), found by their tags: a new tagged field
// is covered everywhere this list is used.
func OperatorFields(t reflect.Type) []OperatorField {
	var out []OperatorField
	walkOperator(t, reflect.Value{}, "", &out)
	return out
}

// OperatorValues is OperatorFields with each field's value in v (a
// pointer to, or a value of, a configuration type).
func OperatorValues(v any) []OperatorField {
	rv := reflect.ValueOf(v)
	var out []OperatorField
	walkOperator(rv.Type(), rv, "", &out)
	return out
}

func walkOperator(t reflect.Type, v reflect.Value, prefix string, out *[]OperatorField) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
		if v.IsValid() {
			if v.IsNil() {
				v = reflect.Value{}
			} else {
				v = v.Elem()
			}
		}
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		var fv reflect.Value
		if v.IsValid() {
			fv = v.Field(i)
		}
		if kind := f.Tag.Get("operator"); kind != "" {
			*out = append(*out, OperatorField{Path: prefix + name, Kind: kind, Type: f.Type, Value: fv})
			continue
		}
		walkOperator(f.Type, fv, prefix+name+".", out)
	}
}

// OperatorChanges returns, for a save that does not come from the
// operator (the API, the web UI), the operator-only fields whose value in
// next differs from old (nil: a new object, where any value is an
// addition). An unchanged value is no change: a GET → edit → PUT round
// trip keeps working. Each is a FieldError saying how to set it instead.
func OperatorChanges[T Monitor | Alert | Credential](old, next *T) []FieldError {
	if old == nil {
		old = new(T)
	}
	was := OperatorValues(old)
	var out []FieldError
	for i, f := range OperatorValues(next) {
		if !sameValue(was[i].Value, f.Value) {
			out = append(out, OperatorError(f.Path, f.Kind))
		}
	}
	return out
}

// OperatorError is the error of a network save that sets the operator-only
// field path: what it does and how to set it instead.
func OperatorError(path, kind string) FieldError {
	does := "names a file on the mailmon host"
	if kind == OperatorCommand {
		does = "runs a program on the mailmon host"
	}
	return FieldError{Path: path, Msg: does + ": only the host's operator sets it, in the configuration applied there with " +
		"\"mailmon apply -f\"; the API and the web UI keep it as it is (send back what GET shows), never add, change or remove it"}
}

// sameValue compares two values as the API would send them: nil, empty
// and zero are alike (an omitted field), a present empty object is not.
func sameValue(a, b reflect.Value) bool {
	return reflect.DeepEqual(normalJSON(a), normalJSON(b))
}

func normalJSON(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return err.Error() // never equal to a value that marshals
	}
	var x any
	json.Unmarshal(b, &x)
	return dropEmpty(x)
}

func dropEmpty(x any) any {
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			if v = dropEmpty(v); v == nil {
				delete(t, k)
			} else {
				t[k] = v
			}
		}
		return t
	case []any:
		if len(t) == 0 {
			return nil
		}
		for i := range t {
			t[i] = dropEmpty(t[i])
		}
		return t
	case string:
		if t == "" {
			return nil
		}
	case bool:
		if !t {
			return nil
		}
	case float64:
		if t == 0 {
			return nil
		}
	}
	return x
}
