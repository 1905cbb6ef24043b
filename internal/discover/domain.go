package discover

import (
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe/domainprobe"
)

// domainMonitors are the domain-health monitors proposed beside a
// domain's servers. On its most preferred MX host: the domain's blocklist
// monitor (its addresses, and the domain on the domain lists), SPF and
// DMARC always, and MTA-STS, TLS-RPT and DKIM (with the selectors found)
// when discovery found them published (Report.DomainChecks). On every MX
// host: a blocklist monitor of its addresses, a reverse DNS monitor, and
// a DANE monitor when its TLSA records are authenticated. A DKIM key under
// a selector discovery does not try is left to add (docs/domain-health.md).
func domainMonitors(r *Report, o Options, f *config.File) {
	if !r.Domain || len(f.Devices) == 0 {
		return
	}
	port := smtpPort(o.Ports)
	if port == 25 {
		port = 0 // the types' default
	}
	published := func(typ, host string) *DomainCheck {
		for i, c := range r.DomainChecks {
			if c.Type == typ && c.Host == host && c.Published {
				return &r.DomainChecks[i]
			}
		}
		return nil
	}
	for i := range f.Devices {
		d := &f.Devices[i]
		bl := config.Monitor{Name: "Blocklists", Type: domainprobe.DNSBLName, Resolver: o.ResolverAddr}
		if i == 0 {
			bl.Domain = r.Target
			d.Monitors = append(d.Monitors, bl,
				config.Monitor{Name: "SPF", Type: domainprobe.SPFName, Domain: r.Target, Resolver: o.ResolverAddr},
				config.Monitor{Name: "DMARC", Type: domainprobe.DMARCName, Domain: r.Target, Resolver: o.ResolverAddr},
			)
			if c := published(domainprobe.DKIMName, ""); c != nil {
				d.Monitors = append(d.Monitors, config.Monitor{Name: "DKIM", Type: domainprobe.DKIMName, Domain: r.Target, Selectors: c.Selectors, Resolver: o.ResolverAddr})
			}
			if published(domainprobe.MTASTSName, "") != nil {
				d.Monitors = append(d.Monitors, config.Monitor{Name: "MTA-STS", Type: domainprobe.MTASTSName, Domain: r.Target, Resolver: o.ResolverAddr, CA: o.CAFile})
			}
			if published(domainprobe.TLSRPTName, "") != nil {
				d.Monitors = append(d.Monitors, config.Monitor{Name: "TLS-RPT", Type: domainprobe.TLSRPTName, Domain: r.Target, Resolver: o.ResolverAddr})
			}
		} else {
			d.Monitors = append(d.Monitors, bl)
		}
		if published(domainprobe.DANEName, d.Address) != nil {
			d.Monitors = append(d.Monitors, config.Monitor{Name: "DANE", Type: domainprobe.DANEName, Port: port, Resolver: o.ResolverAddr})
		}
		d.Monitors = append(d.Monitors, config.Monitor{Name: "Reverse DNS", Type: domainprobe.RDNSName, Port: port, Resolver: o.ResolverAddr})
	}
}
