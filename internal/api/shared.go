package api

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// The web UI (internal/web) saves through these, so that a form and the
// JSON API validate and store the same way.

// FieldErrors returns the field errors of a failed save (paths as the API
// names them: "port", "timing.up_every", "smtp.tls" …), or false; those of
// a save refused for setting an operator-only field too (IsOperatorOnly).
func FieldErrors(err error) ([]config.FieldError, bool) {
	var fe fieldErrors
	if errors.As(err, &fe) {
		return fe, true
	}
	var oo operatorOnly
	if errors.As(err, &oo) {
		return oo, true
	}
	return nil, false
}

// SaveDevice creates (id 0) or updates a device.
func (s *Server) SaveDevice(ctx context.Context, id int64, name, address string) (*store.Device, error) {
	d, _, err := s.SaveDeviceDropped(ctx, id, name, address)
	return d, err
}

// SaveDeviceDropped is SaveDevice that also says which stored secrets of
// the device's monitors a new address dropped.
func (s *Server) SaveDeviceDropped(ctx context.Context, id int64, name, address string) (*store.Device, []MonitorDrop, error) {
	d, drops, err := s.saveDevice(ctx, id, deviceJSON{Name: name, Address: address})
	if errors.Is(err, store.ErrConflict) {
		return nil, nil, fieldErrors{{Path: "name", Msg: "another device has this name"}}
	}
	return d, drops, err
}

// DeleteDevice deletes a device and its monitors.
func (s *Server) DeleteDevice(ctx context.Context, id int64) error {
	ms, _, err := s.Store.Monitors(ctx, store.MonitorFilter{DeviceID: id, Page: store.Page{Limit: 100000}})
	if err != nil {
		return err
	}
	if err := s.Store.DeleteDevice(ctx, id); err != nil {
		return err
	}
	if s.Engine != nil {
		for _, m := range ms {
			s.Engine.Reload(ctx, m.ID)
		}
	}
	return nil
}

// MonitorInput is a monitor as a form gives it: its device, settings,
// secrets in the clear (nil: keep the stored one, "": remove it) and the
// ids of its alerts (nil: keep).
type MonitorInput struct {
	Device       int64
	Settings     config.Monitor
	Password     *string
	SMTPPassword *string
	Alerts       []int64
}

// SaveMonitor creates (id 0) or replaces a monitor.
func (s *Server) SaveMonitor(ctx context.Context, id int64, in MonitorInput) (*store.Monitor, error) {
	m, _, err := s.SaveMonitorDropped(ctx, id, in)
	return m, err
}

// SaveMonitorDropped is SaveMonitor that also names the stored secrets the
// change of target dropped (those not sent again).
func (s *Server) SaveMonitorDropped(ctx context.Context, id int64, in MonitorInput) (*store.Monitor, []string, error) {
	m, dropped, err := s.saveMonitor(ctx, id, monitorIn{Device: in.Device, Settings: in.Settings, Password: in.Password,
		SMTPPassword: in.SMTPPassword, Alerts: in.Alerts})
	if errors.Is(err, store.ErrConflict) {
		return nil, nil, fieldErrors{{Path: "name", Msg: "another monitor of this device has this name"}}
	}
	return m, dropped, err
}

// DeleteMonitor deletes a monitor and stops testing it.
func (s *Server) DeleteMonitor(ctx context.Context, id int64) error {
	if err := s.Store.DeleteMonitor(ctx, id); err != nil {
		return err
	}
	if s.Engine != nil {
		s.Engine.Reload(ctx, id)
	}
	return nil
}

// siblings are the settings of a device's monitors but one (except).
func (s *Server) siblings(ctx context.Context, device, except int64) ([]config.Monitor, error) {
	ms, _, err := s.Store.Monitors(ctx, store.MonitorFilter{DeviceID: device, Page: store.Page{Limit: 100000}})
	if err != nil {
		return nil, err
	}
	var out []config.Monitor
	for _, m := range ms {
		if m.ID == except {
			continue
		}
		var c config.Monitor
		if err := json.Unmarshal(m.Spec, &c); err != nil {
			return nil, err
		}
		c.Name, c.Type = m.Name, m.Type
		c.Notify.Alerts = nil // assigned by id; names are checked against the file's alerts
		out = append(out, c)
	}
	return out, nil
}

// SaveAlert creates (id 0) or replaces an alert definition; relayPassword
// is write-only (nil: keep, "": remove).
func (s *Server) SaveAlert(ctx context.Context, id int64, settings config.Alert, relayPassword *string) (*store.Alert, error) {
	a, _, err := s.SaveAlertDropped(ctx, id, settings, relayPassword)
	return a, err
}

// SaveAlertDropped is SaveAlert that also names the stored secrets the
// change of relay dropped.
func (s *Server) SaveAlertDropped(ctx context.Context, id int64, settings config.Alert, relayPassword *string) (*store.Alert, []string, error) {
	a, dropped, err := s.saveAlert(ctx, id, alertIn{Settings: settings, RelayPassword: relayPassword})
	if errors.Is(err, store.ErrConflict) {
		return nil, nil, fieldErrors{{Path: "name", Msg: "another alert has this name"}}
	}
	return a, dropped, err
}

// DeleteCredential deletes a credential; the monitors whose recoveries
// used it are reloaded (their recoveries over SSH now say it is missing).
func (s *Server) DeleteCredential(ctx context.Context, id int64) error {
	c, err := s.Store.Credential(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteCredential(ctx, id); err != nil {
		return err
	}
	return s.reloadCredentials(ctx, c.Name)
}

// reloadCredentials reloads the monitors whose recoveries use the
// credentials names: the engine holds them opened in memory.
func (s *Server) reloadCredentials(ctx context.Context, names ...string) error {
	if s.Engine == nil {
		return nil
	}
	return s.Engine.ReloadCredentials(ctx, names...)
}

// CredentialInput is a credential as a form gives it; Password and Key
// (PEM) are write-only (nil or "": keep).
type CredentialInput struct {
	Name, User, KnownHost string
	Password, Key         *string
}

// SaveCredential creates (id 0) or replaces a credential.
func (s *Server) SaveCredential(ctx context.Context, id int64, in CredentialInput) (*store.Credential, error) {
	c, _, err := s.saveCredential(ctx, id, credentialIn{Name: in.Name, User: in.User, KnownHost: in.KnownHost, Password: in.Password, Key: in.Key})
	if errors.Is(err, store.ErrConflict) {
		return nil, fieldErrors{{Path: "name", Msg: "another credential has this name"}}
	}
	return c, err
}
