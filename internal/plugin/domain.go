package plugin

import (
	"github.com/mailmon/mailmon/internal/probe"
)

// domain sets the options of the domain-health types (dnsbl, spf, dmarc,
// dkim, tls-rpt): the resolver, the zones, the selectors, the sending
// addresses and a DQS key. Which of them a type takes, its validation says.
func (f *flags) domain(cfg *probe.Config, env Env) error {
	cfg.DNSServer = f.resolver
	cfg.Zones = probe.SplitList(f.zones)
	cfg.Selectors = probe.SplitList(f.selectors)
	cfg.IPs = probe.SplitList(f.ips)
	if f.dqsKeyFile != "" {
		key, err := password(f.dqsKeyFile, "", env)
		if err != nil {
			return err
		}
		cfg.DQSKey = probe.Password(key)
	}
	return nil
}
