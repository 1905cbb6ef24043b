// Package alert delivers notifications. The engine hands it events (stored
// in the outbox with the state change that called for them:
// Notifications); the Outbox sends each through its alert's action, built
// from the stored alert by Actions: e-mail through an SMTP relay, webhooks
// (generic JSON, Slack-compatible, Microsoft Teams) and external commands,
// with the tokens of alert texts, retries with back-off and a rate limit
// per action.
package alert

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event is one notification about one monitor.
type Event struct {
	ID        string // unique per notification: receivers can drop a repeat
	Kind      string // "alert", "warning" or "recovery"
	MonitorID int64
	Monitor   string
	Device    string
	Type      string
	State     string
	Code      string // error code, "" on recovery
	Message   string // the code's message
	Detail    string // the server's reply or what failed
	RTT       time.Duration
	Time      time.Time
	URL       string // link to the monitor's page
	// Escalated: sent to an action that the outage's length called in
	// (an escalation), not one of the monitor's own.
	Escalated bool `json:",omitempty"`
	// Late: a late resend, delivered after a crash or a failed attempt,
	// long after Time (when it happened), which it keeps.
	Late bool
}

// Notifier sends an event one way.
type Notifier interface {
	Notify(ctx context.Context, ev Event) error
}

// Expand replaces the tokens of an alert text: {monitor}, {device},
// {type}, {state}, {event}, {error_code}, {error_message}, {detail}, {rtt},
// {time}, {link}.
func Expand(text string, ev Event) string {
	return strings.NewReplacer(
		"{monitor}", ev.Monitor,
		"{device}", ev.Device,
		"{type}", ev.Type,
		"{state}", ev.State,
		"{event}", ev.Kind,
		"{error_code}", ev.Code,
		"{error_message}", ev.Message,
		"{detail}", ev.Detail,
		"{rtt}", fmt.Sprintf("%.1f ms", float64(ev.RTT)/float64(time.Millisecond)),
		"{time}", ev.Time.UTC().Format(time.RFC3339),
		"{link}", ev.URL,
	).Replace(text)
}

// DefaultSubject and DefaultBody are the texts when an alert defines none.
const (
	DefaultSubject = "[mailmon] {monitor} on {device} is {state}"
	DefaultBody    = "{monitor} ({type}) on {device} is {state} since {time}.\n" +
		"Error: {error_code}: {error_message}\n{detail}\nResponse time: {rtt}\n{link}\n"
)

// Summary is a one-line text of the event.
func Summary(ev Event) string {
	var s string
	switch ev.Kind {
	case KindTest:
		return Expand("[test] {monitor}: {error_message}", ev)
	case "recovery":
		s = Expand("{monitor} on {device} recovered: {state} ({rtt})", ev)
	case "warning":
		s = Expand("{monitor} on {device}: warning {error_code}: {error_message}", ev)
	default:
		s = Expand("{monitor} on {device} is {state}: {error_code}: {error_message}", ev)
	}
	if ev.Escalated && ev.Kind == "alert" {
		s = "[escalated] " + s
	}
	return LateNote(ev) + s
}

// LateNote is what a late resend says first ("" for others): when it
// happened, for a receiver that shows the newest message as the present.
func LateNote(ev Event) string {
	if !ev.Late {
		return ""
	}
	return Expand("[late resend of {time}] ", ev)
}

// Permanent marks an error that retrying cannot fix (a 4xx from a webhook,
// a rejected recipient).
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return p.Err.Error() }
func (p *Permanent) Unwrap() error { return p.Err }

// EventID builds a notification's ID from what makes it unique: the
// monitor, the start of the outage and the alert's number in it.
func EventID(monitor int64, kind string, since time.Time, seq int) string {
	return strconv.FormatInt(monitor, 10) + "-" + kind + "-" + strconv.FormatInt(since.UnixMilli(), 10) + "-" + strconv.Itoa(seq)
}
