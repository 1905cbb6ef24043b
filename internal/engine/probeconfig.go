package engine

import (
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
)

// MonitorConfig returns the probe configuration of a loaded monitor, with
// its secrets opened, for a test run outside the schedule (/probe): nothing
// of that test is recorded. It is store.ErrNotFound for a monitor not
// loaded, and the reason when the monitor cannot be tested (a secret that
// does not decrypt, an invalid configuration).
func (e *Engine) MonitorConfig(id int64) (probe.Config, error) {
	e.mu.Lock()
	en := e.monitors[id]
	e.mu.Unlock()
	if en == nil {
		return probe.Config{}, store.ErrNotFound
	}
	return en.config(), en.err
}

// config is a copy of the monitor's probe config, its target put back,
// that a test may change: Validate fills defaults into the SMTP leg, which
// is a pointer, so two tests of one monitor at once (the schedule,
// TestNow, /probe) each need their own, and the config is shared.
func (en *entry) config() probe.Config {
	cfg := *en.cfg
	cfg.Host, cfg.Port, cfg.Monitor = en.host, en.port, en.m.Name
	if cfg.SMTP != nil {
		leg := *cfg.SMTP
		cfg.SMTP = &leg
	}
	return cfg
}

// Prober returns the prober of a monitor type from the engine's table.
func (e *Engine) Prober(typ string) (probe.Prober, bool) { return e.o.Probers(typ) }

// DNSServer is the domain monitors' resolver (serve --resolver; "" the
// system's): /probe's ad-hoc domain tests ask it too.
func (e *Engine) DNSServer() string { return e.o.DNSServer }
