package domainprobe

import "github.com/mailmon/mailmon/internal/probe"

// MTASTSAt is the MTA-STS test fetching policies from port instead of
// 443: for tests, which serve policies on a free loopback port and hand
// it to the daemon (engine.Options.Probers) or to discovery
// (discover.Options.Probers). No configuration reaches it.
func MTASTSAt(port int) probe.Prober { return mtasts{port: port}.probe }
