package catalog

import (
	"context"
	"encoding/json"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Alert is an alert definition to save: the settings of the YAML (webhook,
// email or command; a webhook's URL in the clear, "" to keep the stored
// one) and the relay's password, write-only (nil: keep, "": remove).
type Alert struct {
	Settings      config.Alert
	RelayPassword *string
}

// SaveAlert creates (id 0) or replaces an alert definition.
func (c *Catalog) SaveAlert(ctx context.Context, o Origin, id int64, in Alert) (*store.Alert, Result, error) {
	if err := o.Actor.mayWrite("alert"); err != nil {
		return nil, Result{}, err
	}
	if o.fromNetwork() {
		if err := keepOperatorFields(ctx, id, &in.Settings, c.alertSpec); err != nil {
			return nil, Result{}, err
		}
	}
	f := config.File{Alerts: append([]config.Alert{in.Settings}, escalationStubs(in.Settings.Escalate, in.Settings.Name)...)}
	if err := fields(onlyUnder(f.Validate(), "alerts[0]."), "alerts[0]."); err != nil {
		return nil, Result{}, err
	}
	if bad, err := c.checkEscalation(ctx, in.Settings.Escalate, "escalate", in.Settings.Name); err != nil {
		return nil, Result{}, err
	} else if len(bad) > 0 {
		return nil, Result{}, bad
	}
	for _, f := range in.Settings.SealedFields() {
		if id == 0 && f.Ref.Value == "" {
			return nil, Result{}, FieldErrors{{Path: f.Name, Msg: "is required"}}
		}
	}
	network := false
	if o.fromNetwork() {
		var err error
		if network, err = c.alertTarget(ctx, id, in.Settings); err != nil {
			return nil, Result{}, err
		}
	}
	spec, err := json.Marshal(in.Settings) // never the URL: it is sealed
	if err != nil {
		return nil, Result{}, err
	}
	var a *store.Alert
	var dropped []string
	var ch Change
	err = c.batch(ctx, func(tx store.Config) error {
		var before snapshot
		a = &store.Alert{ID: id, Name: in.Settings.Name, Kind: in.Settings.Kind(), Spec: spec, Secrets: map[string]string{}, NetworkTarget: network}
		dropped = nil
		if id != 0 {
			old, err := tx.Alert(ctx, id)
			if err != nil {
				return err
			}
			before = snap(old.Spec, old.Secrets, nil)
			a.Secrets = old.Secrets
			if o.fromNetwork() {
				if dropped, err = unbindAlert(old, in.Settings, in.RelayPassword); err != nil {
					return err
				}
				dropped = append(dropped, c.unbindHeaders(old, in.Settings)...)
			}
		} else if err := tx.PutAlert(ctx, a); err != nil { // its ID first: secrets are sealed under it
			return err
		}
		relay := writeOnly(a.Secrets, map[string]*string{"relay.password": in.RelayPassword})
		if _, err := seal(c.Vault, a.Secrets, relay, func(n string) string { return vault.AlertRecord(a.ID, n) }); err != nil {
			return err
		}
		if err := c.sealAlertSecrets(a, in.Settings); err != nil {
			return err
		}
		if err := tx.PutAlert(ctx, a); err != nil {
			return err
		}
		ch = Change{Kind: "alert", Name: a.Name, Action: action(id), ID: a.ID}
		return audit(ctx, tx, o, ch, before, snap(a.Spec, a.Secrets, nil))
	})
	if err != nil {
		return nil, Result{}, err
	}
	res := Result{Changes: []Change{ch}}
	if len(dropped) > 0 {
		res.Dropped = []Drop{{Kind: "alert", ID: a.ID, Name: a.Name, Secrets: dropped}}
	}
	return a, res, nil
}

// DeleteAlert deletes an alert definition and its links to monitors.
func (c *Catalog) DeleteAlert(ctx context.Context, o Origin, id int64) (Result, error) {
	if err := o.Actor.mayWrite("alert"); err != nil {
		return Result{}, err
	}
	var ch Change
	err := c.batch(ctx, func(tx store.Config) error {
		a, err := tx.Alert(ctx, id)
		if err != nil {
			return err
		}
		ch = Change{Kind: "alert", Name: a.Name, Action: "deleted", ID: id}
		if err := audit(ctx, tx, o, ch, snap(a.Spec, a.Secrets, nil), snapshot{}); err != nil {
			return err
		}
		return tx.DeleteAlert(ctx, id)
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Changes: []Change{ch}}, nil
}
