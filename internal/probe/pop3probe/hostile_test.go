package pop3probe

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/leak"
)

const capaSTLS = "+OK capabilities\r\nTOP\r\nUSER\r\nSTLS\r\n.\r\n"

// TestHostile runs the probe against servers that misbehave. Each case must
// end with its classified error by its deadline (hostile.CheckDeadline),
// keep what it stores clean UTF-8, and leave nothing behind.
func TestHostile(t *testing.T) {
	ca := certs.NewCA(t)
	caFile := ca.File(t)
	expired := certs.ServerConfig(ca.Expired(t))
	otherHost := certs.ServerConfig(ca.OtherHost(t))
	var injectedActedOn atomic.Bool
	// Built once, before any probe's clock starts: building (and
	// converting) 10 MiB took the server up to 0.8 s under -race on a
	// loaded machine, time the probe spent waiting for a greeting.
	huge := []byte("+OK " + strings.Repeat("A", 10<<20) + "\r\n")

	tests := []struct {
		name      string
		tls       probe.TLSMode
		script    func(c *hostile.Conn)
		code      probe.Code
		phase     string
		reply     string
		fast      bool // must fail well before the deadline
		wantCert  bool // TLS facts of the rejected certificate in the result
		wantNoTLS bool
	}{
		{name: "never greets", code: probe.Timeout, phase: "greeting",
			script: func(c *hostile.Conn) { c.Hang() }},
		{name: "greets one byte a second", code: probe.Timeout, phase: "greeting",
			script: func(c *hostile.Conn) { c.Drip("+OK slow.example POP3 ready\r\n", hostile.DripEvery) }},
		{name: "garbage greeting", code: probe.ProtocolViolation, phase: "greeting", fast: true,
			script: func(c *hostile.Conn) { c.Send("HTTP/1.1 400 Bad Request\r\n\r\n"); c.Hang() }},
		{name: "invalid UTF-8 and NUL in the greeting", code: probe.ProtocolViolation, phase: "greeting", fast: true,
			script: func(c *hostile.Conn) { c.Send("\xff\xfe\x00garbage\x00\xc3\x28\r\n"); c.Hang() }},
		{name: "a 10 MiB line", code: probe.ProtocolViolation, phase: "greeting", fast: true,
			script: func(c *hostile.Conn) { c.Write(huge); c.Hang() }},
		{name: "CAPA without a terminating dot, forever", code: probe.ProtocolViolation, phase: "capabilities", fast: true,
			script: func(c *hostile.Conn) {
				c.Send("+OK hostile.example\r\n")
				c.ReadLine()
				c.Send("+OK capabilities follow\r\n")
				c.Forever(func() bool { return c.Send("X-MORE and more and more\r\n") })
			}},
		{name: "close right after the greeting", code: probe.Disconnected, phase: "capabilities", fast: true,
			script: func(c *hostile.Conn) { c.Send("+OK hostile.example\r\n"); c.ReadLine() }},
		{name: "close in the middle of a reply", code: probe.Disconnected, phase: "capabilities", fast: true,
			script: func(c *hostile.Conn) {
				c.Send("+OK hostile.example\r\n")
				c.ReadLine()
				c.Send("+OK capabilities\r\nTOP\r\nUS")
			}},
		{name: "-ERR greeting", code: probe.ServiceError, phase: "greeting", reply: "-ERR [SYS/TEMP] too many connections", fast: true,
			script: func(c *hostile.Conn) {
				c.Send("-ERR [SYS/TEMP] too many connections\r\n")
				if strings.HasPrefix(c.ReadLine(), "QUIT") {
					c.Send("+OK bye\r\n")
				}
			}},
		{name: "-ERR greeting without text", code: probe.ServiceError, phase: "greeting", reply: "-ERR", fast: true,
			script: func(c *hostile.Conn) { c.Send("-ERR\r\n"); c.ReadLine() }},
		{name: "STLS advertised then refused", tls: probe.TLSStartTLS, code: probe.TLSUnavailable, phase: "starttls",
			reply: "-ERR TLS not available", fast: true,
			script: func(c *hostile.Conn) {
				c.Send("+OK hostile.example\r\n")
				c.ReadLine()
				c.Send(capaSTLS)
				c.ReadLine()
				c.Send("-ERR TLS not available\r\n")
				if strings.HasPrefix(c.ReadLine(), "QUIT") {
					c.Send("+OK bye\r\n")
				}
			}},
		{name: "STLS reply followed by injected plaintext", tls: probe.TLSStartTLS, code: probe.ProtocolViolation, phase: "tls",
			fast: true, wantNoTLS: true,
			script: func(c *hostile.Conn) {
				c.Send("+OK hostile.example\r\n")
				c.ReadLine()
				c.Send(capaSTLS)
				c.ReadLine()
				// One write: the agreement and a forged CAPA reply behind it.
				c.Send("+OK begin TLS\r\n+OK capabilities\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				if n, _ := c.Read(make([]byte, 1)); n > 0 {
					injectedActedOn.Store(true) // the client sent something: a ClientHello or a command
				}
			}},
		{name: "expired certificate", tls: probe.TLSImplicit, code: probe.CertInvalid, phase: "tls", fast: true, wantCert: true,
			script: func(c *hostile.Conn) {
				if tc := c.TLS(expired); tc != nil {
					tc.Send("+OK hostile.example\r\n")
					tc.Hang()
				}
			}},
		{name: "certificate for another host", tls: probe.TLSStartTLS, code: probe.CertInvalid, phase: "tls", fast: true, wantCert: true,
			script: func(c *hostile.Conn) {
				c.Send("+OK hostile.example\r\n")
				c.ReadLine()
				c.Send(capaSTLS)
				c.ReadLine()
				c.Send("+OK begin TLS\r\n")
				if tc := c.TLS(otherHost); tc != nil {
					tc.Hang()
				}
			}},
		{name: "garbage instead of a TLS handshake", tls: probe.TLSImplicit, code: probe.TLSFailed, phase: "tls", fast: true,
			script: func(c *hostile.Conn) { c.Send("+OK this is not TLS at all\r\n"); c.Hang() }},
		{name: "AUTH challenges forever", code: probe.ProtocolViolation, phase: "auth", fast: true,
			script: func(c *hostile.Conn) {
				c.Send("+OK hostile.example\r\n")
				c.ReadLine()
				c.Send("+OK\r\nSASL CRAM-MD5\r\n.\r\n")
				c.ReadLine()
				c.Forever(func() bool { return c.Send("+ PDEyMzRAaG9zdGlsZT4=\r\n") && c.ReadLine() != "" })
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leak.Check(t)
			srv := hostile.Start(t, tc.script)
			// A failure that must not wait for the deadline gets a long one,
			// so that "well before it" holds on a loaded machine too (the
			// race detector reading a 10 MiB line took 0.9 s under load).
			timeout := hostile.Deadline
			if tc.fast {
				timeout = 10 * time.Second
			}
			cfg := probe.Config{Type: "pop3", Host: srv.Host, Port: srv.Port, TLS: tc.tls, CAFile: caFile, Timeout: timeout}
			if tc.phase == "auth" {
				cfg.User, cfg.Password, cfg.Auth, cfg.AllowPlaintextAuth = user, password, "CRAM-MD5", true
			}
			var r *probe.Result
			el, late := hostile.Timed(timeout, func() { r = probe.Run(context.Background(), Kind(), cfg) })
			hostile.CheckDeadline(t, timeout, el, late)
			if tc.fast && el > timeout/2 {
				t.Errorf("took %v: this failure should not wait for the deadline", el)
			}
			wantCode(t, r, tc.code)
			if r.Error.Phase != tc.phase {
				t.Errorf("phase %q, want %q", r.Error.Phase, tc.phase)
			}
			if r.Error.Reply != tc.reply {
				t.Errorf("reply %q, want %q", r.Error.Reply, tc.reply)
			}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.Valid(b) || strings.Contains(string(b), `\u0000`) {
				t.Errorf("the JSON result is not clean UTF-8 without NUL:\n%s", b)
			}
			for _, l := range append(r.Transcript, r.Error.Detail, r.Error.Reply) {
				if !utf8.ValidString(l) || strings.ContainsRune(l, 0) {
					t.Errorf("stored text is not clean UTF-8: %q", l)
				}
				if len(l) > 1024 {
					t.Errorf("stored line of %d bytes", len(l))
				}
			}
			if tc.wantCert {
				if r.TLS == nil || r.TLS.CertNotAfter.IsZero() || r.TLS.CertSubject == "" || r.TLS.Verified {
					t.Errorf("TLS facts of the rejected certificate missing: %+v", r.TLS)
				}
			}
			if tc.wantNoTLS {
				if r.TLSMode != "" || r.Auth != "" { // no mode was negotiated
					t.Errorf("TLS mode %q, auth %q after an injection", r.TLSMode, r.Auth)
				}
				for _, l := range r.Transcript {
					if strings.HasPrefix(l, "S: ") && strings.Contains(l, "SASL PLAIN") {
						t.Errorf("the injected reply was read as protocol: %q", l)
					}
				}
			}
			noSecrets(t, r, nil)
		})
	}
	if injectedActedOn.Load() {
		t.Error("the client went on talking after plaintext was injected behind the STLS reply")
	}
}

// TestNoPipeliningWithSTLS checks that the client waits for the STLS reply
// and the handshake before sending anything else, and asks CAPA again.
func TestNoPipeliningWithSTLS(t *testing.T) {
	leak.Check(t)
	ca := certs.NewCA(t)
	cert := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	got := make(chan string, 2)
	srv := hostile.Start(t, func(c *hostile.Conn) {
		c.Send("+OK hostile.example\r\n")
		c.ReadLine()
		c.Send(capaSTLS)
		cmd := c.ReadLine()
		// Anything sent right behind STLS would already be buffered.
		time.Sleep(50 * time.Millisecond)
		got <- cmd + "|" + string(peekBuffered(c))
		c.Send("+OK begin TLS\r\n")
		if tc := c.TLS(cert); tc != nil {
			got <- tc.ReadLine()
			tc.Send("+OK\r\nUSER\r\n.\r\n")
			tc.ReadLine()
			tc.Send("+OK bye\r\n")
		}
	})
	r := probe.Run(context.Background(), Kind(), probe.Config{Type: "pop3", Host: srv.Host, Port: srv.Port,
		TLS: probe.TLSStartTLS, CAFile: ca.File(t), Timeout: 3 * time.Second})
	wantUp(t, r)
	if g := <-got; g != "STLS\r\n|" {
		t.Errorf("server saw %q: something was pipelined with STLS", g)
	}
	if g := <-got; g != "CAPA\r\n" {
		t.Errorf("first command over TLS %q, want CAPA", g)
	}
}

func peekBuffered(c *hostile.Conn) []byte {
	b, _ := c.R.Peek(c.R.Buffered())
	if len(b) == 0 {
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		c.SetReadDeadline(time.Time{})
		return buf[:n]
	}
	return b
}
