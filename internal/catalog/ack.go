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

// ErrOutageOver: a signed link's outage has ended (the monitor is up
// again, or down again in a later outage the link does not name).
var ErrOutageOver = errors.New("the outage this link acknowledges has ended; if the monitor is down again, that is a new outage with its own alert and link")

// SignedLinkKind is the actor kind of a signed one-click link in an alert.
const SignedLinkKind = "signed link"

// SignedLink is the actor of a signed one-click link in an alert (whose
// signature the caller checked): its bearer may acknowledge monitor's
// outage that began at since, and nothing else. recipient names whom the
// alert went to ("from alert oncall"); addr as User's.
func SignedLink(recipient string, monitor int64, since time.Time, addr string) Actor {
	return Actor{Kind: SignedLinkKind, Name: recipient, Address: hostOf(addr),
		link: &linkGrant{monitor: monitor, since: since.UTC().Truncate(time.Millisecond)}}
}

// linkGrant is what a signed link allows.
type linkGrant struct {
	monitor int64
	since   time.Time
}

// maxAckComment is the longest comment an acknowledgement keeps.
const maxAckComment = 1000

// Acknowledge records that o's actor acknowledged monitor id's current
// outage (with an optional comment): no more alerts for it; its recovery
// still notifies. It needs the role that changes monitors (editor), and
// is in the audit log. A monitor that is not Down or Lost has nothing to
// acknowledge.
//
// A signed link (SignedLink) needs no role: it acknowledges the outage it
// names, of its monitor, or nothing (ErrOutageOver).
func (c *Catalog) Acknowledge(ctx context.Context, o Origin, id int64, comment string, now time.Time) (*store.Ack, error) {
	link := o.Actor.link
	switch {
	case link != nil && link.monitor != id:
		return nil, Forbidden{"this link acknowledges another monitor"}
	case link == nil:
		if err := o.Actor.mayWrite("monitor"); err != nil {
			return nil, err
		}
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
	if link != nil && (!st.Status.State.Failing() || !link.since.Equal(st.Status.OutageStart().UTC().Truncate(time.Millisecond))) {
		return nil, ErrOutageOver
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
