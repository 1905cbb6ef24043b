package graphprobe

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/mailmon/mailmon/internal/mail/graph"
	"github.com/mailmon/mailmon/internal/oauth/endpoint"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// OpenGraph fetches the test's token (the "auth" phase) and returns a
// Microsoft Graph client for cfg's host: https, through the egress policy
// when the target was set over the network, the monitor's CA trusted
// besides the system's. Graph's throttling waits are noted in the
// transcript.
func OpenGraph(ctx context.Context, cfg *probe.Config, t *probe.Trace) (*graph.Client, error) {
	var c *graph.Client
	err := t.Step("auth", func() error {
		cr, err := probe.Credentials(ctx, cfg, t)
		if err != nil {
			return err
		}
		hc, err := endpoint.HTTPClient(cfg.Egress, cfg.CAFile)
		if err != nil {
			return &probe.ConfigError{Errs: []probe.FieldError{{Field: "ca", Msg: err.Error()}}}
		}
		host := cfg.Host
		if cfg.Port != 443 {
			host = net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
		} else if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			host = "[" + host + "]"
		}
		c = &graph.Client{Base: "https://" + host + "/v1.0", HTTP: hc, Token: cr.Token,
			Throttled: func(d time.Duration) {
				t.Transcript.Note("Graph throttled the test: waiting " + d.String() + " (Retry-After)")
			}}
		t.Transcript.Note("Graph at " + c.Base + " as " + cfg.User)
		t.SetAuth("bearer")
		return nil
	})
	return c, err
}

// GraphError classifies a Graph failure: the token or its rights refused
// (401, 403) is auth_failed, a wait past the deadline timeout, any other
// answer service_error; a network failure keeps its own code.
func GraphError(err error) error {
	var ge *graph.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, graph.ErrThrottledPastDeadline):
		return &probe.CodeError{Code: probe.Timeout, Err: err}
	case errors.As(err, &ge) && ge.Auth():
		return &wire.AuthError{Reply: ge.Error()}
	case errors.As(err, &ge):
		return &wire.ServerError{Reply: ge.Error(), Temporary: ge.Status >= 500 || ge.Throttled()}
	}
	return err
}
