package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
	"github.com/nicholas-fedor/shoutrrr/pkg/services/chat/discord"
	"github.com/nicholas-fedor/shoutrrr/pkg/services/chat/mattermost"
	"github.com/nicholas-fedor/shoutrrr/pkg/services/chat/rocketchat"
	"github.com/nicholas-fedor/shoutrrr/pkg/services/push/gotify"
	"github.com/nicholas-fedor/shoutrrr/pkg/services/push/ntfy"
	"github.com/nicholas-fedor/shoutrrr/pkg/services/push/pushover"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
)

// Channel sends events to a notification service by its URL
// (config.ChannelServices), through github.com/nicholas-fedor/shoutrrr.
// The library has no context and each service its own HTTP client; mailmon
// replaces that client with the poster's (guard), so that every request
// is held to the egress policy, to the notification's context and one
// deadline, follows no redirect and reads at most maxAnswer of an answer.
// The URL is a secret: errors are redacted (config.RedactChannelURL).
type Channel struct {
	URL string
	poster
}

// Notify sends the event.
func (c *Channel) Notify(ctx context.Context, ev Event) error {
	if s := config.ChannelService(c.URL); !slices.Contains(config.ChannelServices, s) {
		// Some services dial as they start (Matrix logs in): not one of
		// those mailmon cannot guard.
		return &Permanent{Err: fmt.Errorf("the service %q is not offered by mailmon (one of %s)", s, strings.Join(config.ChannelServices, ", "))}
	}
	r, err := router.New(nil) // its services log nowhere: their logs quote URLs
	if err != nil {
		return err
	}
	svc, err := r.Locate(c.URL)
	if err != nil {
		return &Permanent{Err: c.redact(err)}
	}
	rt := &channelTransport{ctx: ctx, next: c.client().Transport}
	if err := guard(svc, &http.Client{Timeout: postTimeout, Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}); err != nil {
		return &Permanent{Err: err}
	}
	title, message, params := channelMessage(svc.GetID(), c.URL, ev)
	if title != "" {
		params.SetTitle(title)
	}
	err = svc.Send(message, &params)
	if err == nil {
		return nil
	}
	red := c.redact(err)
	switch tries, status, refused := rt.outcome(); {
	case tries == 0:
		return &Permanent{Err: red} // the service refused its settings before sending
	case errors.Is(err, egress.ErrRefused) || refused:
		return &Permanent{Err: red} // the policy will refuse it again
	case status >= 300 && status < 500 && status != http.StatusTooManyRequests:
		return &Permanent{Err: fmt.Errorf("%s answered %d %s: %w", svc.GetID(), status, http.StatusText(status), red)}
	}
	return red
}

func (c *Channel) redact(err error) error {
	return errors.New(config.RedactChannelURL(err.Error(), c.URL))
}

// guard gives service svc the HTTP client hc, or says it cannot (a
// service that is not offered).
func guard(svc types.Service, hc *http.Client) error {
	switch s := svc.(type) {
	case *ntfy.Service:
		s.SetHTTPClient(hc)
	case *gotify.Service:
		*s.GetHTTPClient() = *hc // its JSON client holds this one
	case *mattermost.Service:
		*s.GetHTTPClient() = *hc
	case *rocketchat.Service:
		s.Client = hc
	case *pushover.Service:
		s.Client = hc
	case *discord.Service:
		s.HTTPClient = hc
	default:
		return fmt.Errorf("the service %q is not offered by mailmon (one of %s)", svc.GetID(), strings.Join(config.ChannelServices, ", "))
	}
	return nil
}

// channelMessage maps the event to a service: a title where it shows one,
// the text, and its priority where it has one, unless the URL sets it.
func channelMessage(service, raw string, ev Event) (title, message string, params types.Params) {
	params = types.Params{}
	var query url.Values
	if u, err := url.Parse(raw); err == nil {
		query = u.Query()
	}
	set := func(key, value string) {
		if !query.Has(key) && value != "" {
			params[key] = value
		}
	}
	level := map[string]int{"alert": 2, "warning": 1}[ev.Kind] // 0: a recovery, a test
	pick := func(v ...string) string { return v[level] }
	title = cut(Summary(ev), 250)
	message = channelText(ev)
	switch service {
	case "ntfy":
		set("priority", pick("3", "4", "5"))
		set("tags", pick("white_check_mark", "warning", "rotating_light"))
		set("click", ev.URL)
	case "gotify":
		set("priority", pick("2", "5", "8"))
	case "pushover":
		set("priority", pick("-1", "0", "1"))
	case "mattermost", "rocketchat":
		// No title: the summary heads the text.
		message = title + "\n" + message
		title = ""
	}
	return title, message, params
}

// channelText is the text of a channel's message.
func channelText(ev Event) string {
	text := DefaultBody
	if ev.Kind == "recovery" {
		text = "{monitor} ({type}) on {device} is {state} again at {time}.\nResponse time: {rtt}\n{link}\n"
	}
	return cut(strings.TrimSpace(Expand(text, ev)), 3500)
}

// channelTransport sends a service's requests in the notification's
// context, reads at most maxAnswer of an answer and remembers what
// happened (outcome).
type channelTransport struct {
	ctx  context.Context
	next http.RoundTripper

	mu      sync.Mutex
	tries   int
	status  int
	refusal bool
}

func (t *channelTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req.WithContext(t.ctx))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tries++
	if err != nil {
		t.refusal = t.refusal || errors.Is(err, egress.ErrRefused)
		return nil, err
	}
	t.status = resp.StatusCode
	resp.Body = limitedBody{io.LimitReader(resp.Body, maxAnswer), resp.Body}
	return resp, nil
}

// outcome is how many requests were tried, the last answer's status and
// whether the policy refused a dial.
func (t *channelTransport) outcome() (tries, status int, refused bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tries, t.status, t.refusal
}

// limitedBody reads from r and closes c.
type limitedBody struct {
	io.Reader
	c io.Closer
}

func (b limitedBody) Close() error { return b.c.Close() }
