package alert

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Command runs a program for each event: argv directly, never through a
// shell, with the event's tokens in the environment (MAILMON_MONITOR,
// MAILMON_STATE, …) and a timeout.
type Command struct {
	Argv    []string
	Timeout time.Duration // default 30 s
}

// Env is the environment a command gets for ev.
func Env(ev Event) []string {
	return []string{
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
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Env = append(os.Environ(), Env(ev)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limited{&out, 4 << 10}, &limited{&out, 4 << 10}
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("command %s: %w: %s", c.Argv[0], err, strings.TrimSpace(out.String()))
	}
	return nil
}

type limited struct {
	b   *bytes.Buffer
	max int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
