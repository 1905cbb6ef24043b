package roundtrip

import (
	"context"
	"errors"

	"github.com/mailmon/mailmon/internal/probe"
)

// imapMailbox reads the mailbox over IMAP. (To be written.)
type imapMailbox struct {
	cfg *probe.Config
	t   *probe.Trace
}

func newIMAPMailbox(cfg *probe.Config, t *probe.Trace) *imapMailbox {
	return &imapMailbox{cfg: cfg, t: t}
}

func (m *imapMailbox) open(ctx context.Context) error { return errors.New("not yet") }
func (m *imapMailbox) await(ctx context.Context, p *Probe, attempt func()) (*sighting, error) {
	return nil, errors.New("not yet")
}
func (m *imapMailbox) close() {}
