package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

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
	// Egress is set when the URL was set over the network (the API or the
	// web UI): each address dialled is checked against it, as a monitor's
	// are (internal/egress), and the environment's proxy is not used, since
	// the policy holds on the address dialled and a proxy would dial for
	// us. Resolver resolves the URL's host (nil: the system's).
	Egress   *egress.Policy
	Resolver *net.Resolver
}

// webhookTimeout bounds one delivery, every redirect and retry of the
// transport included.
const webhookTimeout = 15 * time.Second

// client is a delivery's HTTP client. Redirects are not followed: a 301,
// 302 or 303 would turn the POST into a GET without its body, so the alert
// would be lost while the receiver answered 200; and a redirect is where
// a URL checked when saved would lead somewhere else. A 3xx is a
// permanent failure that says to set the URL it points to.
func (w *Webhook) client() *http.Client {
	tr := &http.Transport{
		DialContext:            w.Egress.DialContext(w.Resolver),
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  webhookTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		DisableKeepAlives:      true, // one request; no idle connection left behind
	}
	if w.Egress == nil {
		tr.Proxy = http.ProxyFromEnvironment // the operator's, as before
	}
	return &http.Client{Timeout: webhookTimeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// GenericPayload is the JSON of a generic webhook (SPEC.md §8).
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
}

// GenericError is the error of a generic payload.
type GenericError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Payload returns the body the webhook posts for ev.
func (w *Webhook) Payload(ev Event) ([]byte, error) {
	switch w.Format {
	case "", FormatGeneric:
		return json.Marshal(GenericPayload{
			ID: ev.ID, Event: ev.Kind, Monitor: ev.Monitor, Device: ev.Device, Type: ev.Type, State: ev.State,
			Error: GenericError{Code: ev.Code, Message: ev.Message}, Detail: ev.Detail,
			RTTMS: float64(ev.RTT.Microseconds()) / 1e3, Time: ev.Time.UTC().Format(time.RFC3339), URL: ev.URL, LateResend: ev.Late,
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return &Permanent{Err: fmt.Errorf("webhook %s: not a URL", Origin(w.URL))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mailmon")
	if ev.ID != "" {
		req.Header.Set("Idempotency-Key", ev.ID)
	}
	resp, err := w.client().Do(req)
	if errors.Is(err, egress.ErrRefused) {
		return &Permanent{Err: w.redact(err)} // the policy will refuse it again
	}
	if err != nil {
		return w.redact(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		to := ""
		if loc, err := resp.Location(); err == nil {
			to = " (to " + Origin(loc.String()) + "/…)"
		}
		return &Permanent{Err: fmt.Errorf("webhook answered %s%s: redirects are not followed; set the URL it points to", resp.Status, to)}
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return &Permanent{Err: fmt.Errorf("webhook answered %s", resp.Status)}
	}
	return fmt.Errorf("webhook answered %s", resp.Status)
}

// redact keeps the URL out of a failed request's error: net/http quotes
// it (Post "https://hooks.example.com/services/T0/B0/secret": …), and the
// error is logged and stored in the alert log.
func (w *Webhook) redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: Origin(w.URL) + "/…", Err: ue.Err}
	}
	return fmt.Errorf("webhook %s/…: %w", Origin(w.URL), err)
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
