package discover

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakeimap"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

// The STARTTLS behaviours of scriptedSMTP.
const (
	injSafe      = "safe"       // discards what came behind STARTTLS
	injInsideTLS = "inside-tls" // CVE-2011-0411: answers it within TLS
	injPlaintext = "plaintext"  // answers it in the clear before the handshake
	noTLS        = "no-tls"     // agrees to STARTTLS, then hangs up
	// inj454 reads what came behind STARTTLS as the start of the handshake
	// and refuses TLS, in plaintext, once the client's handshake is under
	// way; inj454Early says so at once, with its agreement.
	inj454      = "454"
	inj454Early = "454-early"
	injGarbage  = "garbage" // answers the handshake with bytes that are not TLS
)

// scriptedSMTP is an SMTP server with STARTTLS whose handling of commands
// pipelined behind STARTTLS is chosen by mode. It only ever answers NOOP,
// EHLO, STARTTLS and QUIT.
func scriptedSMTP(t *testing.T, cfg *tls.Config, mode string) *hostile.Server {
	return hostile.Start(t, func(c *hostile.Conn) {
		c.Send("220 scripted ESMTP\r\n")
		inTLS := false
		for {
			l := c.ReadLine()
			if l == "" {
				return
			}
			switch verb := strings.ToUpper(strings.TrimSpace(l)); {
			case strings.HasPrefix(verb, "EHLO "):
				if inTLS {
					c.Send("250-scripted\r\n250 AUTH PLAIN\r\n")
				} else {
					c.Send("250-scripted\r\n250-SIZE 1000\r\n250 STARTTLS\r\n")
				}
			case verb == "STARTTLS" && !inTLS:
				var behind []string
				for c.R.Buffered() > 0 {
					behind = append(behind, c.ReadLine())
				}
				if len(behind) > 0 && mode == inj454Early {
					c.Send("220 2.0.0 Ready to start TLS\r\n454 4.7.0 TLS negotiation failed\r\n")
					return
				}
				c.Send("220 2.0.0 Ready to start TLS\r\n")
				if mode == noTLS {
					return
				}
				if len(behind) > 0 && (mode == inj454 || mode == injGarbage) {
					c.SetReadDeadline(time.Now().Add(5 * time.Second))
					if _, err := c.R.ReadByte(); err != nil { // the client's handshake began
						return
					}
					if mode == inj454 {
						c.Send("454 4.7.0 TLS negotiation failed\r\n")
					} else {
						c.Send("\x00\x01\x02\x03\x04\x05\x06")
					}
					return
				}
				if mode == injPlaintext {
					for range behind {
						c.Send("250 2.0.0 Ok\r\n")
					}
				}
				if c = c.TLS(cfg); c == nil {
					return
				}
				inTLS = true
				if mode == injInsideTLS {
					for range behind {
						c.Send("250 2.0.0 Ok\r\n")
					}
				}
			case verb == "NOOP":
				c.Send("250 2.0.0 Ok\r\n")
			case verb == "QUIT":
				c.Send("221 2.0.0 Bye\r\n")
				return
			default:
				c.Send("502 5.5.2 Error: command not recognized\r\n")
			}
		}
	})
}

// want is what a discovery must find on one service, exactly.
type want struct {
	open       bool
	code       probe.Code // error code, when not open
	tlsMode    string
	tlsVersion string
	versions   []string
	before     []string
	after      []string
	injection  string
	grade      Grade
	reasons    []string
	check      func(t *testing.T, s *Service)
}

func TestDiscoverVerdicts(t *testing.T) {
	ca := certs.NewCA(t)
	good := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	oldOnly := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	oldOnly.MinVersion, oldOnly.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	accounts := saslsrv.Accounts{Passwords: map[string]string{"u@example.test": "pw"}}
	mechs := []string{"PLAIN", "LOGIN"}
	modern := []string{"TLS1.2", "TLS1.3"}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	cases := []struct {
		name    string
		service string
		port    func(t *testing.T) int
		want    want
	}{
		{"smtp with STARTTLS, AUTH only within TLS", "submission", func(t *testing.T) int {
			return fakesmtp.Start(t, fakesmtp.Options{TLS: good, Accounts: accounts, Mechs: mechs}).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern, after: mechs,
			injection: InjectionSafe, grade: GradeGood,
			check: func(t *testing.T, s *Service) {
				if c := s.Cert; c == nil || !c.Verified || c.VerifiedFor != "127.0.0.1" || c.DaysLeft < 360 || c.Subject != "CN=localhost" || c.Issuer != "CN=mailmon test CA" {
					t.Errorf("certificate: %+v", s.Cert)
				}
				if !strings.HasPrefix(s.Greeting, "220 ") || !slices.Contains(s.Extensions, "AUTH") || slices.Contains(s.Extensions, "STARTTLS") {
					t.Errorf("greeting %q, extensions within TLS %v", s.Greeting, s.Extensions)
				}
			}}},
		{"smtp offering AUTH before TLS", "submission", func(t *testing.T) int {
			return fakesmtp.Start(t, fakesmtp.Options{TLS: good, Accounts: accounts, Mechs: mechs, AllowInsecureAuth: true}).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern, before: mechs, after: mechs,
			injection: InjectionSafe, grade: GradeBad, reasons: []string{ReasonPlaintextAuth}}},
		{"smtp without STARTTLS", "smtp", func(t *testing.T) int {
			return fakesmtp.Start(t, fakesmtp.Options{}).Port
		}, want{open: true, tlsMode: "none", injection: InjectionUntested, grade: GradeBad, reasons: []string{ReasonStartTLSMissing},
			check: func(t *testing.T, s *Service) {
				if s.TLS != nil || s.Cert != nil || s.StartTLS {
					t.Errorf("TLS facts without TLS: %+v", s)
				}
			}}},
		{"implicit TLS 1.0 and 1.1 only", "smtps", func(t *testing.T) int {
			return fakesmtp.Start(t, fakesmtp.Options{TLS: oldOnly, Implicit: true}).Port
		}, want{open: true, tlsMode: "implicit", tlsVersion: "TLS1.1", versions: []string{"TLS1.0", "TLS1.1"},
			injection: InjectionUntested, grade: GradeWeak, reasons: []string{ReasonOldTLS}}},
		{"expired certificate", "smtp", func(t *testing.T) int {
			return fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Expired(t))}).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern,
			injection: InjectionSafe, grade: GradeBad, reasons: []string{ReasonCertInvalid},
			check: func(t *testing.T, s *Service) {
				if c := s.Cert; c == nil || c.Verified || c.DaysLeft != -2 || !strings.Contains(c.VerifyError, "expired") {
					t.Errorf("certificate: %+v", s.Cert)
				}
			}}},
		{"certificate expiring in 5 days", "smtp", func(t *testing.T) int {
			return fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.ExpiringIn(t, 5*24*time.Hour+time.Hour))}).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern,
			injection: InjectionSafe, grade: GradeWeak, reasons: []string{ReasonCertExpiring}}},
		{"certificate for another host", "smtp", func(t *testing.T) int {
			return fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.OtherHost(t))}).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern,
			injection: InjectionSafe, grade: GradeBad, reasons: []string{ReasonCertInvalid}}},
		{"STARTTLS injection: answered inside TLS", "smtp", func(t *testing.T) int {
			return scriptedSMTP(t, good, injInsideTLS).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern, after: []string{"PLAIN"},
			injection: InjectionVulnerable, grade: GradeBad, reasons: []string{ReasonStartTLSInjected},
			check: func(t *testing.T, s *Service) {
				if !strings.Contains(s.InjectionDetail, "inside TLS") || s.SizeLimit != 0 {
					t.Errorf("injection detail %q, size %d", s.InjectionDetail, s.SizeLimit)
				}
			}}},
		{"STARTTLS injection: answered in plaintext", "smtp", func(t *testing.T) int {
			return scriptedSMTP(t, good, injPlaintext).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern, after: []string{"PLAIN"},
			injection: InjectionVulnerable, grade: GradeBad, reasons: []string{ReasonStartTLSInjected},
			check: func(t *testing.T, s *Service) {
				if !strings.Contains(s.InjectionDetail, "in plaintext") {
					t.Errorf("injection detail %q", s.InjectionDetail)
				}
			}}},
		{"STARTTLS injection: discarded", "smtp", func(t *testing.T) int {
			return scriptedSMTP(t, good, injSafe).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern, after: []string{"PLAIN"},
			injection: InjectionSafe, grade: GradeGood,
			check: func(t *testing.T, s *Service) {
				if !strings.Contains(s.InjectionDetail, "not answered") {
					t.Errorf("injection detail %q", s.InjectionDetail)
				}
			}}},
		{"STARTTLS injection: NOOP read as handshake, TLS refused", "smtp", func(t *testing.T) int {
			return scriptedSMTP(t, good, inj454).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern, after: []string{"PLAIN"},
			injection: InjectionSafe, grade: GradeGood,
			check: func(t *testing.T, s *Service) {
				if s.InjectionDetail != "refused TLS after reading the pipelined NOOP: 454 4.7.0 TLS negotiation failed" {
					t.Errorf("injection detail %q", s.InjectionDetail)
				}
			}}},
		{"STARTTLS injection: TLS refused with the agreement", "smtp", func(t *testing.T) int {
			return scriptedSMTP(t, good, inj454Early).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern, after: []string{"PLAIN"},
			injection: InjectionSafe, grade: GradeGood,
			check: func(t *testing.T, s *Service) {
				if s.InjectionDetail != "refused TLS after reading the pipelined NOOP: 454 4.7.0 TLS negotiation failed" {
					t.Errorf("injection detail %q", s.InjectionDetail)
				}
			}}},
		{"STARTTLS injection: bytes that are not TLS", "smtp", func(t *testing.T) int {
			return scriptedSMTP(t, good, injGarbage).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern, after: []string{"PLAIN"},
			injection: InjectionSafe, grade: GradeGood,
			check: func(t *testing.T, s *Service) {
				if !strings.HasPrefix(s.InjectionDetail, "TLS record error after STARTTLS: the server sent \"\\x00\\x01") {
					t.Errorf("injection detail %q", s.InjectionDetail)
				}
			}}},
		{"STARTTLS advertised, TLS never starts", "smtp", func(t *testing.T) int {
			return scriptedSMTP(t, good, noTLS).Port
		}, want{open: true, code: probe.Disconnected, tlsMode: "starttls", injection: InjectionUntested, grade: GradeBad, reasons: []string{ReasonNoTLS},
			check: func(t *testing.T, s *Service) {
				if s.InjectionDetail != "not tested: TLS could not be started" || s.SizeLimit != 1000 {
					t.Errorf("error %s %q, injection %q, size %d", s.ErrorCode, s.Error, s.InjectionDetail, s.SizeLimit)
				}
				if !slices.Contains(s.Transcript, "C: STARTTLS") || !slices.Contains(s.Transcript, "S: 220 2.0.0 Ready to start TLS") {
					t.Errorf("transcript %q", s.Transcript)
				}
			}}},
		{"pop3 with STLS, USER before TLS", "pop3", func(t *testing.T) int {
			return fakepop3.Start(t, fakepop3.Options{STLS: true, TLS: good, SASL: []string{"PLAIN"}, DiscardAfterSTLS: true}).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern,
			before: []string{"USER", "PLAIN"}, after: []string{"USER", "PLAIN"},
			injection: InjectionSafe, grade: GradeBad, reasons: []string{ReasonPlaintextAuth}}},
		{"pop3 with APOP and CRAM-MD5 only before TLS", "pop3", func(t *testing.T) int {
			return fakepop3.Start(t, fakepop3.Options{STLS: true, TLS: good, APOP: true, NoUSER: true, SASL: []string{"CRAM-MD5"}, DiscardAfterSTLS: true}).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern,
			before: []string{"APOP", "CRAM-MD5"}, after: []string{"APOP", "CRAM-MD5"},
			injection: InjectionSafe, grade: GradeGood}},
		{"pop3s", "pop3s", func(t *testing.T) int {
			return fakepop3.Start(t, fakepop3.Options{Implicit: true, TLS: good}).Port
		}, want{open: true, tlsMode: "implicit", tlsVersion: "TLS1.3", versions: modern, after: []string{"USER"},
			injection: InjectionUntested, grade: GradeGood}},
		{"imap with STARTTLS, LOGINDISABLED before TLS", "imap", func(t *testing.T) int {
			return fakeimap.Start(t, fakeimap.Options{TLSConfig: good}).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern, after: []string{"LOGIN", "PLAIN"},
			injection: InjectionSafe, grade: GradeGood}},
		{"imap allowing LOGIN before TLS", "imap", func(t *testing.T) int {
			return fakeimap.Start(t, fakeimap.Options{TLSConfig: good, InsecureAuth: true}).Port
		}, want{open: true, tlsMode: "starttls", tlsVersion: "TLS1.3", versions: modern,
			before: []string{"LOGIN", "PLAIN"}, after: []string{"LOGIN", "PLAIN"},
			injection: InjectionSafe, grade: GradeBad, reasons: []string{ReasonPlaintextAuth}}},
		{"imaps", "imaps", func(t *testing.T) int {
			return fakeimap.Start(t, fakeimap.Options{TLSConfig: good, Implicit: true}).Port
		}, want{open: true, tlsMode: "implicit", tlsVersion: "TLS1.3", versions: modern, after: []string{"LOGIN", "PLAIN"},
			injection: InjectionUntested, grade: GradeGood}},
		{"implicit TLS port speaking plaintext", "smtps", func(t *testing.T) int {
			return fakesmtp.Start(t, fakesmtp.Options{}).Port
		}, want{code: probe.TLSFailed, tlsMode: "implicit", injection: InjectionUntested, grade: GradeBad, reasons: []string{ReasonNoTLS},
			check: func(t *testing.T, s *Service) {
				if !s.Listening {
					t.Error("not listening")
				}
			}}},
		{"nothing listening", "imap", func(t *testing.T) int { return closedPort },
			want{code: probe.ConnectFailed, tlsMode: "none", injection: InjectionUntested}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port := tc.port(t)
			r := Run(context.Background(), "127.0.0.1", Options{
				Ports: []Port{{tc.service, port}}, RootCAs: ca.Pool(), Timeout: 10 * time.Second,
				InjectionWait: 300 * time.Millisecond,
			})
			if len(r.Hosts) != 1 || len(r.Hosts[0].Services) != 1 || r.Domain || r.Error != "" {
				t.Fatalf("report: %+v", r)
			}
			s := r.Hosts[0].Services[0]
			checkService(t, &s, tc.service, port, tc.want)
		})
	}
}

func checkService(t *testing.T, s *Service, service string, port int, w want) {
	t.Helper()
	byName, _ := services()
	info := byName[service]
	if s.Name != service || s.Port != port || s.Protocol != info.protocol || s.Implicit != info.implicit {
		t.Errorf("identity: %s %d %s implicit %v", s.Name, s.Port, s.Protocol, s.Implicit)
	}
	if s.Open != w.open || s.ErrorCode != w.code {
		t.Fatalf("open %v (want %v), error %s %q (want %s)", s.Open, w.open, s.ErrorCode, s.Error, w.code)
	}
	if w.open && w.code == "" && s.Error != "" {
		t.Errorf("error on an open service: %s %s", s.ErrorCode, s.Error)
	}
	version := ""
	if s.TLS != nil {
		version = s.TLS.Version
	}
	if s.TLSMode != w.tlsMode || version != w.tlsVersion || !slices.Equal(s.TLSVersions, w.versions) {
		t.Errorf("tls: mode %s version %q versions %v; want %s %q %v", s.TLSMode, version, s.TLSVersions, w.tlsMode, w.tlsVersion, w.versions)
	}
	if s.StartTLS != (w.tlsMode == "starttls") {
		t.Errorf("STARTTLS advertised: %v", s.StartTLS)
	}
	if !slices.Equal(s.AuthBeforeTLS, w.before) || !slices.Equal(s.AuthAfterTLS, w.after) {
		t.Errorf("auth before TLS %v, after %v; want %v, %v", s.AuthBeforeTLS, s.AuthAfterTLS, w.before, w.after)
	}
	if s.Injection != w.injection {
		t.Errorf("injection %s (%s), want %s", s.Injection, s.InjectionDetail, w.injection)
	}
	if s.Verdict.Grade != w.grade || !slices.Equal(s.Verdict.Codes(), w.reasons) {
		t.Errorf("verdict %s %v, want %s %v: %+v", s.Verdict.Grade, s.Verdict.Codes(), w.grade, w.reasons, s.Verdict.Reasons)
	}
	if w.check != nil {
		w.check(t, s)
	}
}
