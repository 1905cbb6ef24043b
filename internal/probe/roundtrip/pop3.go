package roundtrip

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/mail/pop3"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/pop3probe"
	"github.com/mailmon/mailmon/internal/wire"
)

const (
	// pop3Window is how many of the newest messages a look reads: a probe
	// lands at the end of the maildrop, and older mail is none of our
	// business.
	pop3Window = 100
	// pop3BigDrop is the maildrop size above which a look asks UIDL for each
	// message of the window instead of one listing of all of them.
	pop3BigDrop = 1000
	// pop3FirstPause is the wait after the first look; it doubles up to
	// Config.PollInterval.
	pop3FirstPause = 150 * time.Millisecond
)

// pop3Mailbox reads the mailbox over POP3. A POP3 session shows the maildrop
// as it was at login, so every look is a session of its own: log in, list
// the last messages, read the headers (TOP n 0, never RETR) of those not
// seen before, QUIT.
type pop3Mailbox struct {
	cfg *probe.Config
	t   *probe.Trace

	sess  *pop3probe.Session // the session in progress, if any
	known map[string]bool    // UIDs read and left alone: later looks skip them
	swept int                // stale probes deleted
}

func newPOP3Mailbox(cfg *probe.Config, t *probe.Trace) *pop3Mailbox {
	return &pop3Mailbox{cfg: cfg, t: t, known: map[string]bool{}}
}

// pop3Msg is a message of one session.
type pop3Msg struct {
	id     int
	uid    string    // "" when the server has no UIDL
	listed time.Time // when the listing that showed it arrived
}

// pop3Scan is what one look found among the messages it had not seen.
type pop3Scan struct {
	count int       // messages in the maildrop
	read  int       // headers read
	swept int       // stale probes deleted
	mine  *pop3Msg  // this run's probe
	found *Found    // its stamp
	twins []pop3Msg // more copies of it (delivered twice, by a forward)
	stale []pop3Msg // probes of this installation older than StaleAfter
}

// open logs in, deletes stale probes among the last messages and QUITs,
// which is what removes them. Every message it reads and leaves is
// remembered, so that the looks after the sending read only new mail.
func (m *pop3Mailbox) open(ctx context.Context) error {
	s, err := pop3probe.Open(ctx, m.cfg, m.t)
	if err != nil {
		return err
	}
	m.sess = s
	sc, err := m.scan(m.t, s, "")
	if err != nil {
		return m.abort(err)
	}
	m.t.Detail("messages", sc.count)
	n := 0
	if err := m.t.Step("sweep", func() error {
		var err error
		if n, err = m.deleteStale(sc.stale); err != nil {
			return err
		}
		return m.quit()
	}); err != nil {
		return m.abort(err)
	}
	m.swept += n
	m.t.Detail("swept", m.swept)
	return nil
}

// await looks into the mailbox, one session per look, with a growing pause
// between looks, until this run's probe is there or ctx ends. The look that
// finds it deletes it, with any stale probe it saw, in the same session.
func (m *pop3Mailbox) await(ctx context.Context, p *Probe, attempt func()) (*sighting, error) {
	var hit *pop3Scan
	// Each look has a transcript of its own: a look that finds nothing is
	// summed up in one line, the one that finds the probe or fails is
	// copied whole, when it is over. So thirty looks do not push what
	// matters out of the test's transcript.
	var tr *wire.Transcript
	defer func() {
		if tr != nil {
			pop3Replay(m.t.Transcript, tr)
		}
	}()
	err := m.t.Step("wait", func() error {
		pause := pop3FirstPause
		var temporary error // the last look's refusal, if the server said it may pass
		for n := 1; ; n++ {
			attempt()
			tr = m.t.Transcript.Fork() // the test's secrets, and what the look registers
			tr.Note(fmt.Sprintf("look %d into the mailbox", n))
			start := time.Now()
			sc, err := m.look(ctx, p, tr)
			took := time.Since(start)
			switch {
			case err == nil && sc.mine != nil:
				hit = sc
				return nil
			case err == nil:
				note := fmt.Sprintf("look %d into the mailbox: %d messages, %d headers read, no probe yet", n, sc.count, sc.read)
				if sc.swept > 0 {
					note += fmt.Sprintf("; %d stale probes deleted", sc.swept)
				}
				m.t.Transcript.Note(note)
				tr = nil
				temporary = nil
			case pop3Expired(ctx):
				// The deadline cut the look short: that is the wait
				// running out, whichever of the look's steps it hit. The
				// socket's deadline can fire a moment before the context's
				// timer: wait for it, so that ctx.Err() says so too.
				<-ctx.Done()
				return fmt.Errorf("look %d ended by the deadline (%v): %w", n, err, ctx.Err())
			case pop3Temporary(err):
				// A maildrop locked by another client, a server busy for a
				// moment: the next look may get in.
				temporary = err
				pop3Replay(m.t.Transcript, tr)
				tr = nil
			default:
				return err
			}
			if err := pop3Sleep(ctx, pause, took); err != nil {
				if temporary != nil {
					return temporary
				}
				return err
			}
			pause = min(2*pause, m.cfg.PollInterval)
		}
	})
	if err != nil {
		return nil, err
	}
	s := m.sess
	n := 0
	if err := m.t.Step("delete", func() error {
		for _, msg := range append([]pop3Msg{*hit.mine}, hit.twins...) {
			if err := s.Client.Dele(msg.id); err != nil {
				return err
			}
		}
		var err error
		n, err = m.deleteStale(hit.stale)
		return err
	}); err != nil {
		return nil, m.abort(err)
	}
	if err := m.t.Step("quit", m.quit); err != nil {
		return nil, err
	}
	if n > 0 {
		m.swept += n
		m.t.Detail("swept", m.swept)
	}
	if len(hit.twins) > 0 {
		m.t.Detail("probe_copies", 1+len(hit.twins))
	}
	return &sighting{Seen: hit.mine.listed, Found: hit.found}, nil
}

// close ends a session still open, politely.
func (m *pop3Mailbox) close() {
	if m.sess != nil {
		m.quit()
	}
}

// look is one session: login, listing, headers of new messages. Stale
// probes it sees are deleted at once. When it finds this run's probe, the
// session is left open (m.sess) for await to delete it.
func (m *pop3Mailbox) look(ctx context.Context, p *Probe, tr *wire.Transcript) (*pop3Scan, error) {
	// A look's phases are its own: the test records them as one "wait".
	lt := probe.NewTrace(ctx, m.t.Now)
	lt.Transcript = tr
	s, err := pop3probe.Open(ctx, m.cfg, lt)
	if err != nil {
		return nil, err
	}
	m.sess = s
	sc, err := m.scan(lt, s, p.Nonce)
	if err != nil {
		return nil, m.abort(err)
	}
	if sc.mine != nil {
		return sc, nil
	}
	n := 0
	if err := lt.Step("sweep", func() error {
		var err error
		if n, err = m.deleteStale(sc.stale); err != nil {
			return err
		}
		return m.quit()
	}); err != nil {
		return nil, m.abort(err)
	}
	if n > 0 {
		sc.swept = n
		m.swept += n
		m.t.Detail("swept", m.swept)
	}
	return sc, nil
}

// scan lists the last pop3Window messages and reads the headers of those
// not read before ("list" and "fetch" phases of t). nonce is this run's
// probe, "" before it is sent.
func (m *pop3Mailbox) scan(t *probe.Trace, s *pop3probe.Session, nonce string) (*pop3Scan, error) {
	sc := &pop3Scan{}
	var msgs []pop3Msg
	if err := t.Step("list", func() error {
		var err error
		msgs, sc.count, err = m.list(s)
		return err
	}); err != nil {
		return nil, err
	}
	err := t.Step("fetch", func() error {
		ids := make([]int, 0, len(msgs))
		byID := make(map[int]pop3Msg, len(msgs))
		for _, msg := range msgs {
			if msg.uid == "" || !m.known[msg.uid] {
				ids = append(ids, msg.id)
				byID[msg.id] = msg
			}
		}
		var refused error
		resume := s.Conn.Quiet()
		defer resume()
		err := s.Client.TopEach(ids, 0, func(id int, hdr []byte, err error) {
			if err != nil {
				// One message the server will not show (gone under
				// another session): the next look tries it again.
				refused = err
				return
			}
			sc.read++
			msg := byID[id]
			f, err := Inspect(m.cfg.InstallationKey, hdr)
			switch {
			case err != nil:
			case nonce != "" && f.Nonce == nonce && sc.mine != nil:
				sc.twins = append(sc.twins, msg)
				return
			case nonce != "" && f.Nonce == nonce:
				sc.mine, sc.found = &msg, f
				return
			case m.t.Now().Sub(f.Created) > m.cfg.StaleAfter:
				sc.stale = append(sc.stale, msg)
				return
			}
			// Not ours to touch (or a probe of ours still young: another
			// monitor's, in flight).
			if msg.uid != "" {
				m.known[msg.uid] = true
			}
		})
		if err == nil && sc.read == 0 && refused != nil {
			err = refused // the server shows no header at all (no TOP)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// list returns the last pop3Window messages of the session, newest first,
// with their UIDs, and the size of the maildrop.
func (m *pop3Mailbox) list(s *pop3probe.Session) ([]pop3Msg, int, error) {
	count, _, err := s.Client.Stat()
	if err != nil || count == 0 {
		return nil, count, err
	}
	first := max(1, count-pop3Window+1)
	msgs := make([]pop3Msg, 0, count-first+1)
	// The listing is quiet: a hundred lines of ids would drown the
	// conversation in the transcript.
	resume := s.Conn.Quiet()
	defer resume()
	if count > pop3BigDrop || count >= s.Conn.Limits().MaxReplyLines {
		// Newest first: the probe's UID, and so its sighting, comes first.
		ids := make([]int, 0, count-first+1)
		for id := count; id >= first; id-- {
			ids = append(ids, id)
		}
		err := s.Client.UidlEach(ids, func(mi pop3.MessageInfo, err error) {
			if err == nil { // else gone under another session: the next look sees
				msgs = append(msgs, pop3Msg{id: mi.ID, uid: mi.UID, listed: m.t.Now()})
			}
		})
		return msgs, count, err
	}
	all, err := s.Client.UidlAll()
	listed := m.t.Now()
	var se *wire.ServerError
	if errors.As(err, &se) {
		// No UIDL: every look reads the headers of the whole window.
		for id := count; id >= first; id-- {
			msgs = append(msgs, pop3Msg{id: id, listed: listed})
		}
		return msgs, count, nil
	}
	if err != nil {
		return nil, count, err
	}
	for _, mi := range slices.Backward(all) {
		if mi.ID >= first && mi.ID <= count {
			msgs = append(msgs, pop3Msg{id: mi.ID, uid: mi.UID, listed: listed})
		}
	}
	return msgs, count, nil
}

// deleteStale marks stale probes as deleted; QUIT removes them. A message
// the server refuses to delete is left for a later run.
func (m *pop3Mailbox) deleteStale(stale []pop3Msg) (int, error) {
	n := 0
	for _, msg := range stale {
		err := m.sess.Client.Dele(msg.id)
		var se *wire.ServerError
		switch {
		case errors.As(err, &se):
		case err != nil:
			return n, err
		default:
			n++
		}
	}
	return n, nil
}

// quit ends the session in progress: QUIT, which removes what was deleted,
// then close.
func (m *pop3Mailbox) quit() error {
	s := m.sess
	m.sess = nil
	defer s.Close()
	return s.Client.Quit()
}

// abort ends the session in progress after err: politely if the session is
// still in step, and returns err.
func (m *pop3Mailbox) abort(err error) error {
	if m.sess == nil {
		return err
	}
	if probe.Polite(err) {
		m.quit()
	} else {
		m.sess.Close()
		m.sess = nil
	}
	return err
}

// pop3Temporary reports a refusal the server says may pass ([IN-USE],
// [SYS/TEMP], [LOGIN-DELAY]).
func pop3Temporary(err error) bool {
	var se *wire.ServerError
	return errors.As(err, &se) && se.Temporary
}

// pop3Replay copies the lines of a look's transcript into the test's.
func pop3Replay(dst, src *wire.Transcript) {
	for _, l := range src.Lines() {
		switch {
		case strings.HasPrefix(l, "C: "):
			dst.Client(l[3:])
		case strings.HasPrefix(l, "S: "):
			dst.Server(l[3:])
		default:
			dst.Note(strings.TrimPrefix(l, "-- "))
		}
	}
}

// pop3Expired reports whether ctx has ended or its deadline has passed.
func pop3Expired(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || ok && !time.Now().Before(dl)
}

// pop3Sleep pauses before the next look. Near the deadline it shortens the
// pause so that one more look (as long as the last one, and half again)
// still ends in time, or, when none fits, waits out the deadline.
func pop3Sleep(ctx context.Context, pause, took time.Duration) error {
	if dl, ok := ctx.Deadline(); ok {
		room := time.Until(dl) - took*3/2
		switch {
		case room <= 0:
			<-ctx.Done()
			return ctx.Err()
		case room < pause:
			pause = room
		}
	}
	return sleep(ctx, pause)
}
