package engine

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// agree decides what a K-of-N monitor's test means for its state: each
// location's node tests it, and it fails only when at least Require
// locations' latest results (this one included) fail. A failure fewer
// locations share is one site's trouble: the monitor stays Up, and the
// disagreement is logged, kept in the results of each location and shown
// by the API. It returns the state machine's input and, when locations
// fail, how many agree.
func (e *Engine) agree(ctx context.Context, en *entry, res *probe.Result, now time.Time) (probe.Status, probe.Code, string, error) {
	l := en.spec.Locations
	var code probe.Code
	if res.Error != nil {
		code = res.Error.Code
	}
	t := en.spec.Timing
	since := now.Add(-2*max(t.UpEvery.D(), t.DownEvery.D()) - t.MaxDuration.D())
	latest, err := e.o.Store.LatestResults(ctx, en.m.ID, since)
	if err != nil {
		return res.Status, code, "", err
	}
	mine := e.cl.node.Location
	down := map[string]probe.Code{}
	seen := map[string]bool{mine: true}
	if res.Status == probe.StatusDown {
		down[mine] = code
	}
	for _, r := range latest {
		if r.Location == "" || r.Location == mine || (len(l.At) > 0 && !slices.Contains(l.At, r.Location)) {
			continue
		}
		seen[r.Location] = true
		if r.Status == probe.StatusDown {
			down[r.Location] = r.Code
		}
	}
	if len(down) == 0 {
		return res.Status, code, "", nil
	}
	var failing []string
	for loc := range down {
		failing = append(failing, loc)
	}
	slices.Sort(failing)
	if len(failing) >= l.Require {
		if res.Status != probe.StatusDown {
			code = down[failing[0]]
		}
		return probe.StatusDown, code, fmt.Sprintf("%d of %d locations failing, %d required: %s", len(failing), len(seen), l.Require, strings.Join(failing, ", ")), nil
	}
	why := fmt.Sprintf("locations disagree: %d of %d failing (%s), %d required", len(failing), len(seen), strings.Join(failing, ", "), l.Require)
	e.o.Log.Info("a failure not confirmed by enough locations", "monitor", en.m.ID, "detail", why)
	if res.Status == probe.StatusDown {
		return probe.StatusUp, "", why, nil
	}
	return res.Status, code, why, nil
}

// denied is the prober of a target Options.Deny cuts off: refused.
func denied(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	return t.Step("connect", func() error {
		return &wire.DialError{Addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), Err: syscall.ECONNREFUSED}
	})
}
