package roundtrip

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/mail/graph"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/graphprobe"
)

// graphMailbox reads the probe's mailbox over Microsoft Graph: the inbox
// and the Junk Email folder, searched by the probe's subject ($filter),
// each candidate verified by the HMAC of its X-Mailmon-Probe header
// (internetMessageHeaders) before it is deleted by its id. Delivery is
// measured as over IMAP: from the SMTP server's (or sendMail's)
// acceptance to the look that first showed the probe.
type graphMailbox struct {
	cfg *probe.Config
	t   *probe.Trace
	c   *graph.Client
}

// The folders looked into, by their well-known names.
const (
	graphInbox = "inbox"
	graphJunk  = "junkemail"
)

func newGraphMailbox(cfg *probe.Config, t *probe.Trace) *graphMailbox {
	return &graphMailbox{cfg: cfg, t: t}
}

// ProbeGraph is the graph-roundtrip monitor.
func ProbeGraph(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	return run(ctx, cfg, t, newGraphMailbox(cfg, t))
}

// graphQuote quotes s as an OData string literal.
func graphQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (m *graphMailbox) open(ctx context.Context) error {
	c, err := graphprobe.OpenGraph(ctx, m.cfg, m.t)
	if err != nil {
		return err
	}
	m.c = c
	return m.t.Step("sweep", func() error { return graphprobe.GraphError(m.sweep(ctx)) })
}

// sweep deletes this installation's probes that earlier runs left behind,
// verified and older than StaleAfter; nothing else is touched.
func (m *graphMailbox) sweep(ctx context.Context) error {
	n := 0
	for _, folder := range []string{graphInbox, graphJunk} {
		msgs, err := m.c.Messages(ctx, m.cfg.User, folder, "startswith(subject,"+graphQuote(subjectPrefix)+")")
		if err != nil {
			return err
		}
		now := m.t.Now()
		for _, msg := range msgs {
			f, err := Inspect(m.cfg.InstallationKey, msg.HeaderBlock())
			if err != nil || now.Sub(f.Created) <= m.cfg.StaleAfter {
				continue
			}
			if err := m.c.Delete(ctx, m.cfg.User, msg.ID); err != nil {
				return err
			}
			n++
		}
	}
	m.t.Detail("swept", n)
	return nil
}

// send hands the probe to Graph's sendMail, when the round trip has no
// SMTP leg; Graph's 202 is the acceptance delivery counts from.
func (m *graphMailbox) send(ctx context.Context, p *Probe) (time.Time, error) {
	var accepted time.Time
	err := m.t.Step("send", func() error {
		m.t.Transcript.Note("Graph: sendMail as " + m.cfg.User)
		err := m.c.SendMail(ctx, m.cfg.User, p.Raw)
		accepted = m.t.Now()
		if ge := graphprobe.GraphError(err); ge != err {
			return &probe.CodeError{Code: probe.SendRejected, Err: ge}
		}
		return err
	})
	return accepted, err
}

func (m *graphMailbox) await(ctx context.Context, p *Probe, attempt func()) (*sighting, error) {
	var s *sighting
	err := m.t.Step("wait", func() error {
		pause := min(500*time.Millisecond, m.cfg.PollInterval)
		for {
			attempt()
			found, err := m.look(ctx, p)
			if err != nil {
				return graphprobe.GraphError(err)
			}
			if found != nil {
				s = found
				return nil
			}
			if err := sleep(ctx, pause); err != nil {
				return err
			}
			pause = min(2*pause, m.cfg.PollInterval)
		}
	})
	return s, err
}

// look searches both folders for the probe by its subject; a match is
// verified by its stamp, then deleted by id.
func (m *graphMailbox) look(ctx context.Context, p *Probe) (*sighting, error) {
	for _, folder := range []string{graphInbox, graphJunk} {
		msgs, err := m.c.Messages(ctx, m.cfg.User, folder, "subject eq "+graphQuote(p.Subject))
		if err != nil {
			return nil, err
		}
		at := m.t.Now()
		for _, msg := range msgs {
			f, err := Inspect(m.cfg.InstallationKey, msg.HeaderBlock())
			if err != nil || f.Nonce != p.Nonce {
				continue // a look-alike, or another installation's: left alone
			}
			if err := m.t.Step("delete", func() error { return m.c.Delete(ctx, m.cfg.User, msg.ID) }); err != nil {
				return nil, fmt.Errorf("deleting the probe: %w", err)
			}
			s := &sighting{Seen: at, Found: f}
			if folder == graphJunk {
				s.Folder, s.Junk = "Junk Email", true
			}
			return s, nil
		}
	}
	return nil, nil
}

func (m *graphMailbox) close() {}
