// Package catalog is the one place where devices, monitors, alerts and
// credentials are validated and written: the operator's apply on the host,
// the JSON API and the web UI all save through it. Each write is held to
// the rules of who asks (Origin), and returns what changed, so that its
// caller can tell the engine: catalog sits below the engine and never
// calls it.
package catalog

import (
	"context"
	"net"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Catalog validates and writes the configuration kept in Store, secrets
// sealed with Vault.
type Catalog struct {
	Store store.Store
	Vault *vault.Vault

	// Egress is where targets set over the network may lead (nil:
	// egress.Default()), Resolver the resolver its checks use (nil: the
	// system's), Timing serve's limits on a monitor's timing (limits.go).
	// The operator's apply is held to none of them.
	Egress   *egress.Policy
	Resolver *net.Resolver
	Timing   config.TimingLimits
}

// Change is what happened to one record.
type Change struct {
	Kind   string // credential, device, monitor, alert
	Name   string // mail1, mail1/SMTP, ops
	Action string // created, updated, unchanged, deleted
	ID     int64
}

// Drop names the stored secrets of one record that a change of its
// target (or of its device's address) removed (internal/secretbind).
type Drop struct {
	Kind    string // monitor, alert, credential
	ID      int64
	Name    string
	Secrets []string
}

// Result is what a write changed: the records, the secrets it dropped,
// and what the engine must read again.
type Result struct {
	Changes []Change
	Dropped []Drop
	// Reload are the monitors whose definition (or device) changed or
	// went; ReloadCredentials the credentials, by name, whose monitors'
	// recoveries use them.
	Reload            []int64
	ReloadCredentials []string
}

// DroppedFrom names the secrets the write dropped from one record.
func (r Result) DroppedFrom(kind string, id int64) []string {
	for _, d := range r.Dropped {
		if d.Kind == kind && d.ID == id {
			return d.Secrets
		}
	}
	return nil
}

// Reloader is what is told of a change: the engine.
type Reloader interface {
	Reload(ctx context.Context, monitorID int64) error
	ReloadCredentials(ctx context.Context, names ...string) error
}

// Tell has e read again what r changed; it stops at the first error.
func (r Result) Tell(ctx context.Context, e Reloader) error {
	for _, id := range r.Reload {
		if err := e.Reload(ctx, id); err != nil {
			return err
		}
	}
	if len(r.ReloadCredentials) > 0 {
		return e.ReloadCredentials(ctx, r.ReloadCredentials...)
	}
	return nil
}

// allMonitors lists a device's monitors.
func allMonitors(ctx context.Context, s store.Config, device int64) ([]store.Monitor, error) {
	ms, _, err := s.Monitors(ctx, store.MonitorFilter{DeviceID: device, Page: store.Page{Limit: 100000}})
	return ms, err
}
