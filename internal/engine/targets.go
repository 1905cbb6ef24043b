package engine

import (
	"unique"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
)

// limit clamps a loaded monitor's timing to serve's limits (Options.Timing)
// and logs it once per monitor and change: applied monitors are not
// checked against the daemon's flags, so the engine holds every monitor
// to them (up_every: 10ms made 371 SMTP sessions in 3 s).
//
// Load (lc not nil) logs each clamp once for all the monitors it applies
// to (loadCache.logClamps): one line a monitor was 100,000 lines at start
// for a file whose down_every is below --min-interval, and a quarter of
// the load's CPU.
func (e *Engine) limit(m *store.Monitor, t *config.Timing, lc *loadCache) {
	msg := e.o.Timing.ClampTiming(t)
	e.mu.Lock()
	logged := e.clamped[m.ID]
	if msg == "" {
		delete(e.clamped, m.ID)
	} else {
		e.clamped[m.ID] = unique.Make(msg)
	}
	e.mu.Unlock()
	switch {
	case msg == "" || logged == unique.Make(msg):
	case lc != nil:
		lc.clamp(msg, m)
	default:
		e.o.Log.Warn("monitor timing outside this server's limits: "+msg, "monitor", m.ID, "name", m.Name)
	}
}

// guard sets what a test of cfg may reach: a target set over the network
// (the monitor's own, or its device's address) is held to the egress
// policy, and its results show less of the server (probe/network.go); the
// operator's (apply) is not limited.
func (e *Engine) guard(cfg *probe.Config, network bool) {
	cfg.Resolver = e.o.Resolver
	if cfg.DNSServer == "" {
		cfg.DNSServer = e.o.DNSServer
	}
	if cfg.KeyExchange == "" {
		cfg.KeyExchange = e.o.KeyExchange
	}
	if network {
		cfg.Egress = e.o.Egress
	}
}
