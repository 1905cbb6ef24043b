package catalog

import (
	"encoding/json"

	"github.com/mailmon/mailmon/internal/vault"
)

// secrets are a record's secrets in the clear, by name.
type secrets map[string]string

// seal stores the given secrets in sealed (name → sealed value), each
// sealed under record(name), re-sealing only those whose value changed, so
// that saving the same secret twice changes nothing. It says whether
// anything changed.
func seal(v *vault.Vault, sealed map[string]string, clear secrets, record func(string) string) (bool, error) {
	changed := false
	for name, val := range clear {
		if old, ok := sealed[name]; ok {
			if pt, err := v.Open(old, record(name)); err == nil && string(pt) == val {
				continue
			}
		}
		s, err := v.Seal([]byte(val), record(name))
		if err != nil {
			return false, err
		}
		sealed[name] = s
		changed = true
	}
	return changed, nil
}

// writeOnly turns write-only inputs (nil: keep the stored one, "": remove it)
// into the values to seal, removing from sealed those cleared.
func writeOnly(sealed map[string]string, in map[string]*string) secrets {
	out := secrets{}
	for name, v := range in {
		switch {
		case v == nil:
		case *v == "":
			delete(sealed, name)
		default:
			out[name] = *v
		}
	}
	return out
}

// sent reports whether a write-only field holds a new value.
func sent(v *string) bool { return v != nil && *v != "" }

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
