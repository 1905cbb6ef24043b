package catalog

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// Commands and local paths are the operator's (config/operator.go): a save
// from the network that adds, changes or removes one is refused
// (OperatorOnly), each field named with how to set it instead; an
// unchanged one, as it was read, passes.

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

func (c *Catalog) monitorSpec(ctx context.Context, id int64) ([]byte, error) {
	m, err := c.Store.Monitor(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.Spec, nil
}

func (c *Catalog) alertSpec(ctx context.Context, id int64) ([]byte, error) {
	a, err := c.Store.Alert(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.Spec, nil
}

func (c *Catalog) credentialSpec(ctx context.Context, id int64) ([]byte, error) {
	cr, err := c.Store.Credential(ctx, id)
	if err != nil {
		return nil, err
	}
	return cr.Spec, nil
}

// recoveryCredentials are the stored credentials that the monitor's
// recoveries over SSH name, for its validation: an operator's recovery
// sent back unchanged must validate as it did in apply.
func (c *Catalog) recoveryCredentials(ctx context.Context, m config.Monitor) ([]config.Credential, error) {
	var out []config.Credential
	seen := map[string]bool{}
	for _, r := range m.Recovery {
		if r.Credential == "" || seen[r.Credential] {
			continue
		}
		seen[r.Credential] = true
		cr, err := c.Store.CredentialByName(ctx, r.Credential)
		if errors.Is(err, store.ErrNotFound) {
			continue // validation says so
		}
		if err != nil {
			return nil, err
		}
		var cc config.Credential
		if err := json.Unmarshal(cr.Spec, &cc); err != nil {
			return nil, err
		}
		cc.Name = cr.Name
		out = append(out, cc)
	}
	return out, nil
}
