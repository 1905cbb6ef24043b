package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
)

// Commands and local paths are the operator's (config/operator.go): a save
// through the API that adds, changes or removes one is refused by the
// catalog (catalog/operator.go) and answered 403, each field named with
// how to set it instead; an unchanged one, as GET showed it, passes.

func writeOperatorOnly(w http.ResponseWriter, e catalog.OperatorOnly) {
	out := map[string]string{}
	for _, f := range e {
		out[f.Path] = f.Msg
	}
	writeJSON(w, http.StatusForbidden, map[string]any{"error": catalog.OperatorOnlyMsg, "fields": out})
}

// secretInputs are the JSON names of the write-only secrets the API takes
// (password, smtp_password, relay_password, key): values, never a file.
var secretInputs = func() map[string]bool {
	out := map[string]bool{}
	for _, v := range []any{monitorIn{}, alertIn{}, credentialIn{}} {
		t := reflect.TypeOf(v)
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.Type == reflect.TypeFor[*string]() {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				out[name] = true
			}
		}
	}
	return out
}()

// secretFromFile turns the decoding error of a secret given as an object
// ({file: PATH} or {env: VAR}, the YAML's forms) into the refusal: those
// are read on the host by apply; the API takes the value itself.
func secretFromFile(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Value != "object" || !secretInputs[te.Field] {
		return nil
	}
	return catalog.OperatorOnly{{Path: te.Field, Msg: "a secret read from a file or the environment ({file: PATH}, {env: VAR}) is read on the host: " +
		"the operator gives it in the configuration applied with \"mailmon apply -f\" there; the API takes the secret's value as a string"}}
}
