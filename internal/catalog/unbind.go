package catalog

import (
	"context"
	"encoding/json"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/secretbind"
	"github.com/mailmon/mailmon/internal/store"
)

// A save from the network that changes where a record's secrets are sent
// drops them unless it sends them again (internal/secretbind); these apply
// the rule, reading and writing through the save's transaction, and say
// what was dropped.

// unbindMonitor removes from old.Secrets (in place) those that the change
// to mc on a device at addr sends elsewhere (oldAddr: the address of the
// device old is on), and returns their names.
func unbindMonitor(old *store.Monitor, oldAddr, addr string, mc config.Monitor, in map[string]*string) ([]string, error) {
	var was config.Monitor
	if err := json.Unmarshal(old.Spec, &was); err != nil {
		return nil, err
	}
	was.Name, was.Type = old.Name, old.Type
	drop := secretbind.Dropped(old.Secrets, secretbind.Monitor(oldAddr, was, addr, mc), func(n string) bool { return sent(in[n]) })
	for _, n := range drop {
		delete(old.Secrets, n)
	}
	return drop, nil
}

// unbindAlert removes from old.Secrets those the change to settings sends
// elsewhere.
func unbindAlert(old *store.Alert, settings config.Alert, relayPassword *string) ([]string, error) {
	var was config.Alert
	if err := json.Unmarshal(old.Spec, &was); err != nil {
		return nil, err
	}
	resent := map[string]bool{"relay.password": sent(relayPassword)}
	for _, f := range settings.SealedFields() {
		resent[f.Name] = f.Ref.Value != ""
	}
	drop := secretbind.Dropped(old.Secrets, secretbind.Alert(was, settings), func(n string) bool { return resent[n] })
	for _, n := range drop {
		delete(old.Secrets, n)
	}
	return drop, nil
}

// unbindCredential removes from old.Secrets those a new known_host would
// send to another server.
func unbindCredential(old *store.Credential, cc config.Credential, in Credential) ([]string, error) {
	var was config.Credential
	if err := json.Unmarshal(old.Spec, &was); err != nil {
		return nil, err
	}
	resent := map[string]bool{"password": sent(in.Password), "key": sent(in.Key)}
	drop := secretbind.Dropped(old.Secrets, secretbind.Credential(was, cc), func(n string) bool { return resent[n] })
	for _, n := range drop {
		delete(old.Secrets, n)
	}
	return drop, nil
}

// unbindDevice drops, from the monitors ms of a device whose address
// changes from one to another, the secrets that would follow it, and
// writes them through s.
func unbindDevice(ctx context.Context, s store.Config, ms []store.Monitor, from, to string) ([]Drop, error) {
	var out []Drop
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
		if err := s.PutMonitor(ctx, m); err != nil {
			return nil, err
		}
		out = append(out, Drop{Kind: "monitor", ID: m.ID, Name: m.Name, Secrets: drop})
	}
	return out, nil
}
