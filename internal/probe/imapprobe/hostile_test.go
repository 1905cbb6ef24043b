package imapprobe

import (
	"context"
	"crypto/tls"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/leak"
)

const hostileTimeout = hostile.Deadline

// received collects, for the test, the lines a scripted server read after
// the point that matters.
type received chan string

func (r received) all() []string {
	var out []string
	for {
		select {
		case l := <-r:
			out = append(out, l)
		default:
			return out
		}
	}
}

// readAll reads client lines until the client goes away.
func readAll(c *hostile.Conn, into received) {
	for {
		l := c.ReadLine()
		if l == "" {
			return
		}
		select {
		case into <- strings.TrimRight(l, "\r\n"):
		default:
		}
	}
}

func TestHostile(t *testing.T) {
	ca := certs.NewCA(t)
	caFile := ca.File(t)
	expired := certs.ServerConfig(ca.Expired(t))
	otherHost := certs.ServerConfig(ca.OtherHost(t))
	// Built once, as bytes, before any probe's clock starts: building or
	// converting 10 MiB takes the server up to 0.8 s under -race on a
	// loaded machine, time the probe would spend waiting for a greeting.
	huge := []byte("* OK " + strings.Repeat("x", 10<<20) + "\r\n")

	starttlsThen := func(then func(c *hostile.Conn)) func(c *hostile.Conn) {
		return func(c *hostile.Conn) {
			c.Send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n")
			if l := c.ReadLine(); !strings.HasSuffix(l, " STARTTLS\r\n") {
				c.T.Errorf("expected STARTTLS, got %q", l)
				return
			}
			then(c)
		}
	}
	certCase := func(cfg *tls.Config) func(c *hostile.Conn) {
		return starttlsThen(func(c *hostile.Conn) {
			c.Send("a1 OK begin TLS now\r\n")
			if tc := c.TLS(cfg); tc != nil {
				c.T.Errorf("handshake with a bad certificate succeeded")
				tc.Close()
			}
		})
	}

	tests := []struct {
		name   string
		tls    probe.TLSMode
		login  bool
		script func(c *hostile.Conn, got received)
		code   probe.Code
		phase  string
		reply  string
		fast   bool // well within the timeout
		waits  bool // the script ends by itself: check after it did
		check  func(t *testing.T, r *probe.Result, got []string)
	}{
		{
			name:   "never greets",
			script: func(c *hostile.Conn, _ received) { c.Hang() },
			code:   probe.Timeout, phase: "greeting",
		},
		{
			name:   "greets one byte a second",
			script: func(c *hostile.Conn, _ received) { c.Drip("* OK [CAPABILITY IMAP4rev1] slow\r\n", hostile.DripEvery) },
			code:   probe.Timeout, phase: "greeting",
		},
		{
			name: "garbage greeting, invalid UTF-8",
			script: func(c *hostile.Conn, _ received) {
				c.Send("\x00\xff\xfe HELLO \x80\x81 garbage\r\n")
				c.Hang()
			},
			code: probe.ProtocolViolation, phase: "greeting", fast: true,
		},
		{
			name: "NO greeting with invalid UTF-8",
			script: func(c *hostile.Conn, _ received) {
				c.Send("* NO \xff\x00 not today\r\n")
				c.Hang()
			},
			code: probe.ProtocolViolation, phase: "greeting", fast: true,
			check: func(t *testing.T, r *probe.Result, _ []string) {
				if g, _ := r.Details["greeting"].(string); g != "* NO \uFFFD not today" {
					t.Errorf("greeting detail %q", g)
				}
			},
		},
		{
			name:   "10 MiB line",
			script: func(c *hostile.Conn, _ received) { c.Write(huge) },
			code:   probe.ProtocolViolation, phase: "greeting", fast: true,
		},
		{
			name: "endless multi-line reply",
			script: func(c *hostile.Conn, _ received) {
				c.Send("* OK hi\r\n")
				c.ReadLine()
				c.Forever(func() bool { return c.Send("* OK x\r\n") })
			},
			code: probe.ProtocolViolation, phase: "capabilities", fast: true,
		},
		{
			name: "huge literal announced",
			script: func(c *hostile.Conn, _ received) {
				c.Send("* OK hi\r\n")
				c.ReadLine()
				c.Send("* CAPABILITY {999999999999}\r\n")
				c.Hang()
			},
			code: probe.ProtocolViolation, phase: "capabilities", fast: true,
		},
		{
			name: "close right after the greeting",
			script: func(c *hostile.Conn, _ received) {
				c.Send("* OK hi\r\n")
			},
			code: probe.Disconnected, phase: "capabilities", fast: true,
		},
		{
			name: "close in the middle of a reply",
			script: func(c *hostile.Conn, _ received) {
				c.Send("* OK hi\r\n")
				c.ReadLine()
				c.Send("* CAPABILITY IMAP4rev1 STA")
			},
			code: probe.Disconnected, phase: "capabilities", fast: true,
		},
		{
			name: "silent after CAPABILITY",
			script: func(c *hostile.Conn, _ received) {
				c.Send("* OK hi\r\n")
				c.ReadLine()
				c.Hang()
			},
			code: probe.Timeout, phase: "capabilities",
		},
		{
			name: "STARTTLS advertised then refused",
			tls:  probe.TLSStartTLS,
			script: func(c *hostile.Conn, got received) {
				starttlsThen(func(c *hostile.Conn) {
					c.Send("a1 NO [UNAVAILABLE] TLS is broken today\r\n")
					l := c.ReadLine()
					got <- strings.TrimRight(l, "\r\n")
					c.Send("* BYE bye\r\na2 OK done\r\n")
				})(c)
			},
			code: probe.TLSUnavailable, phase: "starttls", reply: "a1 NO [UNAVAILABLE] TLS is broken today", fast: true, waits: true,
			check: func(t *testing.T, r *probe.Result, got []string) {
				if !slices.Equal(got, []string{"a2 LOGOUT"}) {
					t.Errorf("after the refusal the server got %q, want a polite LOGOUT", got)
				}
			},
		},
		{
			name:  "plaintext injected after the STARTTLS reply",
			tls:   probe.TLSStartTLS,
			login: true,
			script: func(c *hostile.Conn, got received) {
				starttlsThen(func(c *hostile.Conn) {
					c.Send("a1 OK begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\na2 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] done\r\n")
					readAll(c, got)
				})(c)
			},
			code: probe.ProtocolViolation, phase: "tls", fast: true, waits: true,
			check: func(t *testing.T, r *probe.Result, got []string) {
				if len(got) > 0 {
					t.Errorf("the client went on after the injection: sent %q", got)
				}
				if slices.Contains(r.Transcript, "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected") {
					t.Error("the injected line was read as protocol")
				}
				if r.TLSMode != "" || r.Auth != "" { // no mode was negotiated
					t.Errorf("TLS mode %q, auth %q after an injection", r.TLSMode, r.Auth)
				}
			},
		},
		{
			name:   "expired certificate",
			tls:    probe.TLSStartTLS,
			login:  true,
			script: func(c *hostile.Conn, _ received) { certCase(expired)(c) },
			code:   probe.CertInvalid, phase: "tls", fast: true,
			check: func(t *testing.T, r *probe.Result, _ []string) {
				if r.TLS == nil || r.TLS.CertNotAfter.IsZero() || r.TLS.CertNotAfter.After(time.Now()) || r.TLS.CertSubject == "" || r.TLS.DaysLeft >= 0 {
					t.Errorf("TLS facts %+v", r.TLS)
				}
			},
		},
		{
			name:   "certificate for another host",
			tls:    probe.TLSStartTLS,
			login:  true,
			script: func(c *hostile.Conn, _ received) { certCase(otherHost)(c) },
			code:   probe.CertInvalid, phase: "tls", fast: true,
			check: func(t *testing.T, r *probe.Result, _ []string) {
				if r.TLS == nil || r.TLS.CertNotAfter.IsZero() || r.TLS.CertSubject != "CN=mail.other.example" || !slices.Contains(r.TLS.CertNames, "mail.other.example") {
					t.Errorf("TLS facts %+v", r.TLS)
				}
			},
		},
		{
			name: "BYE greeting",
			script: func(c *hostile.Conn, got received) {
				c.Send("* BYE Too many connections from 127.0.0.1\r\n")
				readAll(c, got)
			},
			code: probe.ServiceError, phase: "greeting", reply: "* BYE Too many connections from 127.0.0.1", fast: true, waits: true,
			check: func(t *testing.T, r *probe.Result, got []string) {
				if len(got) > 0 {
					t.Errorf("the client spoke after BYE: %q", got)
				}
			},
		},
		{
			name: "BYE greeting with invalid UTF-8",
			script: func(c *hostile.Conn, _ received) {
				c.Send("* BYE \xff\xfe\x00maintenance\r\n")
				c.Hang()
			},
			code: probe.ServiceError, phase: "greeting", reply: "* BYE \uFFFDmaintenance", fast: true,
		},
		{
			name:  "BYE in the middle of login",
			login: true,
			script: func(c *hostile.Conn, _ received) {
				c.Send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n")
				c.ReadLine()
				c.Send("* BYE server shutting down\r\n")
				c.Hang()
			},
			code: probe.ServiceError, phase: "auth", reply: "* BYE server shutting down", fast: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			got := make(received, 16)
			finished := make(chan struct{}, 1)
			s := hostile.Start(t, func(c *hostile.Conn) {
				defer func() {
					select {
					case finished <- struct{}{}:
					default:
					}
				}()
				tt.script(c, got)
			})
			// A failure that must not wait for the deadline gets a long one,
			// so that "well before it" holds on a loaded machine too.
			timeout := hostileTimeout
			if tt.fast {
				timeout = 10 * time.Second
			}
			cfg := probe.Config{Type: "imap", Host: s.Host, Port: s.Port, TLS: tt.tls, Timeout: timeout, CAFile: caFile}
			if tt.login {
				cfg.User, cfg.Password, cfg.AllowPlaintextAuth = user, password, true
			}
			var r *probe.Result
			elapsed, late := hostile.Timed(timeout, func() { r = probe.Run(context.Background(), Kind(), cfg) })
			checkResult(t, r)
			hostile.CheckDeadline(t, timeout, elapsed, late)
			if tt.fast && elapsed > timeout/2 {
				t.Errorf("took %v: should fail at once", elapsed)
			}
			wantCode(t, r, tt.code)
			if r.Error.Phase != tt.phase {
				t.Errorf("phase %q, want %q", r.Error.Phase, tt.phase)
			}
			if tt.reply != "" && r.Error.Reply != tt.reply {
				t.Errorf("reply %q, want %q", r.Error.Reply, tt.reply)
			}
			if tt.waits {
				select {
				case <-finished:
				case <-time.After(2 * time.Second):
					t.Fatal("the server script did not end")
				}
			}
			if tt.check != nil {
				tt.check(t, r, got.all())
			}
		})
	}
}

// A literal announcement of nearly a terabyte fails at once and costs no
// memory near its size.
func TestHugeLiteralMemory(t *testing.T) {
	leak.Check(t)
	s := hostile.Start(t, func(c *hostile.Conn) {
		c.Send("* OK hi\r\n")
		c.ReadLine()
		c.Send("* CAPABILITY IMAP4rev1 {999999999999}\r\n")
		c.Hang()
	})
	cfg := probe.Config{Type: "imap", Host: s.Host, Port: s.Port, Timeout: hostileTimeout}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	r := probe.Run(context.Background(), Kind(), cfg)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	wantCode(t, r, probe.ProtocolViolation)
	if elapsed > 500*time.Millisecond {
		t.Errorf("took %v", elapsed)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 4<<20 {
		t.Errorf("allocated %d bytes", d)
	}
}
