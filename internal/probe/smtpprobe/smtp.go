// Package smtpprobe tests an SMTP service: greeting, EHLO, STARTTLS, AUTH,
// QUIT (docs/monitors.md).
package smtpprobe

import (
	"context"

	"github.com/mailmon/mailmon/internal/probe"
)

// Probe is the smtp monitor: the session probe.OpenSMTP opens (which the
// round trip's SMTP leg and the e-mail alert share), ended with QUIT.
func Probe(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	s, err := probe.OpenSMTP(ctx, cfg, t)
	if err != nil {
		return err
	}
	defer s.Close()
	return t.Step("quit", s.Client.Quit)
}
