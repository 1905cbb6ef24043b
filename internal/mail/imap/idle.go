package imap

import (
	"time"

	"github.com/mailmon/mailmon/internal/wire"
)

// Idle waits in IDLE (RFC 2177; part of IMAP4rev2) for the server's news
// for at most d. Every untagged response goes to the Watch function as it
// arrives, and to stop, if not nil, which ends the wait early by returning
// true. Idle then sends DONE and reads IDLE's completion, so the session is
// ready for the next command when it returns; the caller chooses d so that
// this fits in the test's deadline. A server that refuses IDLE gives a
// *wire.ServerError.
//
// While idling, responses are read on a goroutine of Idle's own, which has
// ended when Idle returns: stop and the Watch function run there.
func (cl *Client) Idle(d time.Duration, stop func(*Response) bool) error {
	p, err := cl.Start("IDLE")
	if err != nil {
		return err
	}
	early := false
	for {
		r, err := p.Next()
		if err != nil {
			return err
		}
		if r.Tag == p.Tag { // refused (or completed at once)
			st, err := r.Status()
			if err != nil {
				return err
			}
			return st.Err()
		}
		if r.Continuation() {
			break
		}
		if stop != nil && stop(r) {
			early = true
		}
	}
	if early || d <= 0 {
		return cl.done(p)
	}

	done := make(chan error, 1)
	wake := make(chan struct{}, 1)
	go func() {
		for {
			r, err := p.Next()
			switch {
			case err != nil:
				done <- err
				return
			case r.Tag == p.Tag:
				st, err := r.Status()
				if err == nil {
					err = st.Err()
				}
				done <- err
				return
			case r.Continuation():
				done <- wire.Violation("continuation request %q inside IDLE", wire.Truncate(r.String(), 80))
				return
			case stop != nil && stop(r):
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-wake:
	case <-timer.C:
	case err := <-done:
		return err // the server ended IDLE by itself, or the connection broke
	}
	if err := p.Continue("DONE", "DONE"); err != nil {
		// The connection is broken: close it, so that the reader ends.
		cl.conn.Close()
		<-done
		return err
	}
	return <-done
}

// done ends IDLE before the reading goroutine started.
func (cl *Client) done(p *Pending) error {
	if err := p.Continue("DONE", "DONE"); err != nil {
		return err
	}
	st, err := p.Wait(nil)
	if err != nil {
		return err
	}
	return st.Err()
}
