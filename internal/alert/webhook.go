package alert

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
)

// Webhook formats.
const (
	FormatGeneric = "generic"
	FormatSlack   = "slack"
	FormatTeams   = "teams"
)

// Webhook posts events as JSON. Its URL is a secret: no error it returns
// carries more of it than its Origin.
type Webhook struct {
	URL    string
	Format string // generic (default), slack or teams
	// A templated webhook: Method (default POST), Headers (their values
	// are secrets: never in an error) and Body, a text/template over the
	// event (config.BodyTemplate) that replaces the format's payload.
	Method  string
	Headers http.Header
	Body    string
	// Egress is set when the URL was set over the network (the API or the
	// web UI): each address dialled is checked against it, as a monitor's
	// are (internal/egress), and the environment's proxy is not used, since
	// the policy holds on the address dialled and a proxy would dial for
	// us. Resolver resolves the URL's host (nil: the system's).
	Egress   *egress.Policy
	Resolver *net.Resolver
}

// GenericPayload is the JSON of a generic webhook (docs/alerts.md).
type GenericPayload struct {
	ID      string       `json:"id"`
	Event   string       `json:"event"`
	Monitor string       `json:"monitor"`
	Device  string       `json:"device"`
	Type    string       `json:"type"`
	State   string       `json:"state"`
	Error   GenericError `json:"error"`
	Detail  string       `json:"detail,omitempty"`
	RTTMS   float64      `json:"rtt_ms"`
	Time    string       `json:"time"`
	URL     string       `json:"url"`
	// LateResend: delivered after a crash or a failed attempt, long
	// after time, when it happened.
	LateResend bool `json:"late_resend,omitempty"`
	// Escalated: sent because the outage lasted (an escalation), to an
	// action that is not one of the monitor's own.
	Escalated bool `json:"escalated,omitempty"`
}

// GenericError is the error of a generic payload.
type GenericError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Payload returns the body the webhook posts for ev.
func (w *Webhook) Payload(ev Event) ([]byte, error) {
	if w.Body != "" {
		return w.templated(ev)
	}
	switch w.Format {
	case "", FormatGeneric:
		return json.Marshal(GenericPayload{
			ID: ev.ID, Event: ev.Kind, Monitor: ev.Monitor, Device: ev.Device, Type: ev.Type, State: ev.State,
			Error: GenericError{Code: ev.Code, Message: ev.Message}, Detail: ev.Detail,
			RTTMS: float64(ev.RTT.Microseconds()) / 1e3, Time: ev.Time.UTC().Format(time.RFC3339), URL: ev.URL, LateResend: ev.Late, Escalated: ev.Escalated,
		})
	case FormatSlack:
		text := Summary(ev)
		if ev.URL != "" {
			text += " <" + ev.URL + "|open>"
		}
		return json.Marshal(map[string]string{"text": text})
	case FormatTeams:
		color := "D32F2F"
		switch ev.Kind {
		case "recovery":
			color = "2E7D32"
		case "warning":
			color = "F9A825"
		}
		card := map[string]any{
			"@type": "MessageCard", "@context": "https://schema.org/extensions",
			"summary": Summary(ev), "themeColor": color, "title": Summary(ev),
			"text": Expand("{error_code} {error_message} — {detail} — {time}", ev),
		}
		if ev.URL != "" {
			card["potentialAction"] = []any{map[string]any{"@type": "OpenUri", "name": "Open in mailmon",
				"targets": []any{map[string]string{"os": "default", "uri": ev.URL}}}}
		}
		return json.Marshal(card)
	}
	return nil, fmt.Errorf("webhook format %q is not generic, slack or teams", w.Format)
}

// Notify posts the event. A 4xx answer is permanent; 5xx and network errors
// are worth a retry.
func (w *Webhook) Notify(ctx context.Context, ev Event) error {
	body, err := w.Payload(ev)
	if err != nil {
		return &Permanent{Err: err}
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	if ev.ID != "" {
		hdr.Set("Idempotency-Key", ev.ID)
	}
	for k, v := range w.Headers {
		hdr[k] = v
	}
	_, err = w.poster().send(ctx, cmp.Or(w.Method, http.MethodPost), w.URL, hdr, body)
	return err
}

// maxBody is the most a templated body may be.
const maxBody = 64 << 10

// templated is the body of a templated webhook for ev.
func (w *Webhook) templated(ev Event) ([]byte, error) {
	t, err := config.BodyTemplate(w.Body)
	if err != nil {
		return nil, fmt.Errorf("webhook body: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&limited{w: &b, n: maxBody}, ev); err != nil {
		return nil, fmt.Errorf("webhook body: %w", err)
	}
	return b.Bytes(), nil
}

// limited writes at most n bytes to w, then fails.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, fmt.Errorf("longer than %d bytes", maxBody)
	}
	l.n -= len(p)
	return l.w.Write(p)
}

func (w *Webhook) poster() poster {
	return poster{What: "webhook", Egress: w.Egress, Resolver: w.Resolver}
}

// Origin is a URL's scheme and host, what may be shown of a secret URL
// (no user, path or query).
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(not a URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}
