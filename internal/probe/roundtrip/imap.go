package roundtrip

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/mail/imap"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/imapprobe"
	"github.com/mailmon/mailmon/internal/wire"
)

// imapMailbox reads the mailbox over IMAP: SELECT INBOX, sweep stale
// probes, then wait for the probe with IDLE where the server offers it
// (polling otherwise), looking into the junk folder too, and delete exactly
// the probe with \Deleted + UID EXPUNGE.
type imapMailbox struct {
	cfg *probe.Config
	t   *probe.Trace
	// noIdle polls even where the server offers IDLE (the benchmark
	// compares the two); it is also set when a server refuses IDLE.
	noIdle bool
	// sprint is how long after the probe was sent the mailbox is polled
	// every imapSprintPause before idling or polling at leisure; 0: never.
	sprint time.Duration

	s       *imapprobe.Session
	broken  bool          // the session is out of step: no LOGOUT
	rtt     time.Duration // the slowest SELECT: what a command may take
	inbox   bool          // INBOX is selected: the news is about it
	arr     imapArrivals  // when INBOX grew to how many messages
	dirty   bool          // INBOX may have changed since it was last searched
	junk    string        // the junk folder; "" if none was found
	junkUID uint32        // the junk folder's UIDNEXT when it was last looked into
	ignore  map[uint32]bool
	flagged int // messages flagged \Deleted that could not be expunged
}

func newIMAPMailbox(cfg *probe.Config, t *probe.Trace) *imapMailbox {
	return &imapMailbox{cfg: cfg, t: t, sprint: imapSprintFor, ignore: map[uint32]bool{}}
}

const (
	// imapMaxLiteral is the largest header block the mailbox leg reads.
	imapMaxLiteral = 1 << 20
	// imapSweepMax bounds the stamped messages one sweep reads the header
	// fields of, the oldest first (a sweep costs a few round trips even in
	// a mailbox where another installation's probes pile up).
	imapSweepMax = 100
	// imapFetchBatch is how many header blocks one UID FETCH asks for.
	imapFetchBatch = 25
	// imapFirstPoll is the first pause of polling; it doubles up to
	// PollInterval.
	imapFirstPoll = 100 * time.Millisecond
	// Right after the probe is sent, when it most likely arrives, the
	// mailbox is polled with NOOP every imapSprintPause for imapSprintFor, and
	// searched only when it grew. IDLE alone would date the arrival late
	// where the server is slow to tell: Dovecot holds back IDLE news for
	// 500 ms after a change (NOTIFY_DELAY_MSECS), and a monitor that
	// reports delivery times must not add half a second to each.
	imapSprintFor   = 1500 * time.Millisecond
	imapSprintPause = 20 * time.Millisecond
)

// imapProbeFields are the header fields Inspect reads: only these are fetched,
// so nothing else of a message that merely looks like a probe is read.
var imapProbeFields = []string{"Subject", Header, "Authentication-Results"}

// imapJunkNames are the junk folder's usual names, for a server that does not
// mark it \Junk (RFC 6154); "/" stands for the server's delimiter.
var imapJunkNames = []string{"Junk", "Spam", "Junk E-mail", "Junk Email", "INBOX/Junk", "INBOX/Spam", "[Gmail]/Spam"}

func (m *imapMailbox) open(ctx context.Context) error {
	s, err := imapprobe.OpenWith(ctx, m.cfg, m.t, imap.Options{MaxLiteral: imapMaxLiteral})
	if err != nil {
		return err
	}
	m.s = s
	s.Client.Watch(m.watch)
	m.t.Detail("idle", m.idle())
	err = m.t.Step("select", m.selectInbox)
	if err == nil {
		err = m.t.Step("sweep", m.sweep)
	}
	if err == nil {
		err = m.t.Step("junk_folder", m.findJunk)
	}
	if err != nil {
		if probe.Polite(err) {
			s.Client.Logout()
		}
		s.Close()
		m.s = nil
	}
	return err
}

func (m *imapMailbox) idle() bool {
	cl := m.s.Client
	return !m.noIdle && (cl.Has("IDLE") || cl.Has("IMAP4rev2"))
}

// selectInbox opens INBOX read-write (the probe is deleted there) and
// starts following its news afresh.
func (m *imapMailbox) selectInbox() error {
	m.inbox = false
	start := m.t.Now()
	mb, err := m.s.Client.Select("INBOX")
	if err != nil {
		return err
	}
	if mb.ReadOnly {
		return &probe.CodeError{Code: probe.ServiceError, Err: errors.New("INBOX opens read-only: the probe could not be deleted")}
	}
	now := m.t.Now()
	m.rtt = max(m.rtt, now.Sub(start))
	m.arr.reset(mb.Exists, now)
	m.dirty, m.inbox = true, true
	return nil
}

// watch follows INBOX's news as it arrives with any command, IDLE included
// (then on IDLE's reading goroutine).
func (m *imapMailbox) watch(r *imap.Response) {
	if m.inbox && m.arr.observe(r, m.t.Now()) {
		m.dirty = true
	}
}

// sweep deletes the probes of this installation that earlier runs left
// behind: stamped, verified under this installation's secret, and created
// longer ago than StaleAfter. Nothing else is touched, and only headers are
// read.
func (m *imapMailbox) sweep() error {
	// Only this installation's probes are searched for (their stamp names
	// it), so other installations' cannot crowd ours out of the window.
	// The stamp's creation time, not the arrival date (OLDER, RFC 5032),
	// decides: a probe delivered late is stale all the same.
	uids, err := m.s.Client.UIDSearch(imap.Atom("HEADER"), imap.String(Header), imap.String("v1 "+InstallationID(m.cfg.InstallationKey)))
	if err != nil {
		return err
	}
	slices.Sort(uids)
	uids = uids[:min(len(uids), imapSweepMax)]
	hs, err := m.fetchHeaders(uids)
	if err != nil {
		return err
	}
	var stale []uint32
	now := m.t.Now()
	for _, h := range hs {
		if f, err := Inspect(m.cfg.InstallationKey, h.Raw); err == nil && now.Sub(f.Created) > m.cfg.StaleAfter {
			stale = append(stale, h.UID)
		}
	}
	n, err := m.remove(stale)
	m.t.Detail("swept", n)
	return err
}

// fetchHeaders fetches the probe fields of the messages uids, in batches,
// keeping message content out of the transcript.
func (m *imapMailbox) fetchHeaders(uids []uint32) ([]imap.Header, error) {
	resume := m.s.Conn.Quiet()
	defer resume()
	var out []imap.Header
	for len(uids) > 0 {
		n := min(len(uids), imapFetchBatch)
		hs, err := m.s.Client.UIDFetchHeader(uids[:n], imapProbeFields...)
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
		uids = uids[n:]
	}
	return out, nil
}

// remove deletes exactly the messages uids of the selected mailbox and
// returns how many it expunged: \Deleted, then UID EXPUNGE of those UIDs.
// Without UIDPLUS there is only EXPUNGE, which removes every message
// flagged \Deleted, whoever flagged it: it is sent only when no other
// message is; otherwise the messages stay flagged, and the result says so.
func (m *imapMailbox) remove(uids []uint32) (int, error) {
	if len(uids) == 0 {
		return 0, nil
	}
	cl := m.s.Client
	if err := cl.UIDStore(uids, "+FLAGS.SILENT", `\Deleted`); err != nil {
		return 0, err
	}
	if cl.Has("UIDPLUS") || cl.Has("IMAP4rev2") {
		return len(uids), cl.UIDExpunge(uids)
	}
	deleted, err := cl.UIDSearch(imap.Atom("DELETED"))
	if err != nil {
		return 0, err
	}
	if slices.ContainsFunc(deleted, func(u uint32) bool { return !slices.Contains(uids, u) }) {
		m.flagged += len(uids)
		m.t.Detail("left_flagged_deleted", m.flagged)
		m.t.Transcript.Note(fmt.Sprintf("%d probe message(s) left flagged \\Deleted: the server lacks UIDPLUS and EXPUNGE would also remove other messages flagged \\Deleted", len(uids)))
		return 0, nil
	}
	return len(uids), cl.Expunge()
}

// findJunk finds the junk folder: the mailbox marked \Junk (RFC 6154), or
// one of the usual names, and notes its UIDNEXT, so that a look into it
// costs one STATUS until something arrives there. A server that refuses
// LIST or STATUS there leaves the round trip without a junk folder, not
// failed.
func (m *imapMailbox) findJunk() error {
	cl := m.s.Client
	name, err := "", error(nil)
	if (cl.Has("SPECIAL-USE") && cl.Has("LIST-EXTENDED")) || cl.Has("IMAP4rev2") {
		var items []imap.ListItem
		items, err = cl.List("", "*", []string{"SPECIAL-USE"}, nil)
		name = imapPickJunk(items, false)
	}
	if name == "" && imapRefusal(err, cl) == nil {
		var items []imap.ListItem
		items, err = cl.List("", "*", nil, nil)
		name = imapPickJunk(items, true)
	}
	if err = imapRefusal(err, cl); err != nil || name == "" {
		return err
	}
	st, err := cl.Status(name)
	if err != nil {
		return imapRefusal(err, cl)
	}
	m.junk, m.junkUID = name, st.UIDNext
	m.t.Detail("junk_folder", wire.Truncate(wire.Sanitize(name), 64))
	return nil
}

// imapPickJunk picks the junk folder from a LIST: \Junk first, then (byName)
// the usual names in their order.
func imapPickJunk(items []imap.ListItem, byName bool) string {
	usable := func(l imap.ListItem) bool {
		return !l.HasAttr(`\Noselect`) && !l.HasAttr(`\NonExistent`) && !strings.EqualFold(l.Name, "INBOX")
	}
	for _, l := range items {
		if usable(l) && l.HasAttr(`\Junk`) {
			return l.Name
		}
	}
	if !byName {
		return ""
	}
	for _, want := range imapJunkNames {
		for _, l := range items {
			name := l.Name
			if l.Delim != "" {
				name = strings.ReplaceAll(name, l.Delim, "/")
			}
			if usable(l) && strings.EqualFold(name, want) {
				return l.Name
			}
		}
	}
	return ""
}

// imapRefusal forgives the server's refusal (NO, BAD) of an optional command:
// nil for it, err for anything else, a BYE included.
func imapRefusal(err error, cl *imap.Client) error {
	var se *wire.ServerError
	if errors.As(err, &se) && cl.Bye() == nil {
		return nil
	}
	return err
}

// look is where a look into the mailbox found messages stamped with the
// probe's nonce.
type imapLook struct {
	uids   []uint32
	at     time.Time // when the look saw them
	folder string
	junk   bool
}

func (m *imapMailbox) await(ctx context.Context, p *Probe, attempt func()) (*sighting, error) {
	for {
		var l *imapLook
		err := m.t.Step("wait", func() (err error) {
			l, err = m.wait(ctx, p, attempt)
			return err
		})
		if err != nil {
			m.fail(err)
			return nil, err
		}
		s, err := m.take(p, l)
		if err != nil {
			m.fail(err)
			return nil, err
		}
		if s != nil {
			return s, nil
		}
	}
}

// wait looks for the probe until a look finds a candidate or the time is
// up. Right after the probe was sent it sprints (NOOP every imapSprintPause,
// searching when INBOX grew); then it idles (IDLE, woken by INBOX's growth,
// for at most PollInterval, so that the junk folder is looked into too) or
// polls (NOOP after a pause that doubles from imapFirstPoll to PollInterval).
// It stops early enough to leave IDLE and log out before the test's
// deadline.
func (m *imapMailbox) wait(ctx context.Context, p *Probe, attempt func()) (*imapLook, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = m.t.Now().Add(DefaultTimeout)
	}
	sprintEnd := m.t.Now().Add(m.sprint)
	pause := imapFirstPoll
	full := true // a look into INBOX and the junk folder, not a glance during the sprint
	// The sprint's dozens of NOOPs are left out of the transcript.
	var resume func()
	if m.sprint > 0 {
		resume = m.s.Conn.QuietAll()
	}
	loud := func() {
		if resume != nil {
			resume()
			resume = nil
		}
	}
	defer loud()
	for {
		if !m.t.Now().Before(sprintEnd) {
			loud()
		}
		if full || m.dirty {
			attempt()
		}
		if l, err := m.look(p, full); err != nil || l != nil {
			return l, err
		}
		now := m.t.Now()
		left := deadline.Sub(now) - m.reserve()
		if left <= 0 {
			return nil, &probe.CodeError{Code: probe.NotDelivered,
				Err: errors.New("the probe did not arrive (the wait ended in time to log out before the test's deadline)")}
		}
		full = true
		switch {
		case now.Before(sprintEnd):
			if err := sleep(ctx, min(imapSprintPause, left)); err != nil {
				return nil, err
			}
			full = !m.t.Now().Before(sprintEnd)
		case m.dirty:
			continue // news came with the last look: look again at once
		case m.idle():
			// The sprint can end during a look: IDLE's few lines are on
			// record, read on IDLE's own goroutine while DONE is written.
			loud()
			err := m.s.Client.Idle(min(m.cfg.PollInterval, left), func(*imap.Response) bool { return m.dirty })
			if err != nil && imapRefusal(err, m.s.Client) == nil {
				m.noIdle = true // refused: poll from now on
				m.t.Detail("idle", false)
				m.t.Transcript.Note("IDLE refused: polling instead")
			} else if err != nil {
				return nil, err
			}
			continue
		default:
			if err := sleep(ctx, min(pause, left)); err != nil {
				return nil, err
			}
			pause = min(2*pause, m.cfg.PollInterval)
		}
		if err := m.s.Client.Noop(); err != nil {
			return nil, err
		}
	}
}

// reserve is the time kept at the end of the test for the last look and
// LOGOUT: a few round trips, at least 100 ms.
func (m *imapMailbox) reserve() time.Duration {
	return min(max(6*m.rtt, 100*time.Millisecond), 2*time.Second)
}

// look searches INBOX for the probe's nonce and, if it is not there, the
// junk folder. A glance (full false) searches only if INBOX grew, and
// leaves the junk folder alone.
func (m *imapMailbox) look(p *Probe, full bool) (*imapLook, error) {
	if full || m.dirty {
		m.dirty = false
		uids, err := m.s.Client.UIDSearch(imap.Atom("HEADER"), imap.String(Header), imap.String(p.Nonce))
		if err != nil {
			return nil, err
		}
		at := m.t.Now()
		uids = slices.DeleteFunc(uids, func(u uint32) bool { return m.ignore[u] })
		if len(uids) > 0 {
			return &imapLook{uids: uids, at: at, folder: "INBOX"}, nil
		}
	}
	if !full || m.junk == "" {
		return nil, nil
	}
	return m.lookJunk(p)
}

// lookJunk looks into the junk folder when its UIDNEXT says something
// arrived there since the last look: EXAMINE (read-only), search, and back
// to INBOX, or, when the probe is there, SELECT it read-write to delete it.
func (m *imapMailbox) lookJunk(p *Probe) (*imapLook, error) {
	cl := m.s.Client
	st, err := cl.Status(m.junk)
	if err != nil {
		return nil, m.dropJunk(err)
	}
	at := m.t.Now()
	if st.UIDNext != 0 && st.UIDNext == m.junkUID {
		return nil, nil
	}
	m.inbox = false
	if _, err := cl.Examine(m.junk); err != nil {
		if err := m.dropJunk(err); err != nil {
			return nil, err
		}
		return nil, m.selectInbox()
	}
	uids, err := cl.UIDSearch(imap.Atom("HEADER"), imap.String(Header), imap.String(p.Nonce))
	if err != nil {
		return nil, err
	}
	m.junkUID = st.UIDNext
	if len(uids) == 0 {
		return nil, m.selectInbox()
	}
	if _, err := cl.Select(m.junk); err != nil {
		return nil, err
	}
	return &imapLook{uids: uids, at: at, folder: m.junk, junk: true}, nil
}

// dropJunk gives up the junk folder after the server refused a command
// about it; anything but a refusal is returned.
func (m *imapMailbox) dropJunk(err error) error {
	if err = imapRefusal(err, m.s.Client); err == nil {
		m.t.Transcript.Note("the junk folder " + m.junk + " is not looked into any more")
		m.junk = ""
	}
	return err
}

// take verifies the candidates of a look and deletes those that are this
// run's probe; nil when none is (the wait goes on).
func (m *imapMailbox) take(p *Probe, l *imapLook) (*sighting, error) {
	var mine []uint32
	var found *Found
	seen := l.at
	err := m.t.Step("fetch", func() error {
		hs, err := m.fetchHeaders(l.uids)
		if err != nil {
			return err
		}
		for _, h := range hs {
			f, err := Inspect(m.cfg.InstallationKey, h.Raw)
			if err != nil || f.Nonce != p.Nonce {
				if !l.junk {
					m.ignore[h.UID] = true
				}
				continue
			}
			mine = append(mine, h.UID)
			if found == nil {
				found = f
			}
			if at, ok := m.arr.shown(h.Seq); ok && !l.junk && at.Before(seen) {
				seen = at
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(mine) == 0 {
		if l.junk {
			return nil, m.t.Step("select", m.selectInbox)
		}
		return nil, nil
	}
	if err := m.t.Step("delete", func() error {
		_, err := m.remove(mine)
		return err
	}); err != nil {
		return nil, err
	}
	s := &sighting{Seen: seen, Found: found}
	if l.junk {
		s.Folder, s.Junk = wire.Truncate(wire.Sanitize(l.folder), 64), true
	}
	return s, nil
}

// fail notes whether an error left the session out of step. The wait's
// own end (not_delivered before the deadline) leaves it usable.
func (m *imapMailbox) fail(err error) {
	var ce *probe.CodeError
	if errors.As(err, &ce) && ce.Code == probe.NotDelivered {
		return
	}
	if !probe.Polite(err) {
		m.broken = true
	}
}

func (m *imapMailbox) close() {
	if m.s == nil {
		return
	}
	if !m.broken && m.t.Context().Err() == nil {
		m.t.Step("quit", m.s.Client.Logout)
	}
	m.s.Close()
	m.s = nil
}

// imapArrivals remembers when the selected mailbox grew to how many messages,
// so that a message found later is dated by the EXISTS that first counted
// it: with IDLE, the moment the server announced it, not the later search.
type imapArrivals struct {
	exists uint32
	log    []imapArrival
}

type imapArrival struct {
	n  uint32 // messages in the mailbox from then on, renumbered by later expunges
	at time.Time
}

// imapMaxArrivals bounds the log of a very busy mailbox.
const imapMaxArrivals = 1024

func (a *imapArrivals) reset(n uint32, at time.Time) {
	a.exists = n
	a.log = append(a.log[:0], imapArrival{n, at})
}

// observe takes an untagged response and reports whether the mailbox grew.
func (a *imapArrivals) observe(r *imap.Response, at time.Time) bool {
	n, ok := r.Number()
	if !ok {
		return false
	}
	switch r.Name() {
	case "EXISTS":
		grew := n > a.exists
		a.exists = n
		if grew {
			if len(a.log) >= imapMaxArrivals {
				a.log = slices.Delete(a.log, 1, 2) // the oldest news; the first entry is the baseline
			}
			a.log = append(a.log, imapArrival{n, at})
		}
		return grew
	case "EXPUNGE":
		if n == 0 {
			return false
		}
		a.exists = max(a.exists, 1) - 1
		// Message n is gone: every count that included it is one less, in
		// today's numbering (messages only ever join at the end).
		for i := range a.log {
			if n <= a.log[i].n {
				a.log[i].n--
			}
		}
	}
	return false
}

// shown returns when the mailbox first counted message seq (in today's
// numbering).
func (a *imapArrivals) shown(seq uint32) (time.Time, bool) {
	for _, e := range a.log {
		if e.n >= seq {
			return e.at, true
		}
	}
	return time.Time{}, false
}
