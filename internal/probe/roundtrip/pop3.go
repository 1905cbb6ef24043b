package roundtrip

import (
	"context"
	"errors"

	"github.com/mailmon/mailmon/internal/probe"
)

// pop3Mailbox reads the mailbox over POP3. (To be written.)
type pop3Mailbox struct {
	cfg *probe.Config
	t   *probe.Trace
}

func newPOP3Mailbox(cfg *probe.Config, t *probe.Trace) *pop3Mailbox {
	return &pop3Mailbox{cfg: cfg, t: t}
}

func (m *pop3Mailbox) open(ctx context.Context) error { return errors.New("not yet") }
func (m *pop3Mailbox) await(ctx context.Context, p *Probe, attempt func()) (*sighting, error) {
	return nil, errors.New("not yet")
}
func (m *pop3Mailbox) close() {}
