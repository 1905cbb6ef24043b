package cli

import (
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
)

// demoMinInterval is serve --demo's --min-interval unless given: its
// failing SMTP monitor is tested every 5 s while Down, so that its alert
// comes within seconds.
const demoMinInterval = 5 * time.Second

// demoLimits are serve --demo's egress policy and timing limits: its mail
// server is on 127.0.0.1, so monitors added through its web UI or API may
// target loopback unless --allow-targets says otherwise; and its failing
// monitor tests more often than the default minimum. It says so.
func demoLimits(env Env, p *egress.Policy, listed bool, l config.TimingLimits, minSet bool) (*egress.Policy, config.TimingLimits) {
	if !listed {
		p = p.AllowLoopback()
		fmt.Fprintln(env.Stdout, "demo: monitors added through the web UI or API may target loopback (127.0.0.0/8, ::1), where the demo mail server listens; without --demo they may not unless --allow-targets lists it")
	}
	if !minSet {
		l.MinInterval = min(l.MinInterval, demoMinInterval)
		fmt.Fprintf(env.Stdout, "demo: the minimum interval between tests is %v (--min-interval)\n", l.MinInterval)
	}
	return p, l
}
