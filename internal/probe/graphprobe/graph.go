// Package graphprobe is the graph monitor: a Microsoft 365 mailbox
// reached over Microsoft Graph, where IMAP and POP are switched off. It
// fetches its token (the oauth block: client credentials with
// Mail.ReadWrite), reads the inbox folder and reports its message count.
package graphprobe

import (
	"context"

	"github.com/mailmon/mailmon/internal/probe"
)

// Name is the graph monitor's type.
const Name = "graph"

// Kind is the graph monitor type. Graph is https only: the TLS mode is
// implicit (left out: so), the port 443.
func Kind() probe.Kind {
	return probe.Kind{
		Name: Name, Title: "Microsoft Graph mailbox", Seed: "Microsoft 365 mailbox monitor (Graph)",
		Summary:  "Fetches an OAuth token and reads the mailbox's inbox over Microsoft Graph.",
		Protocol: "graph", Ports: probe.Ports{Plain: 443, Implicit: 443},
		HasPort: true, KnowsTLS: true, LogsIn: true, TokenOnly: true,
		Check: Check,
		Probe: Probe,
	}
}

// Check holds a Graph test to https and a token source: Graph takes no
// password.
func Check(c *probe.Config, bad func(field, format string, args ...any)) {
	switch c.TLS {
	case probe.TLSNone, probe.TLSImplicit:
		c.TLS = probe.TLSImplicit
	default:
		bad("tls", "Graph is https: leave tls out, or implicit")
	}
	if c.OAuthToken.IsZero() {
		bad("oauth", "Graph needs a token: an oauth block (provider microsoft, tenant, client_id, client_secret) "+
			"for an application with Mail.ReadWrite and Mail.Send")
	}
	if c.Password != "" {
		bad("password", "Graph takes no password: it logs in with the oauth block's token")
	}
}

// Probe is the graph monitor: the token, then the inbox.
func Probe(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	c, err := OpenGraph(ctx, cfg, t)
	if err != nil {
		return err
	}
	return t.Step("inbox", func() error {
		n, err := c.Folder(ctx, cfg.User, "inbox")
		if err != nil {
			return GraphError(err)
		}
		t.Detail("inbox_messages", n)
		return nil
	})
}
