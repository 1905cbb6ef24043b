// Package demo is "mailmon serve --demo": a small mail server on loopback
// (SMTP with STARTTLS, IMAP, POP3, a mailbox for each) and ready-made
// monitors against it, some failing on purpose, so that a newcomer sees
// states, alerts and history at once with nothing else installed.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/mailmon/mailmon/internal/mail/pop3server"
)

// Demo mailbox addresses.
const (
	IMAPUser = "imap@demo.mailmon.test"
	POP3User = "pop@demo.mailmon.test"
)

// Servers is the running demo mail server.
type Servers struct {
	SMTP, FlakySMTP, IMAP, POP3, Closed int
	CAFile                              string
	Password                            string // of both mailboxes

	imapUser *imapmemserver.User
	pop3     *pop3server.Server
	closers  []func() error
	wg       sync.WaitGroup
}

// Start runs the demo servers on free loopback ports; dir receives the CA
// file. They stop when ctx ends.
func Start(ctx context.Context, dir string) (*Servers, error) {
	tlsCfg, caFile, err := SelfSigned(dir)
	if err != nil {
		return nil, err
	}
	pw := make([]byte, 12)
	rand.Read(pw)
	s := &Servers{CAFile: caFile, Password: hex.EncodeToString(pw)}
	listen := func() (net.Listener, int, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, 0, err
		}
		s.closers = append(s.closers, ln.Close)
		return ln, ln.Addr().(*net.TCPAddr).Port, nil
	}

	// IMAP over an in-memory mailbox.
	mem := imapmemserver.New()
	s.imapUser = imapmemserver.NewUser(IMAPUser, s.Password)
	for _, box := range []string{"INBOX", "Junk"} {
		if err := s.imapUser.Create(box, nil); err != nil {
			return nil, err
		}
	}
	mem.AddUser(s.imapUser)
	imapSrv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}, imap.CapUIDPlus: {}},
		TLSConfig:    tlsCfg,
		InsecureAuth: false,
	})
	imapLn, port, err := listen()
	if err != nil {
		return nil, err
	}
	s.IMAP = port
	s.closers = append(s.closers, imapSrv.Close)
	s.goServe(func() { imapSrv.Serve(imapLn) })

	// POP3 over its own maildrop.
	popLn, port, err := listen()
	if err != nil {
		return nil, err
	}
	s.POP3 = port
	// No lock: the demo's pop3 and pop3-roundtrip monitors share the
	// mailbox and may look at once.
	s.pop3 = pop3server.New(pop3server.Options{Banner: "mailmon demo POP3 ready", Implementation: "mailmon-demo",
		TLS: tlsCfg, STLS: true, Users: map[string]string{POP3User: s.Password}, UIDPrefix: "demo-", MaxLine: 1024})
	s.closers = append(s.closers, s.pop3.Close)
	s.goServe(func() { s.pop3.Serve(popLn) })

	// SMTP delivering into both mailboxes; a second listener of the same
	// server is up 90 s, then down 60 s, over and over.
	smtpSrv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return &session{s: s}, nil }))
	smtpSrv.Domain = "demo.mailmon.test"
	smtpSrv.TLSConfig = tlsCfg
	smtpSrv.ReadTimeout, smtpSrv.WriteTimeout = time.Minute, time.Minute
	smtpSrv.MaxMessageBytes = 1 << 20
	smtpSrv.ErrorLog = newQuietLog(nil)
	s.closers = append(s.closers, smtpSrv.Close)
	smtpLn, port, err := listen()
	if err != nil {
		return nil, err
	}
	s.SMTP = port
	s.goServe(func() { smtpSrv.Serve(smtpLn) })
	flakyLn, port, err := listen()
	if err != nil {
		return nil, err
	}
	s.FlakySMTP = port
	s.goServe(func() { smtpSrv.Serve(&flaky{Listener: flakyLn, start: time.Now()}) })

	// A port nothing listens on.
	closed, port, err := listen()
	if err != nil {
		return nil, err
	}
	s.Closed = port
	closed.Close()

	go func() {
		<-ctx.Done()
		s.Close()
	}()
	return s, nil
}

func (s *Servers) goServe(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

// Close stops the servers.
func (s *Servers) Close() error {
	var errs []error
	for _, c := range s.closers {
		if err := c(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	s.wg.Wait()
	return errors.Join(errs...)
}

// flaky drops connections during its down periods.
type flaky struct {
	net.Listener
	start time.Time
}

func (f *flaky) Accept() (net.Conn, error) {
	for {
		c, err := f.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if time.Since(f.start)%(150*time.Second) < 90*time.Second {
			return c, nil
		}
		c.Close()
	}
}

type session struct {
	s  *Servers
	to []string
}

func (se *session) Mail(string, *gosmtp.MailOptions) error { return nil }

func (se *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if !strings.EqualFold(to, IMAPUser) && !strings.EqualFold(to, POP3User) {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox here"}
	}
	se.to = append(se.to, strings.ToLower(to))
	return nil
}

func (se *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	b = append([]byte("Received: by demo.mailmon.test; "+time.Now().Format(time.RFC1123Z)+"\r\n"), b...)
	for _, to := range se.to {
		switch to {
		case IMAPUser:
			if _, err := se.s.imapUser.Append("INBOX", bytes.NewReader(b), &imap.AppendOptions{}); err != nil {
				return err
			}
		case POP3User:
			se.s.pop3.Deliver(POP3User, b)
		}
	}
	return nil
}

func (se *session) Reset()        { se.to = nil }
func (se *session) Logout() error { return nil }

// Config is the demo's monitors and alert as YAML for "apply": alertURL
// receives the alerts. Passwords come from the environment variable
// MAILMON_DEMO_PW.
func (s *Servers) Config(alertURL string) string {
	return fmt.Sprintf(`alerts:
  - name: demo console
    webhook: {url: %q, format: generic}
devices:
  - name: demo mail server
    address: 127.0.0.1
    monitors:
      - name: TCP 25
        type: tcp
        port: %[2]d
        timing: {max_duration: 5s, up_every: 30s, down_every: 10s}
      - name: SMTP STARTTLS
        type: smtp
        port: %[2]d
        tls: starttls
        ca: %[3]q
        depends_on: [TCP 25]
        timing: {max_duration: 5s, up_every: 30s, down_every: 10s}
        notify: {failures_per_alert: 2, max_alerts: 3, alerts: [demo console]}
      - name: IMAP login
        type: imap
        port: %[4]d
        tls: starttls
        ca: %[3]q
        user: %[6]s
        password: {env: MAILMON_DEMO_PW}
        mailbox: INBOX
        timing: {max_duration: 5s, up_every: 30s, down_every: 10s}
        notify: {failures_per_alert: 2, max_alerts: 3, alerts: [demo console]}
      - name: POP3 login
        type: pop3
        port: %[5]d
        tls: starttls
        ca: %[3]q
        user: %[7]s
        password: {env: MAILMON_DEMO_PW}
        stat: true
        timing: {max_duration: 5s, up_every: 30s, down_every: 10s}
        notify: {failures_per_alert: 2, max_alerts: 3, alerts: [demo console]}
      - name: IMAP round trip
        type: imap-roundtrip
        port: %[4]d
        tls: starttls
        ca: %[3]q
        user: %[6]s
        password: {env: MAILMON_DEMO_PW}
        smtp: {port: %[2]d, tls: starttls, ca: %[3]q}
        from: monitor@demo.mailmon.test
        to: %[6]s
        timing: {max_duration: 20s, up_every: 60s, down_every: 30s}
        notify: {failures_per_alert: 2, max_alerts: 3, alerts: [demo console]}
      - name: POP3 round trip
        type: pop3-roundtrip
        port: %[5]d
        tls: starttls
        ca: %[3]q
        user: %[7]s
        password: {env: MAILMON_DEMO_PW}
        smtp: {port: %[2]d, tls: starttls, ca: %[3]q}
        from: monitor@demo.mailmon.test
        to: %[7]s
        poll_interval: 1s
        timing: {max_duration: 20s, up_every: 60s, down_every: 30s}
        notify: {failures_per_alert: 2, max_alerts: 3, alerts: [demo console]}
      - name: Flaky SMTP (fails on purpose)
        type: smtp
        port: %[8]d
        tls: starttls
        ca: %[3]q
        timing: {max_duration: 5s, up_every: 15s, down_every: 5s}
        notify: {failures_per_alert: 2, max_alerts: 3, alerts: [demo console]}
      - name: Wrong password (fails on purpose)
        type: imap
        port: %[4]d
        tls: starttls
        ca: %[3]q
        user: %[6]s
        password: not-the-password
        timing: {max_duration: 5s, up_every: 30s, down_every: 10s}
        notify: {failures_per_alert: 2, max_alerts: 2, alerts: [demo console]}
      - name: Closed port (fails on purpose)
        type: tcp
        port: %[9]d
        timing: {max_duration: 5s, up_every: 30s, down_every: 10s}
        notify: {failures_per_alert: 2, max_alerts: 2, alerts: [demo console]}
`, alertURL, s.SMTP, s.CAFile, s.IMAP, s.POP3, IMAPUser, POP3User, s.FlakySMTP, s.Closed)
}
