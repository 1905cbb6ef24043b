package catalog

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// ErrNothingToAck: the monitor is not Down or Lost.
var ErrNothingToAck = errors.New("the monitor is not down: there is no outage to acknowledge")

// maxAckComment is the longest comment an acknowledgement keeps.
const maxAckComment = 1000

// Acknowledge records that o's actor acknowledged monitor id's current
// outage (with an optional comment): no more alerts for it; its recovery
// still notifies. It needs the role that changes monitors (editor), and
// is in the audit log. A monitor that is not Down or Lost has nothing to
// acknowledge.
func (c *Catalog) Acknowledge(ctx context.Context, o Origin, id int64, comment string, now time.Time) (*store.Ack, error) {
	if err := o.Actor.mayWrite("monitor"); err != nil {
		return nil, err
	}
	m, err := c.Store.Monitor(ctx, id)
	if err != nil {
		return nil, err
	}
	by := strings.TrimSpace(o.Actor.Kind + " " + o.Actor.Name)
	st, err := c.Store.Status(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNothingToAck
	}
	if err != nil {
		return nil, err
	}
	if !st.Status.State.Failing() {
		return nil, ErrNothingToAck
	}
	comment = strings.TrimSpace(comment)
	if len(comment) > maxAckComment || strings.ContainsFunc(comment, func(r rune) bool { return r < ' ' && r != '\n' }) {
		return nil, FieldErrors{{Path: "comment", Msg: "is at most 1000 characters of text"}}
	}
	a := store.Ack{MonitorID: id, Since: st.Status.Since.UTC().Truncate(time.Millisecond), By: by, At: now.UTC().Truncate(time.Millisecond), Comment: comment}
	if err := c.Store.PutAck(ctx, a); err != nil {
		return nil, err
	}
	// The acknowledgement is its own table's, outside the configuration's
	// transactions: its entry follows it.
	err = c.batch(ctx, func(tx store.Config) error {
		name := m.Name
		if d, err := tx.Device(ctx, m.DeviceID); err == nil {
			name = d.Name + "/" + m.Name
		}
		ch := Change{Kind: "monitor", Name: name, Action: "acknowledged", ID: id}
		after := snapshot{fields: map[string]string{"ack.since": a.Since.Format(time.RFC3339), "ack.comment": comment}}
		return audit(ctx, tx, o, ch, snapshot{}, after)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// Ack is the acknowledgement of monitor id's current outage, if any (nil:
// none, or one of an earlier outage).
func (c *Catalog) Ack(ctx context.Context, id int64, st *store.Status) *store.Ack {
	if st == nil || !st.Status.State.Failing() {
		return nil
	}
	a, err := c.Store.AckOf(ctx, id)
	if err != nil || !a.Covers(st.Status) {
		return nil
	}
	return a
}
