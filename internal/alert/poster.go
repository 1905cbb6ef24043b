package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/mailmon/mailmon/internal/egress"
)

// poster sends the HTTP requests of the actions that talk HTTP (webhooks,
// Alertmanager, PagerDuty, Opsgenie), each held to the same rules: one
// deadline, no redirect followed, answers read up to a size, the egress
// policy checked on every address dialled when the target was set over
// the network, and no more of a URL in an error than its origin (a
// webhook's path is its secret).
type poster struct {
	What string // "webhook", "alertmanager" …: what errors call it
	// Egress is set when the target was set over the network (the API or
	// the web UI): each address dialled is checked against it, as a
	// monitor's are (internal/egress), and the environment's proxy is not
	// used, since the policy holds on the address dialled and a proxy would
	// dial for us. Resolver resolves the URL's host (nil: the system's).
	Egress   *egress.Policy
	Resolver *net.Resolver
	// tlsConfig is the TLS of its connections (nil: Go's, with the system's
	// CAs): a test's server certificate.
	tlsConfig *tls.Config
}

// postTimeout bounds one request, every retry of the transport included;
// maxAnswer is what is read of an answer.
const (
	postTimeout = 15 * time.Second
	maxAnswer   = 1 << 20
)

// client is a request's HTTP client. Redirects are not followed: a 301,
// 302 or 303 would turn the POST into a GET without its body, so the alert
// would be lost while the receiver answered 200; and a redirect is where
// a URL checked when saved would lead somewhere else. A 3xx is a
// permanent failure that says to set the URL it points to.
func (p poster) client() *http.Client {
	tr := &http.Transport{
		DialContext:            p.Egress.DialContext(p.Resolver),
		TLSClientConfig:        p.tlsConfig,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  postTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		DisableKeepAlives:      true, // one request; no idle connection left behind
	}
	if p.Egress == nil {
		tr.Proxy = http.ProxyFromEnvironment // the operator's, as before
	}
	return &http.Client{Timeout: postTimeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send makes one request and returns the answer's body (at most
// maxAnswer). A 4xx answer but 429 is permanent; 5xx, 429 and network
// errors are worth a retry.
func (p poster) send(ctx context.Context, method, target string, hdr http.Header, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, &Permanent{Err: fmt.Errorf("%s %s: not a URL", p.What, Origin(target))}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "mailmon")
	resp, err := p.client().Do(req)
	if errors.Is(err, egress.ErrRefused) {
		return nil, &Permanent{Err: p.redact(target, err)} // the policy will refuse it again
	}
	if err != nil {
		return nil, p.redact(target, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, p.redact(target, err)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return answer, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		to := ""
		if loc, err := resp.Location(); err == nil {
			to = " (to " + Origin(loc.String()) + "/…)"
		}
		return nil, &Permanent{Err: fmt.Errorf("%s answered %s%s: redirects are not followed; set the URL it points to", p.What, resp.Status, to)}
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return nil, &Permanent{Err: fmt.Errorf("%s answered %s", p.What, resp.Status)}
	}
	return nil, fmt.Errorf("%s answered %s", p.What, resp.Status)
}

// redact keeps the URL out of a failed request's error: net/http quotes
// it (Post "https://hooks.example.com/services/T0/B0/secret": …), and the
// error is logged and stored in the alert log.
func (p poster) redact(target string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: Origin(target) + "/…", Err: ue.Err}
	}
	return fmt.Errorf("%s %s/…: %w", p.What, Origin(target), err)
}
