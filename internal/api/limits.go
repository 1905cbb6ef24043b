package api

import (
	"context"
	"encoding/json"
	"net/netip"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/store"
)

// What the API (and the web UI, which saves through it) holds a caller to:
// targets within serve's egress policy (internal/egress), and timing within
// serve's limits. A save that changes a target (a device's address; a
// monitor's device, type, port, TLS mode or SMTP leg; an e-mail alert's
// relay) makes it the network's: the record is marked, checked here, and
// its tests are checked again on every dial (the engine). A save that
// leaves the target as it was keeps its origin, so that renaming or
// retiming a monitor the operator applied is not refused for a loopback
// target the operator chose.

func (s *Server) egress() *egress.Policy {
	if s.Egress == nil {
		return egress.Default()
	}
	return s.Egress
}

// checkHost is the save-time check of host, as a field error on field.
func (s *Server) checkHost(ctx context.Context, field, host, what string) fieldErrors {
	if err := s.egress().CheckHost(ctx, s.Resolver, host); err != nil {
		return fieldErrors{{Path: field, Msg: what + err.Error()}}
	}
	return nil
}

// deviceTarget says whether a device saved with address is the network's,
// and refuses an address outside the policy.
func (s *Server) deviceTarget(ctx context.Context, id int64, address string) (bool, error) {
	if id != 0 {
		old, err := s.Store.Device(ctx, id)
		if err != nil {
			return false, err
		}
		if old.Address == address && !old.NetworkTarget {
			return false, nil // the operator's address, unchanged
		}
	}
	if fe := s.checkHost(ctx, "address", address, ""); fe != nil {
		return false, fe
	}
	return true, nil
}

// monitorTarget is deviceTarget for a monitor (settings validated, defaults
// filled) on device d.
func (s *Server) monitorTarget(ctx context.Context, id int64, d *store.Device, mc config.Monitor) (bool, error) {
	if id != 0 {
		old, err := s.Store.Monitor(ctx, id)
		if err != nil {
			return false, err
		}
		var oc config.Monitor
		if err := json.Unmarshal(old.Spec, &oc); err != nil {
			return false, err
		}
		oc.Type = old.Type
		oc.ApplyDefaults()
		if !old.NetworkTarget && old.DeviceID == d.ID && monitorTargetOf(oc) == monitorTargetOf(mc) {
			return false, nil
		}
	}
	var bad fieldErrors
	bad = append(bad, s.checkHost(ctx, "device", d.Address, "the device's address ")...)
	if mc.SMTP != nil && mc.SMTP.Host != "" {
		bad = append(bad, s.checkHost(ctx, "smtp.host", mc.SMTP.Host, "")...)
	}
	if len(bad) > 0 {
		return false, bad
	}
	return true, nil
}

// monitorTargetOf is what of a monitor decides where its tests connect,
// beside its device's address.
func monitorTargetOf(m config.Monitor) string {
	cfg := m.ProbeConfig("")
	t := struct {
		Type     string
		Port     int
		TLS      probe.TLSMode
		SMTP     bool
		SMTPHost string
		SMTPPort int
		SMTPTLS  string
	}{Type: m.Type, Port: cfg.Port, TLS: cfg.TLS}
	if t.Port == 0 {
		t.Port = kinds.DefaultPort(m.Type, cfg.TLS)
	}
	if m.SMTP != nil {
		t.SMTP, t.SMTPHost, t.SMTPPort, t.SMTPTLS = true, m.SMTP.Host, m.SMTP.Port, m.SMTP.TLS
	}
	b, _ := json.Marshal(t)
	return string(b)
}

// alertTarget is deviceTarget for an alert: an e-mail alert's relay, a
// webhook's URL (webhookTarget); a command has no target.
func (s *Server) alertTarget(ctx context.Context, id int64, a config.Alert) (bool, error) {
	if a.Webhook != nil {
		return s.webhookTarget(ctx, id, a.Webhook.URL.Value)
	}
	if a.Email == nil {
		return false, nil
	}
	relay := a.Email.Relay
	if id != 0 {
		old, err := s.Store.Alert(ctx, id)
		if err != nil {
			return false, err
		}
		var oa config.Alert
		if err := json.Unmarshal(old.Spec, &oa); err != nil {
			return false, err
		}
		if !old.NetworkTarget && oa.Email != nil && oa.Email.Relay.Host == relay.Host &&
			oa.Email.Relay.Port == relay.Port && oa.Email.Relay.TLS == relay.TLS {
			return false, nil
		}
	}
	if fe := s.checkHost(ctx, "email.relay.host", relay.Host, ""); fe != nil {
		return false, fe
	}
	return true, nil
}

// probeTarget refuses an ad-hoc /probe target outside the policy when it
// is an address; a name is checked on each address dialled (cfg.Egress),
// which costs no lookup of its own.
func (s *Server) probeTarget(host string) fieldErrors {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	if err := s.egress().Allow(host, a); err != nil {
		return fieldErrors{{Path: "target", Msg: err.Error()}}
	}
	return nil
}
