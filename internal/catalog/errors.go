package catalog

import (
	"errors"
	"strings"

	"github.com/mailmon/mailmon/internal/config"
)

// FieldErrors is a save refused for its values, each bad field named (paths
// as the API names them: "port", "timing.up_every", "smtp.tls" …). The API
// answers 400, the web UI shows each beside its field.
type FieldErrors []config.FieldError

func (e FieldErrors) Error() string { return "invalid fields" }

// OperatorOnly is a save refused for adding, changing or removing a
// command or a local path, which only the operator sets (config/operator.go).
// The API answers 403 with OperatorOnlyMsg, the web UI too.
type OperatorOnly []config.FieldError

// OperatorOnlyMsg says why and what to do instead.
const OperatorOnlyMsg = `commands and local paths are set by the operator with "mailmon apply -f" on the host`

func (e OperatorOnly) Error() string { return OperatorOnlyMsg }

// Fields returns the fields a save was refused for, by either refusal, or
// false for another error.
func Fields(err error) ([]config.FieldError, bool) {
	var fe FieldErrors
	if errors.As(err, &fe) {
		return fe, true
	}
	var oo OperatorOnly
	if errors.As(err, &oo) {
		return oo, true
	}
	return nil, false
}

// IsOperatorOnly reports whether a save failed because it set a field only
// the operator sets (Fields names them).
func IsOperatorOnly(err error) bool {
	var oo OperatorOnly
	return errors.As(err, &oo)
}

// fields is a validation's errors as FieldErrors, paths relative to one
// record (prefix cut); nil for none.
func fields(errs []config.FieldError, prefix string) error {
	if len(errs) == 0 {
		return nil
	}
	out := make(FieldErrors, len(errs))
	for i, e := range errs {
		out[i] = config.FieldError{Path: strings.TrimPrefix(e.Path, prefix), Msg: e.Msg}
	}
	return out
}

func operatorErr(fe []config.FieldError) error {
	if len(fe) == 0 {
		return nil
	}
	return OperatorOnly(fe)
}
