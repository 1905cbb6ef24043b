// Package roundtrip is the "User Experience" monitors: a probe message sent
// now over SMTP must reach the mailbox and be fetched over POP3
// (pop3-roundtrip) or IMAP (imap-roundtrip). Only the probe's own message is
// ever deleted: it carries an HMAC under this installation's secret, and a
// message is deleted only when that HMAC verifies. Probes left behind by
// earlier failed runs are swept the same way.
package roundtrip

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// sighting is the probe found in the mailbox (and already deleted there).
type sighting struct {
	Seen   time.Time // when the mailbox first showed it
	Found  *Found
	Folder string // where it was; "" for the inbox
	Junk   bool   // the folder is the junk folder
}

// mailbox is one way of reading the probe's mailbox.
type mailbox interface {
	// open logs in and sweeps stale probes. It runs before the probe is
	// sent, so that a mailbox that refuses the login costs no probe message.
	open(ctx context.Context) error
	// await looks for the probe until it is there or ctx ends, verifies it,
	// deletes it (and only it), and says when it was first seen.
	await(ctx context.Context, p *Probe, attempt func()) (*sighting, error)
	// close ends the session politely if it is still usable.
	close()
}

// sender is a mailbox that can also send the probe (Graph's sendMail),
// used when the round trip has no SMTP leg.
type sender interface {
	send(ctx context.Context, p *Probe) (time.Time, error)
}

// ProbePOP3 is the pop3-roundtrip monitor.
func ProbePOP3(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	return run(ctx, cfg, t, newPOP3Mailbox(cfg, t))
}

// ProbeIMAP is the imap-roundtrip monitor.
func ProbeIMAP(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	return run(ctx, cfg, t, newIMAPMailbox(cfg, t))
}

func run(ctx context.Context, cfg *probe.Config, t *probe.Trace, mb mailbox) error {
	p, err := NewProbe(cfg.InstallationKey, cfg.Monitor, cfg.From, cfg.To, t.Now())
	if err != nil {
		return err
	}
	if err := mb.open(ctx); err != nil {
		return err
	}
	defer mb.close()
	var accepted time.Time
	if s, ok := mb.(sender); ok && cfg.SMTP == nil {
		accepted, err = s.send(ctx, p)
	} else {
		accepted, err = send(ctx, cfg, t, p)
	}
	if err != nil {
		return err
	}
	attempts := 0
	s, err := mb.await(ctx, p, func() {
		attempts++
		if cfg.Progress != nil {
			cfg.Progress(attempts, t.Now().Sub(accepted))
		}
	})
	t.Detail("attempts", attempts)
	if err != nil {
		return notDelivered(ctx, err)
	}
	t.SetDelivery(s.Seen.Sub(accepted))
	ar := ReadAuthResults(s.Found.AuthHeaders, cfg.AuthResultsID)
	if ar != nil && ar.Results != nil {
		t.Detail("authentication_results", ar.Results)
	}
	if ar != nil && ar.Unparseable != "" {
		t.Detail("authentication_results_unparseable", ar.Unparseable)
	}
	auth := judgeAuth(cfg, ar)
	if _, down := auth.(*probe.CodeError); down {
		return auth
	}
	if s.Junk {
		t.Detail("folder", s.Folder)
		return &probe.Warning{Code: probe.DeliveredToJunk, Err: fmt.Errorf("the probe was delivered to the junk folder %q", s.Folder)}
	}
	return auth
}

// notDelivered reports the test's deadline passing while the probe was
// awaited as not_delivered; any other failure keeps its own code.
func notDelivered(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	var se *probe.StepError
	if errors.As(err, &se) {
		if se.Code != probe.Timeout && se.Code != probe.Disconnected {
			return err
		}
		// A step's own code wins over a wrapper's in Classify: restate the
		// step (keeping its phase) rather than wrap it.
		return &probe.StepError{Phase: se.Phase, Code: probe.NotDelivered, Reply: se.Reply,
			Err: fmt.Errorf("the probe did not arrive before the test expired: %w", se.Err)}
	}
	return &probe.CodeError{Code: probe.NotDelivered, Err: fmt.Errorf("the probe did not arrive before the test expired: %w", err)}
}

// send delivers the probe over the SMTP leg and returns when the server
// accepted it (its 250 after DATA), the moment delivery time counts from.
func send(ctx context.Context, cfg *probe.Config, t *probe.Trace, p *Probe) (time.Time, error) {
	leg := t.Leg(probe.LegSMTP)
	t.Transcript.Note("SMTP leg: sending the probe")
	defer func() { t.Detail(probe.LegSMTP, leg.Facts()) }()
	s, err := probe.OpenSMTP(ctx, cfg.SMTP, leg)
	if err != nil {
		return time.Time{}, err
	}
	defer s.Close()
	if err := leg.Step("mail", func() error { return rejected(s.Client.Mail(cfg.From)) }); err != nil {
		return time.Time{}, quit(s, err)
	}
	if err := leg.Step("rcpt", func() error { return rejected(s.Client.Rcpt(cfg.To)) }); err != nil {
		return time.Time{}, quit(s, err)
	}
	var accepted time.Time
	if err := leg.Step("data", func() error {
		r, err := s.Client.Data(p.Raw)
		accepted = t.Now()
		if r != nil && err == nil {
			t.Detail("smtp_queued", r.String())
		}
		return rejected(err)
	}); err != nil {
		return time.Time{}, quit(s, err)
	}
	// The message is accepted: a failed QUIT does not undo that.
	leg.Step("quit", s.Client.Quit)
	return accepted, nil
}

func quit(s *probe.SMTPSession, err error) error {
	if probe.Polite(err) {
		s.Client.Quit()
	}
	return err
}

// rejected marks the server's refusal of the probe message as send_rejected.
func rejected(err error) error {
	var se *wire.ServerError
	if errors.As(err, &se) {
		return &probe.CodeError{Code: probe.SendRejected, Err: err}
	}
	return err
}

// sleep pauses for d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
