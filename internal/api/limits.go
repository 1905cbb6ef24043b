package api

import (
	"net/netip"

	"github.com/mailmon/mailmon/internal/egress"
)

// What a save holds a caller to (targets within serve's egress policy,
// timing within serve's limits) is the catalog's (catalog/limits.go); the
// ad-hoc targets of /probe are held to the same policy here.

func (s *Server) egress() *egress.Policy { return s.catalog().Policy() }

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
