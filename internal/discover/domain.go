package discover

import (
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe/domainprobe"
)

// domainMonitors are the domain-health monitors proposed beside a
// domain's servers: on its most preferred MX host the domain's blocklist
// (its addresses, and the domain on the domain lists), SPF, DMARC and
// TLS-RPT monitors; on each other MX host a blocklist monitor of its
// addresses. DKIM needs the selectors the domain signs with, which
// discovery cannot know: it is left to add (docs/domain-health.md).
func domainMonitors(r *Report, o Options, f *config.File) {
	if !r.Domain || len(f.Devices) == 0 {
		return
	}
	for i := range f.Devices {
		d := &f.Devices[i]
		bl := config.Monitor{Name: "Blocklists", Type: domainprobe.DNSBLName, Resolver: o.ResolverAddr}
		if i > 0 {
			d.Monitors = append(d.Monitors, bl)
			continue
		}
		bl.Domain = r.Target
		d.Monitors = append(d.Monitors, bl,
			config.Monitor{Name: "SPF", Type: domainprobe.SPFName, Domain: r.Target, Resolver: o.ResolverAddr},
			config.Monitor{Name: "DMARC", Type: domainprobe.DMARCName, Domain: r.Target, Resolver: o.ResolverAddr},
			config.Monitor{Name: "TLS-RPT", Type: domainprobe.TLSRPTName, Domain: r.Target, Resolver: o.ResolverAddr},
		)
	}
}
