// Package tcpprobe tests that a port accepts connections and, optionally,
// that its banner says what it should: the dependency monitor of docs/monitors.md.
package tcpprobe

import (
	"context"
	"strings"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// Probe is the tcp monitor: connect (with TLS in implicit mode), read the
// banner when one is expected, close.
func Probe(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	if cfg.TLS == probe.TLSStartTLS || cfg.TLS == probe.TLSOptional {
		return &probe.ConfigError{Errs: []probe.FieldError{{Field: "tls", Msg: "a tcp check knows no STARTTLS; use none or implicit"}}}
	}
	c, err := probe.Connect(ctx, cfg, t)
	if err != nil {
		return err
	}
	defer c.Close()
	if cfg.Expect == "" {
		return nil
	}
	return t.Step("greeting", func() error {
		line, err := c.ReadLine()
		if err != nil {
			return err
		}
		found := strings.Contains(wire.Sanitize(line), cfg.Expect)
		if cfg.Egress != nil {
			// Configured over the network: the caller learns whether the
			// text was there and how much came, never the banner (see
			// probe/network.go).
			t.Detail("banner_bytes", len(line))
			t.Detail("expect_found", found)
			if !found {
				return wire.Violation("the banner (%d bytes) does not contain %q", len(line), cfg.Expect)
			}
			return nil
		}
		line = wire.Sanitize(line)
		t.Detail("greeting", line)
		if !found {
			return wire.Violation("banner %q does not contain %q", wire.Truncate(line, 200), cfg.Expect)
		}
		return nil
	})
}
