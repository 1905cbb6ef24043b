package smtpprobe

import (
	"context"
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

const ehloOK = "250-hostile.example\r\n250-STARTTLS\r\n250 SIZE 1000\r\n"

// TestHostile runs the probe against servers that misbehave. Each case must
// end with its classified error by its deadline (hostile.CheckDeadline),
// and leave nothing behind.
func TestHostile(t *testing.T) {
	ca := certs.NewCA(t)
	caFile := ca.File(t)
	expired := certs.ServerConfig(ca.Expired(t))
	otherHost := certs.ServerConfig(ca.OtherHost(t))
	var injectedActedOn atomic.Bool
	// Built once, before any probe's clock starts: building (and
	// converting) 10 MiB took the server up to 0.8 s under -race on a
	// loaded machine, time the probe spent waiting for a greeting.
	huge := []byte("220 " + strings.Repeat("A", 10<<20) + "\r\n")

	tests := []struct {
		name   string
		tls    probe.TLSMode
		script func(c *hostile.Conn)
		code   probe.Code
		phase  string
		reply  string
	}{
		{name: "never greets", code: probe.Timeout, phase: "greeting",
			script: func(c *hostile.Conn) { c.Hang() }},
		{name: "greets one byte a second", code: probe.Timeout, phase: "greeting",
			script: func(c *hostile.Conn) { c.Drip("220 slow.example ESMTP\r\n", hostile.DripEvery) }},
		{name: "garbage greeting", code: probe.ProtocolViolation, phase: "greeting",
			script: func(c *hostile.Conn) { c.Send("HTTP/1.1 400 Bad Request\r\n\r\n"); c.Hang() }},
		{name: "invalid UTF-8 and NUL in the greeting", code: probe.ProtocolViolation, phase: "greeting",
			script: func(c *hostile.Conn) { c.Send("\xff\xfe\x00garbage\x00\xc3\x28\r\n"); c.Hang() }},
		{name: "a 10 MiB line", code: probe.ProtocolViolation, phase: "greeting",
			script: func(c *hostile.Conn) { c.Write(huge); c.Hang() }},
		{name: "EHLO continuation lines forever", code: probe.ProtocolViolation, phase: "capabilities",
			script: func(c *hostile.Conn) {
				c.Send("220 hostile.example ESMTP\r\n")
				c.ReadLine()
				c.Forever(func() bool { return c.Send("250-X-MORE and more and more\r\n") })
			}},
		{name: "close right after the greeting", code: probe.Disconnected, phase: "capabilities",
			script: func(c *hostile.Conn) { c.Send("220 hostile.example ESMTP\r\n"); c.ReadLine() }},
		{name: "close in the middle of a reply", code: probe.Disconnected, phase: "capabilities",
			script: func(c *hostile.Conn) {
				c.Send("220 hostile.example ESMTP\r\n")
				c.ReadLine()
				c.Send("250-hostile.example\r\n250-PIPEL")
			}},
		{name: "421 greeting", code: probe.ServiceError, phase: "greeting", reply: "421 4.3.2 too busy, try later",
			script: func(c *hostile.Conn) { c.Send("421 4.3.2 too busy, try later\r\n"); c.ReadLine() }},
		{name: "554 greeting", code: probe.ServiceError, phase: "greeting", reply: "554 no SMTP service here",
			script: func(c *hostile.Conn) { c.Send("554 no SMTP service here\r\n"); c.ReadLine() }},
		{name: "multi-line greeting with a changing code", code: probe.ProtocolViolation, phase: "greeting",
			script: func(c *hostile.Conn) { c.Send("220-hello\r\n250 world\r\n"); c.Hang() }},
		{name: "EHLO and HELO refused", code: probe.ServiceError, phase: "capabilities", reply: "550 go away",
			script: func(c *hostile.Conn) {
				c.Send("220 hostile.example ESMTP\r\n")
				c.ReadLine()
				c.Send("502 command not implemented\r\n")
				c.ReadLine()
				c.Send("550 go away\r\n")
				c.ReadLine()
			}},
		{name: "STARTTLS advertised then refused", tls: probe.TLSStartTLS, code: probe.TLSUnavailable, phase: "starttls", reply: "454 4.7.0 TLS not available",
			script: func(c *hostile.Conn) {
				c.Send("220 hostile.example ESMTP\r\n")
				c.ReadLine()
				c.Send(ehloOK)
				c.ReadLine()
				c.Send("454 4.7.0 TLS not available\r\n")
				if strings.HasPrefix(c.ReadLine(), "QUIT") {
					c.Send("221 bye\r\n")
				}
			}},
		{name: "STARTTLS reply followed by injected plaintext", tls: probe.TLSStartTLS, code: probe.ProtocolViolation, phase: "tls",
			script: func(c *hostile.Conn) {
				c.Send("220 hostile.example ESMTP\r\n")
				c.ReadLine()
				c.Send(ehloOK)
				c.ReadLine()
				// One write: the agreement and a forged reply behind it.
				c.Send("220 2.0.0 go ahead\r\n250-hostile.example\r\n250 AUTH PLAIN\r\n")
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				if n, _ := c.Read(make([]byte, 1)); n > 0 {
					injectedActedOn.Store(true) // the client sent something: a ClientHello or a command
				}
			}},
		{name: "expired certificate", tls: probe.TLSImplicit, code: probe.CertInvalid, phase: "tls",
			script: func(c *hostile.Conn) {
				if tc := c.TLS(expired); tc != nil {
					tc.Send("220 hostile.example\r\n")
					tc.Hang()
				}
			}},
		{name: "certificate for another host", tls: probe.TLSStartTLS, code: probe.CertInvalid, phase: "tls",
			script: func(c *hostile.Conn) {
				c.Send("220 hostile.example ESMTP\r\n")
				c.ReadLine()
				c.Send(ehloOK)
				c.ReadLine()
				c.Send("220 go ahead\r\n")
				if tc := c.TLS(otherHost); tc != nil {
					tc.Hang()
				}
			}},
		{name: "garbage instead of a TLS handshake", tls: probe.TLSImplicit, code: probe.TLSFailed, phase: "tls",
			script: func(c *hostile.Conn) { c.Send("220 this is not TLS at all\r\n"); c.Hang() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leak.Check(t)
			srv := hostile.Start(t, tc.script)
			const timeout = hostile.Deadline
			var r *probe.Result
			el, late := hostile.Timed(timeout, func() {
				r = probe.Run(context.Background(), Kind(), probe.Config{
					Type: "smtp", Host: srv.Host, Port: srv.Port, TLS: tc.tls, CAFile: caFile, Timeout: timeout,
				})
			})
			hostile.CheckDeadline(t, timeout, el, late)
			wantCode(t, r, tc.code)
			if r.Error.Phase != tc.phase {
				t.Errorf("phase %q, want %q", r.Error.Phase, tc.phase)
			}
			if r.Error.Reply != tc.reply {
				t.Errorf("reply %q, want %q", r.Error.Reply, tc.reply)
			}
			for _, l := range append(r.Transcript, r.Error.Detail, r.Error.Reply) {
				if !utf8.ValidString(l) || strings.ContainsRune(l, 0) {
					t.Errorf("stored text is not clean UTF-8: %q", l)
				}
				if len(l) > 1024 {
					t.Errorf("stored line of %d bytes", len(l))
				}
			}
		})
	}
	if injectedActedOn.Load() {
		t.Error("the client went on talking after plaintext was injected behind the STARTTLS reply")
	}
}

// TestNoPipeliningWithSTARTTLS checks that the client waits for the STARTTLS
// reply and the handshake before sending anything else.
func TestNoPipeliningWithSTARTTLS(t *testing.T) {
	ca := certs.NewCA(t)
	cert := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	got := make(chan string, 1)
	srv := hostile.Start(t, func(c *hostile.Conn) {
		c.Send("220 hostile.example ESMTP\r\n")
		c.ReadLine()
		c.Send(ehloOK)
		cmd := c.ReadLine()
		// Anything sent right behind STARTTLS would already be buffered.
		time.Sleep(50 * time.Millisecond)
		got <- cmd + "|" + string(peekBuffered(c))
		c.Send("220 go ahead\r\n")
		if tc := c.TLS(cert); tc != nil {
			tc.ReadLine()
			tc.Send("250 hostile.example\r\n")
			tc.ReadLine()
			tc.Send("221 bye\r\n")
		}
	})
	r := probe.Run(context.Background(), Kind(), probe.Config{Type: "smtp", Host: srv.Host, Port: srv.Port, TLS: probe.TLSStartTLS, CAFile: ca.File(t), Timeout: 3 * time.Second})
	wantUp(t, r)
	if g := <-got; g != "STARTTLS\r\n|" {
		t.Errorf("server saw %q: something was pipelined with STARTTLS", g)
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
