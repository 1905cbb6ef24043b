package api

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/secretbind"
	"github.com/mailmon/mailmon/internal/store"
)

// A save that changes where a record's secrets are sent drops them unless
// the request sends them again (internal/secretbind); these apply the rule
// to what the API and the web UI save, and say what was dropped.

// sent reports whether a write-only field holds a new value.
func sent(v *string) bool { return v != nil && *v != "" }

// unbindMonitor removes from old.Secrets (in place) those that the change
// to mc on a device at addr sends elsewhere, and returns their names.
func (s *Server) unbindMonitor(ctx context.Context, old *store.Monitor, addr string, mc config.Monitor, given map[string]*string) ([]string, error) {
	var was config.Monitor
	if err := json.Unmarshal(old.Spec, &was); err != nil {
		return nil, err
	}
	was.Name, was.Type = old.Name, old.Type
	oldAddr := addr
	if d, err := s.Store.Device(ctx, old.DeviceID); err == nil {
		oldAddr = d.Address // moved to another device
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	drop := secretbind.Dropped(old.Secrets, secretbind.Monitor(oldAddr, was, addr, mc), func(n string) bool { return sent(given[n]) })
	for _, n := range drop {
		delete(old.Secrets, n)
	}
	return drop, nil
}

// unbindAlert removes from old.Secrets those the change to in.Settings
// sends elsewhere.
func unbindAlert(old *store.Alert, in alertIn) ([]string, error) {
	var was config.Alert
	if err := json.Unmarshal(old.Spec, &was); err != nil {
		return nil, err
	}
	given := map[string]bool{"relay.password": sent(in.RelayPassword)}
	drop := secretbind.Dropped(old.Secrets, secretbind.Alert(was, in.Settings), func(n string) bool { return given[n] })
	for _, n := range drop {
		delete(old.Secrets, n)
	}
	return drop, nil
}

// unbindCredential removes from old.Secrets those a new known_host would
// send to another server.
func unbindCredential(old *store.Credential, cc config.Credential, in credentialIn) ([]string, error) {
	var was config.Credential
	if err := json.Unmarshal(old.Spec, &was); err != nil {
		return nil, err
	}
	given := map[string]bool{"password": sent(in.Password), "key": sent(in.Key)}
	drop := secretbind.Dropped(old.Secrets, secretbind.Credential(was, cc), func(n string) bool { return given[n] })
	for _, n := range drop {
		delete(old.Secrets, n)
	}
	return drop, nil
}

// MonitorDrop names the secrets a device's address change dropped from
// one of its monitors.
type MonitorDrop struct {
	Monitor int64    `json:"monitor"`
	Name    string   `json:"name"`
	Secrets []string `json:"secrets"`
}

// saveDevice creates (id 0) or updates a device. A new address redirects
// every monitor of the device, so the secrets that would follow it are
// dropped first: a failure in between leaves them removed, never sent to
// the new address.
func (s *Server) saveDevice(ctx context.Context, id int64, in deviceJSON) (*store.Device, []MonitorDrop, error) {
	if err := checkDevice(in); err != nil {
		return nil, nil, err
	}
	network, err := s.deviceTarget(ctx, id, in.Address) // egress policy (limits.go), before anything is dropped
	if err != nil {
		return nil, nil, err
	}
	var drops []MonitorDrop
	if id != 0 {
		old, err := s.Store.Device(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if other, err := s.Store.DeviceByName(ctx, in.Name); err == nil && other.ID != id {
			return nil, nil, store.ErrConflict // before anything is dropped
		}
		if old.Address != in.Address {
			if drops, err = s.unbindDevice(ctx, id, old.Address, in.Address); err != nil {
				return nil, nil, err
			}
		}
	}
	d := &store.Device{ID: id, Name: in.Name, Address: in.Address, NetworkTarget: network}
	if err := s.Store.PutDevice(ctx, d); err != nil {
		return nil, nil, err
	}
	if id != 0 {
		if err := s.reloadDevice(ctx, id); err != nil {
			return nil, nil, err
		}
	}
	return d, drops, nil
}

func (s *Server) unbindDevice(ctx context.Context, id int64, from, to string) ([]MonitorDrop, error) {
	ms, _, err := s.Store.Monitors(ctx, store.MonitorFilter{DeviceID: id, Page: store.Page{Limit: 100000}})
	if err != nil {
		return nil, err
	}
	var out []MonitorDrop
	for i := range ms {
		m := &ms[i]
		var mc config.Monitor
		if err := json.Unmarshal(m.Spec, &mc); err != nil {
			return nil, err
		}
		mc.Name, mc.Type = m.Name, m.Type
		drop := secretbind.Dropped(m.Secrets, secretbind.Monitor(from, mc, to, mc), func(string) bool { return false })
		if len(drop) == 0 {
			continue
		}
		for _, n := range drop {
			delete(m.Secrets, n)
		}
		if err := s.Store.PutMonitor(ctx, m); err != nil {
			return nil, err
		}
		out = append(out, MonitorDrop{Monitor: m.ID, Name: m.Name, Secrets: drop})
	}
	return out, nil
}
