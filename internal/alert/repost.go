package alert

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// Re-posting firing alerts to Alertmanager. Alertmanager resolves an alert
// at its endsAt unless it is posted again, so that an alert whose source
// stopped (a daemon gone) does not fire for ever: the outbox adds, for each
// outage still failing whose last post to an Alertmanager action is older
// than Actions.Repost, a "repost" notification of the same event. It goes
// through the outbox as any other: stored (a restart loses none), retried,
// claimed by one node. Its event id is derived from the notification it
// repeats, so that the nodes of a cluster, each adding it, store it once.
// A recovery ends it (the store finds no outage to repeat) and resolves the
// alert.

// KindRepost is the alert log's kind of a re-post.
const KindRepost = "repost"

// repostCheck is how often, at most, the outbox looks for alerts to
// re-post: a quarter of the interval, so each goes out within 1.25 of it.
func (ob *Outbox) repostCheck() time.Duration { return ob.o.Actions.repost() / 4 }

// repost adds the re-posts due now, if it is time to look.
func (ob *Outbox) repost(ctx context.Context) {
	now := ob.o.Now()
	if now.Sub(ob.reposted) < ob.repostCheck() {
		return
	}
	ob.reposted = now
	due, err := ob.o.Store.FiringNotifications(ctx, "alertmanager", now.Add(-ob.o.Actions.repost()))
	if err != nil {
		ob.o.Log.Error("reading the alerts to post again failed", "err", err)
		return
	}
	var add []store.Notification
	for _, n := range due {
		var ev Event
		if err := json.Unmarshal(n.Payload, &ev); err != nil {
			continue
		}
		ev.ID, ev.Late = "repost-"+strconv.FormatInt(n.ID, 10), false
		payload, _ := json.Marshal(ev)
		add = append(add, store.Notification{EventID: ev.ID, MonitorID: n.MonitorID, AlertID: n.AlertID, Kind: KindRepost, Payload: payload, Created: now})
	}
	if len(add) == 0 {
		return
	}
	if _, err := ob.o.Store.AddNotifications(ctx, add); err != nil {
		ob.o.Log.Error("adding the alerts to post again failed", "err", err)
	}
}
