package alert

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/hostcmd"
)

// Command runs a program for each event (hostcmd: argv directly, never
// through a shell; PATH, LANG and the event's tokens as its environment,
// MAILMON_MONITOR, MAILMON_STATE, …; a timeout). What it prints goes into
// the error of a failed run, capped and with Secrets redacted.
type Command struct {
	Argv    []string
	Timeout time.Duration // default 30 s
	Secrets []string
}

// Env is the environment a command gets for ev (MAILMON_LATE_RESEND=1
// only for a late resend, MAILMON_ESCALATED=1 for an escalation).
func Env(ev Event) []string {
	env := []string{
		"MAILMON_EVENT=" + ev.Kind,
		"MAILMON_EVENT_ID=" + ev.ID,
		"MAILMON_MONITOR=" + ev.Monitor,
		"MAILMON_MONITOR_ID=" + strconv.FormatInt(ev.MonitorID, 10),
		"MAILMON_DEVICE=" + ev.Device,
		"MAILMON_TYPE=" + ev.Type,
		"MAILMON_STATE=" + ev.State,
		"MAILMON_ERROR_CODE=" + ev.Code,
		"MAILMON_ERROR_MESSAGE=" + ev.Message,
		"MAILMON_DETAIL=" + ev.Detail,
		"MAILMON_RTT_MS=" + strconv.FormatFloat(float64(ev.RTT.Microseconds())/1e3, 'f', 3, 64),
		"MAILMON_TIME=" + ev.Time.UTC().Format(time.RFC3339),
		"MAILMON_URL=" + ev.URL,
	}
	if ev.Late {
		env = append(env, "MAILMON_LATE_RESEND=1")
	}
	if ev.Escalated {
		env = append(env, "MAILMON_ESCALATED=1")
	}
	return env
}

// Notify runs the command.
func (c *Command) Notify(ctx context.Context, ev Event) error {
	if len(c.Argv) == 0 {
		return &Permanent{Err: fmt.Errorf("command: no program")}
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := hostcmd.Run(ctx, hostcmd.Cmd{Argv: c.Argv, Env: Env(ev), Secrets: c.Secrets})
	if err != nil {
		return fmt.Errorf("command %s: %w: %s", c.Argv[0], err, strings.TrimSpace(res.Output))
	}
	return nil
}
