// Package rawcheck is the benchmarks' baseline: a check's conversation
// with nothing but a socket and crypto/tls, verifying the certificate as
// the tools do. The peers benchmark sets mailmon's /probe beside it, the
// daemon benchmark mailmon serve's scheduled tests.
package rawcheck

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"time"
)

// Run is one check: proto is smtp, pop3, imap or tcp (a connection opened
// and closed), mode none, starttls or implicit (TLS from the start).
func Run(proto, mode, addr string, cfg *tls.Config) error {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	if proto == "tcp" {
		return nil
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	r := &rawConn{c: nc, br: bufio.NewReader(nc)}
	if mode == "implicit" {
		if err := r.handshake(cfg); err != nil {
			return err
		}
	}
	switch proto {
	case "smtp":
		return r.smtp(mode == "starttls", cfg)
	case "pop3":
		return r.pop3(mode == "starttls", cfg)
	case "imap":
		return r.imap(mode == "starttls", cfg)
	}
	return errors.New("unknown protocol")
}

// Pick is which of several kinds the i-th test is, the kinds sharing the
// tests by the percentages shares: within each hundred they take their
// shares in turn (the daemon benchmark's monitors, the raw child's paced
// mix).
func Pick(shares []int, i int) int {
	j := i % 100
	for k, pct := range shares {
		if j < pct {
			return k
		}
		j -= pct
	}
	return len(shares) - 1
}

// Report is what the peers benchmark's raw child ("peers -role raw")
// prints, as JSON, of its measuring window.
type Report struct {
	OK, Errs int
	FirstErr string
	CPU      float64 // the child's CPU seconds in the window
	RSSMiB   float64
	P50, P99 time.Duration
	Window   time.Duration
	// LateP99 is, paced (-rate), how late the 99th percentile of the
	// window's checks started after their time: a child that cannot keep
	// its pace batches its checks, and spends less per check.
	LateP99 time.Duration `json:",omitempty"`
}

type rawConn struct {
	c  net.Conn
	br *bufio.Reader
}

func (r *rawConn) handshake(cfg *tls.Config) error {
	tc := tls.Client(r.c, cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	r.c, r.br = tc, bufio.NewReader(tc)
	return nil
}

func (r *rawConn) send(s string) error {
	_, err := r.c.Write([]byte(s + "\r\n"))
	return err
}

// until reads lines until one is the last of a reply: done says which.
func (r *rawConn) until(done func(string) bool) (string, error) {
	for {
		l, err := r.br.ReadString('\n')
		if err != nil {
			return "", err
		}
		if done(l) {
			return l, nil
		}
	}
}

func smtpLast(l string) bool { return len(l) < 4 || l[3] != '-' }

func (r *rawConn) smtp(starttls bool, cfg *tls.Config) error {
	cmd := func(s string) error {
		if err := r.send(s); err != nil {
			return err
		}
		_, err := r.until(smtpLast)
		return err
	}
	if _, err := r.until(smtpLast); err != nil {
		return err
	}
	if err := cmd("EHLO bench"); err != nil {
		return err
	}
	if starttls {
		if err := cmd("STARTTLS"); err != nil {
			return err
		}
		if err := r.handshake(cfg); err != nil {
			return err
		}
		if err := cmd("EHLO bench"); err != nil {
			return err
		}
	}
	return cmd("QUIT")
}

func (r *rawConn) pop3(starttls bool, cfg *tls.Config) error {
	line := func(string) bool { return true }
	if l, err := r.until(line); err != nil || !strings.HasPrefix(l, "+OK") {
		return errors.Join(err, errors.New("no +OK greeting"))
	}
	if starttls {
		if err := r.send("STLS"); err != nil {
			return err
		}
		if _, err := r.until(line); err != nil {
			return err
		}
		if err := r.handshake(cfg); err != nil {
			return err
		}
	}
	// CAPA, as mailmon's pop3 monitor asks it (for the capabilities it
	// reports and the login mechanisms): the same conversation for all.
	if err := r.send("CAPA"); err != nil {
		return err
	}
	if _, err := r.until(func(l string) bool { return l == ".\r\n" || strings.HasPrefix(l, "-ERR") }); err != nil {
		return err
	}
	if err := r.send("QUIT"); err != nil {
		return err
	}
	_, err := r.until(line)
	return err
}

func (r *rawConn) imap(starttls bool, cfg *tls.Config) error {
	tagged := func(tag string) func(string) bool {
		return func(l string) bool { return strings.HasPrefix(l, tag+" ") }
	}
	if l, err := r.until(func(string) bool { return true }); err != nil || !strings.HasPrefix(l, "* OK") {
		return errors.Join(err, errors.New("no * OK greeting"))
	}
	if starttls {
		if err := r.send("a1 STARTTLS"); err != nil {
			return err
		}
		if _, err := r.until(tagged("a1")); err != nil {
			return err
		}
		if err := r.handshake(cfg); err != nil {
			return err
		}
	}
	if err := r.send("a2 CAPABILITY"); err != nil {
		return err
	}
	if _, err := r.until(tagged("a2")); err != nil {
		return err
	}
	if err := r.send("a3 LOGOUT"); err != nil {
		return err
	}
	_, err := r.until(tagged("a3"))
	return err
}
