package alert

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/mail/message"
	"github.com/mailmon/mailmon/internal/mail/smtp"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// Email sends events through an SMTP relay with the mail package's SMTP
// client, under the relay's TLS mode, authentication and auth policy.
type Email struct {
	Relay   probe.Config // Host, Port, TLS, User, Password, Auth, CA …
	From    string
	To      []string
	Subject string // tokens allowed; DefaultSubject when empty
	Body    string // tokens allowed; DefaultBody when empty
}

// Message builds the e-mail for ev.
func (e *Email) Message(ev Event, now time.Time) []byte {
	subject, body := e.Subject, e.Body
	if subject == "" {
		subject = DefaultSubject
	}
	if body == "" {
		body = DefaultBody
	}
	if ev.Kind == KindTest {
		subject = "[test] " + subject
	}
	m := message.Message{From: e.From, To: e.To, Subject: LateNote(ev) + Expand(subject, ev), Date: now, Body: Expand(body, ev)}
	if ev.AckURL != "" && !strings.Contains(body, "{ack_link}") {
		m.Body += "\n" + AckLinkText + " (no more alerts for this outage; its recovery is still sent):\n" + ev.AckURL + "\n"
	}
	if ev.Late {
		m.Body = Expand("Late resend: this happened at {time}; mailmon could not send it then.\n\n", ev) + m.Body
	}
	if ev.ID != "" {
		m.MessageID = ev.ID + ".alert@mailmon.invalid"
	}
	return m.Bytes()
}

// Notify sends the e-mail. A recipient or message the relay refuses for
// good (5xx) is permanent.
func (e *Email) Notify(ctx context.Context, ev Event) error {
	cfg := e.Relay
	cfg.Type = "smtp"
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if err := cfg.Validate(probe.SMTPKind()); err != nil {
		return &Permanent{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	t := probe.NewTrace(ctx, nil)
	t.AddSecrets(&cfg)
	// The relay's refusal may quote the credentials: the error is logged
	// and stored with the notification, so it leaves redacted.
	return permanentIf(t.Secrets().Error(e.send(ctx, &cfg, t, ev)))
}

// send runs one mail transaction on the mail package's SMTP client, over a
// session opened under the relay's settings (its TLS mode and the auth
// policy: probe.OpenSMTP, the one every SMTP session of mailmon opens).
func (e *Email) send(ctx context.Context, cfg *probe.Config, t *probe.Trace, ev Event) error {
	s, err := probe.OpenSMTP(ctx, cfg, t)
	if err != nil {
		return err
	}
	defer s.Close()
	return transaction(s.Client, e.From, e.To, e.Message(ev, time.Now()))
}

// transaction sends msg from one address to others and says goodbye.
func transaction(cl *smtp.Client, from string, to []string, msg []byte) error {
	if err := cl.Mail(from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := cl.Rcpt(rcpt); err != nil {
			return err
		}
	}
	if _, err := cl.Data(msg); err != nil {
		return err
	}
	cl.Quit()
	return nil
}

// permanentIf marks a 5xx refusal and rejected credentials as not worth a
// retry.
func permanentIf(err error) error {
	var se *wire.ServerError
	var ae *wire.AuthError
	var ce *probe.ConfigError
	if errors.As(err, &se) && !se.Temporary || errors.As(err, &ae) || errors.As(err, &ce) {
		return &Permanent{Err: err}
	}
	return err
}
