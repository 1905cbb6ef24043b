package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// Commands and local paths are the operator's (config/operator.go): a save
// through the API or the web UI that adds, changes or removes one is
// refused with 403, each field named with how to set it instead; an
// unchanged one, as GET showed it, passes.

// operatorOnly is that refusal.
type operatorOnly []config.FieldError

const operatorOnlyMsg = `commands and local paths are set by the operator with "mailmon apply -f" on the host`

func (e operatorOnly) Error() string { return operatorOnlyMsg }

func (e operatorOnly) write(w http.ResponseWriter) {
	out := map[string]string{}
	for _, f := range e {
		out[f.Path] = f.Msg
	}
	writeJSON(w, http.StatusForbidden, map[string]any{"error": operatorOnlyMsg, "fields": out})
}

// IsOperatorOnly reports whether a save failed because it set a field
// only the operator sets (FieldErrors names them).
func IsOperatorOnly(err error) bool {
	var oo operatorOnly
	return errors.As(err, &oo)
}

func operatorErr(fe []config.FieldError) error {
	if len(fe) == 0 {
		return nil
	}
	return operatorOnly(fe)
}

// keepOperatorFields refuses a save of record id (0: a new one) whose
// operator-only fields differ from the stored ones. spec reads the stored
// settings.
func keepOperatorFields[T config.Monitor | config.Alert | config.Credential](ctx context.Context, id int64, next *T,
	spec func(context.Context, int64) ([]byte, error)) error {
	var old *T
	if id != 0 {
		b, err := spec(ctx, id)
		if err != nil {
			return err
		}
		old = new(T)
		if err := json.Unmarshal(b, old); err != nil {
			return err
		}
	}
	return operatorErr(config.OperatorChanges(old, next))
}

func (s *Server) monitorSpec(ctx context.Context, id int64) ([]byte, error) {
	m, err := s.Store.Monitor(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.Spec, nil
}

func (s *Server) alertSpec(ctx context.Context, id int64) ([]byte, error) {
	a, err := s.Store.Alert(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.Spec, nil
}

func (s *Server) credentialSpec(ctx context.Context, id int64) ([]byte, error) {
	c, err := s.Store.Credential(ctx, id)
	if err != nil {
		return nil, err
	}
	return c.Spec, nil
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
	return operatorOnly{{Path: te.Field, Msg: "a secret read from a file or the environment ({file: PATH}, {env: VAR}) is read on the host: " +
		"the operator gives it in the configuration applied with \"mailmon apply -f\" there; the API takes the secret's value as a string"}}
}

// recoveryCredentials are the stored credentials that the monitor's
// recoveries over SSH name, for its validation: an operator's recovery
// sent back unchanged must validate as it did in apply.
func (s *Server) recoveryCredentials(ctx context.Context, m config.Monitor) ([]config.Credential, error) {
	var out []config.Credential
	seen := map[string]bool{}
	for _, r := range m.Recovery {
		if r.Credential == "" || seen[r.Credential] {
			continue
		}
		seen[r.Credential] = true
		c, err := s.Store.CredentialByName(ctx, r.Credential)
		if errors.Is(err, store.ErrNotFound) {
			continue // validation says so
		}
		if err != nil {
			return nil, err
		}
		var cc config.Credential
		if err := json.Unmarshal(c.Spec, &cc); err != nil {
			return nil, err
		}
		cc.Name = c.Name
		out = append(out, cc)
	}
	return out, nil
}
