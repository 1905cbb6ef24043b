package catalog

import (
	"context"
	"encoding/json"
	"maps"
	"slices"

	"github.com/mailmon/mailmon/internal/store"
)

// snapshot is what the audit log compares of a record before and after a
// change: its settings, flattened to the names the API uses ("port",
// "smtp.tls"), and its secrets, sealed, which are only compared: an entry
// says a secret "changed", never what it is. Settings hold no secret (the
// secrets are sealed apart, and config.SecretRef never marshals).
type snapshot struct {
	fields  map[string]string
	secrets map[string]string
}

// snap is the snapshot of a record's settings (JSON), secrets and any
// columns of its own (a device's address).
func snap(spec []byte, secrets map[string]string, columns map[string]string) snapshot {
	s := snapshot{fields: map[string]string{}, secrets: maps.Clone(secrets)}
	var v any
	if len(spec) > 0 && json.Unmarshal(spec, &v) == nil {
		flatten("", v, s.fields)
	}
	maps.Copy(s.fields, columns)
	return s
}

func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for k, e := range x {
			if prefix != "" {
				k = prefix + "." + k
			}
			flatten(k, e, out)
		}
	case string:
		out[prefix] = x
	default: // numbers, booleans and lists, as JSON
		b, _ := json.Marshal(x)
		out[prefix] = string(b)
	}
}

// changes lists what differs, fields by name, then secrets.
func changes(before, after snapshot) []store.AuditChange {
	var out []store.AuditChange
	for _, k := range slices.Sorted(maps.Keys(union(before.fields, after.fields))) {
		if b, a := before.fields[k], after.fields[k]; b != a {
			out = append(out, store.AuditChange{Field: k, Before: b, After: a})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(union(before.secrets, after.secrets))) {
		if before.secrets[k] != after.secrets[k] {
			out = append(out, store.AuditChange{Field: k, After: "changed"})
		}
	}
	return out
}

func union(a, b map[string]string) map[string]string {
	u := maps.Clone(a)
	if u == nil {
		u = map[string]string{}
	}
	maps.Copy(u, b)
	return u
}

// audit writes the entry of one change through tx: in the change's own
// transaction, so that one is never kept without the other. An unchanged
// record writes none.
func audit(ctx context.Context, tx store.Config, o Origin, ch Change, before, after snapshot) error {
	if ch.Action == "unchanged" {
		return nil
	}
	return tx.AddAudit(ctx, &store.AuditEntry{ActorKind: o.Actor.Kind, Actor: o.Actor.Name, Address: o.Actor.Address,
		Kind: ch.Kind, ObjectID: ch.ID, Name: ch.Name, Action: ch.Action, Changes: changes(before, after)})
}

func deviceSnap(d *store.Device) snapshot {
	if d == nil {
		return snapshot{}
	}
	return snap(nil, nil, map[string]string{"name": d.Name, "address": d.Address, "maintenance": string(d.Maintenance)})
}

func monitorSnap(m *store.Monitor, device string) snapshot {
	if m == nil {
		return snapshot{}
	}
	return snap(m.Spec, m.Secrets, map[string]string{"device": device})
}
