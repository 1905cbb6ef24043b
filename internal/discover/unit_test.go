package discover

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/blackhole"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakedns"
	"github.com/mailmon/mailmon/internal/testutil/fakeimap"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
)

func TestParsePorts(t *testing.T) {
	cases := []struct {
		in   string
		want []Port
		err  string
	}{
		{"smtp:2525,imaps:10993", []Port{{"smtp", 2525}, {"imaps", 10993}}, ""},
		{"submission", []Port{{"submission", 587}}, ""},
		{"default", DefaultPorts(), ""},
		{"default,smtp:2525,smtp", append(DefaultPorts(), Port{"smtp", 2525}), ""},
		{" POP3S:1995 , ", []Port{{"pop3s", 1995}}, ""},
		{"http:80", nil, `"http:80": the service must be one of smtp, smtps, submission, pop3, pop3s, imap, imaps (or default)`},
		{"smtp:0", nil, `"smtp:0": "0" is not a port between 1 and 65535`},
		{"smtp:x", nil, `"smtp:x": "x" is not a port between 1 and 65535`},
		{"", nil, "no port given"},
	}
	for _, c := range cases {
		got, err := ParsePorts(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParsePorts(%q) error %v, want %s", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParsePorts(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// TestJudge is the verdict as a pure function of the facts.
func TestJudge(t *testing.T) {
	verified := &Cert{Verified: true, DaysLeft: 100, VerifiedFor: "mx.example"}
	tls13 := &TLS{Version: "TLS1.3"}
	cases := []struct {
		name    string
		s       Service
		grade   Grade
		reasons []string
	}{
		{"good starttls", Service{StartTLS: true, TLS: tls13, Cert: verified, TLSVersions: []string{"TLS1.2", "TLS1.3"}, Injection: InjectionSafe}, GradeGood, nil},
		{"good implicit", Service{Implicit: true, TLS: tls13, Cert: verified}, GradeGood, nil},
		{"implicit without TLS", Service{Implicit: true}, GradeBad, []string{ReasonNoTLS}},
		{"STARTTLS advertised, refused", Service{StartTLS: true}, GradeBad, []string{ReasonNoTLS}},
		{"no STARTTLS, plaintext auth", Service{AuthBeforeTLS: []string{"CRAM-MD5", "PLAIN"}, PlaintextAuthBeforeTLS: true}, GradeBad,
			[]string{ReasonStartTLSMissing, ReasonPlaintextAuth}},
		{"weak first, bad later: sorted worst first", Service{StartTLS: true, TLS: tls13, Cert: &Cert{Verified: true, DaysLeft: 3},
			TLSVersions: []string{"TLS1.1", "TLS1.2"}, Injection: InjectionVulnerable}, GradeBad,
			[]string{ReasonStartTLSInjected, ReasonCertExpiring, ReasonOldTLS}},
		{"unverified beats expiring", Service{Implicit: true, TLS: tls13, Cert: &Cert{Verified: false, DaysLeft: -3, VerifyError: "x509: expired"}}, GradeBad,
			[]string{ReasonCertInvalid}},
		{"expires today", Service{Implicit: true, TLS: tls13, Cert: &Cert{Verified: true, DaysLeft: 0}}, GradeWeak,
			[]string{ReasonCertExpiring}},
	}
	for _, c := range cases {
		v := Judge(&c.s, 14)
		if v.Grade != c.grade || !slices.Equal(v.Codes(), c.reasons) {
			t.Errorf("%s: %s %v, want %s %v", c.name, v.Grade, v.Codes(), c.grade, c.reasons)
		}
	}
	plain := Judge(&Service{AuthBeforeTLS: []string{"CRAM-MD5", "PLAIN", "LOGIN"}, PlaintextAuthBeforeTLS: true, StartTLS: true, TLS: tls13}, 14)
	if m := plain.Reasons[0].Message; !strings.Contains(m, "PLAIN, LOGIN before TLS") {
		t.Errorf("message %q should name the mechanisms that expose the password", m)
	}
	if v := Judge(&Service{Implicit: true, TLS: tls13, Cert: &Cert{Verified: true, DaysLeft: 0}}, -1); v.Grade != GradeGood {
		t.Errorf("cert warn days -1 (never): %s %v", v.Grade, v.Codes())
	}
}

// dnsServer answers MX and A queries for example.test from a table, on a
// free loopback port.
func dnsServer(t *testing.T, records map[string][]dns.RR) string {
	return fakedns.Start(t, fakedns.Table(records))
}

func rr(t *testing.T, s string) dns.RR { return fakedns.RR(t, s) }

// TestDiscoverDomainMX: a domain with two MX records is discovered host by
// host in preference order, through the DNS server given as resolver;
// the proposed YAML names both hosts.
func TestDiscoverDomainMX(t *testing.T) {
	ca := certs.NewCA(t)
	smtp := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{Names: []string{"mx1.example.test", "mx2.example.test"}}))})
	addr := dnsServer(t, map[string][]dns.RR{
		"example.test.": {
			rr(t, "example.test. 60 IN MX 20 mx2.example.test."),
			rr(t, "example.test. 60 IN MX 10 mx1.example.test."),
		},
		"mx1.example.test.": {rr(t, "mx1.example.test. 60 IN A 127.0.0.1")},
		"mx2.example.test.": {rr(t, "mx2.example.test. 60 IN A 127.0.0.1")},
		"nomail.test.":      {rr(t, "nomail.test. 60 IN MX 0 .")},
		"host.test.":        {rr(t, "host.test. 60 IN A 127.0.0.1")},
	})
	res, err := NewResolver(addr)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Ports: []Port{{"smtp", smtp.Port}}, Resolver: res, RootCAs: ca.Pool(), Timeout: 10 * time.Second, InjectionWait: 200 * time.Millisecond}
	r := Run(context.Background(), "example.test", o)
	if !r.Domain || r.Error != "" || len(r.Hosts) != 2 {
		t.Fatalf("report: %+v", r)
	}
	for i, w := range []struct {
		name string
		pref uint16
	}{{"mx1.example.test", 10}, {"mx2.example.test", 20}} {
		h := r.Hosts[i]
		if h.Name != w.name || h.Preference == nil || *h.Preference != w.pref || !slices.Equal(h.Addresses, []string{"127.0.0.1"}) {
			t.Errorf("host %d: %+v", i, h)
		}
		if s := h.Services[0]; !s.Open || s.Verdict.Grade != GradeGood || s.Cert == nil || s.Cert.VerifiedFor != w.name {
			t.Errorf("host %s service: %+v", w.name, s)
		}
	}
	f, _ := proposal(t, r, o)
	if len(f.Devices) != 2 || f.Devices[0].Name != "mx1.example.test" || f.Devices[1].Address != "mx2.example.test" {
		t.Errorf("devices: %+v", f.Devices)
	}

	if r := Run(context.Background(), "nomail.test", o); !r.Domain || r.Error != ErrNullMX.Error() || r.Found() {
		t.Errorf("null MX: %+v", r)
	}
	if r := Run(context.Background(), "host.test", o); r.Domain || len(r.Hosts) != 1 || r.Hosts[0].Name != "host.test" || !r.Found() {
		t.Errorf("a name without MX is a host: %+v", r)
	}
	if r := Run(context.Background(), "missing.test", o); r.Domain || len(r.Hosts) != 1 || r.Hosts[0].Error == "" || r.Found() {
		t.Errorf("a name that does not exist: %+v", r)
	}
}

// TestDiscoverBlackHoledAddress: a host name whose first address (IPv6,
// preferred by RFC 6724) drops SYNs and whose second answers is discovered
// well within the time limit: the address after the black hole is tried
// 250 ms later (Happy Eyeballs), not after the deadline.
func TestDiscoverBlackHoledAddress(t *testing.T) {
	smtp := fakesmtp.Start(t, fakesmtp.Options{})
	blackhole.Listen(t, netip.MustParseAddr("::1"), smtp.Port)
	addr := dnsServer(t, map[string][]dns.RR{
		"dual.test.": {rr(t, "dual.test. 60 IN AAAA ::1"), rr(t, "dual.test. 60 IN A 127.0.0.1")},
	})
	res, err := NewResolver(addr)
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 6 * time.Second
	start := time.Now()
	r := Run(context.Background(), "dual.test", Options{Ports: []Port{{"smtp", smtp.Port}}, Resolver: res, Timeout: timeout})
	took := time.Since(start)
	if len(r.Hosts) != 1 || !slices.Equal(r.Hosts[0].Addresses, []string{"::1", "127.0.0.1"}) {
		t.Fatalf("hosts: %+v", r.Hosts)
	}
	if s := r.Hosts[0].Services[0]; !s.Open || !strings.HasPrefix(s.Greeting, "220 ") {
		t.Errorf("service after %v: %+v", took, s)
	}
	if took > timeout/2 {
		t.Errorf("took %v of a %v time limit", took, timeout)
	}
}

// TestProposal: one device per host with a ping, a tcp monitor per open
// service and the service's monitor depending on it; valid for apply.
func TestProposal(t *testing.T) {
	ca := certs.NewCA(t)
	good := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	caFile := ca.File(t)
	smtp := fakesmtp.Start(t, fakesmtp.Options{TLS: good})
	imaps := fakeimap.Start(t, fakeimap.Options{TLSConfig: good, Implicit: true})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	o := Options{Ports: []Port{{"smtp", smtp.Port}, {"imaps", imaps.Port}, {"pop3", closed}}, RootCAs: ca.Pool(),
		CAFile: caFile, ServerName: "localhost", EHLOName: "monitor.example", InjectionWait: 200 * time.Millisecond}
	r := Run(context.Background(), "127.0.0.1", o)
	f, b := proposal(t, r, o)
	if len(f.Devices) != 1 {
		t.Fatalf("devices: %+v", f.Devices)
	}
	type mon struct {
		name, typ string
		port      int
		tls       string
		deps      []string
	}
	var got []mon
	for _, m := range f.Devices[0].Monitors {
		got = append(got, mon{m.Name, m.Type, m.Port, m.TLS, m.DependsOn})
	}
	want := []mon{
		{"Ping", "ping", 0, "none", nil},
		{"TCP " + itoa(smtp.Port), "tcp", smtp.Port, "none", []string{"Ping"}},
		{"SMTP " + itoa(smtp.Port), "smtp", smtp.Port, "starttls", []string{"TCP " + itoa(smtp.Port)}},
		{"TCP " + itoa(imaps.Port), "tcp", imaps.Port, "none", []string{"Ping"}},
		{"IMAPS " + itoa(imaps.Port), "imap", imaps.Port, "implicit", []string{"TCP " + itoa(imaps.Port)}},
	}
	if !slices.EqualFunc(got, want, func(a, b mon) bool {
		return a.name == b.name && a.typ == b.typ && a.port == b.port && a.tls == b.tls && slices.Equal(a.deps, b.deps)
	}) {
		t.Errorf("monitors:\n%+v\nwant\n%+v\n%s", got, want, b.String())
	}
	m := f.Devices[0].Monitors[2]
	if m.CA != caFile || m.ServerName != "localhost" || m.EHLO != "monitor.example" {
		t.Errorf("smtp monitor settings: %+v", m)
	}
	if !strings.HasPrefix(b.String(), "# mailmon discover 127.0.0.1") || !strings.Contains(b.String(), "# 127.0.0.1 smtp "+itoa(smtp.Port)+": good\n") {
		t.Errorf("header comments:\n%s", b.String())
	}

	var table bytes.Buffer
	WriteTable(&table, r, false)
	out := table.String()
	for _, s := range []string{"HOST", "127.0.0.1  smtp", "starttls TLS1.3", "closed", "good", "injection", "certificate"} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "\033[") {
		t.Errorf("colours without a terminal:\n%s", out)
	}
	table.Reset()
	WriteTable(&table, r, true)
	if !strings.Contains(table.String(), green+"good"+reset) {
		t.Errorf("no colours on a terminal:\n%s", table.String())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDiscoverWithinTimeLimit: a server that drips its greeting and one
// that never answers cost the discovery its time limit, no more; what
// could not be learned is reported as a timeout.
func TestDiscoverWithinTimeLimit(t *testing.T) {
	drip := hostile.Start(t, func(c *hostile.Conn) { c.Drip("220 slow ESMTP\r\n", 300*time.Millisecond) })
	hang := hostile.Start(t, func(c *hostile.Conn) { c.Hang() })
	start := time.Now()
	r := Run(context.Background(), "127.0.0.1", Options{Ports: []Port{{"smtp", drip.Port}, {"imaps", hang.Port}}, Timeout: time.Second})
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("took %v with a 1 s limit", took)
	}
	for _, s := range r.Hosts[0].Services {
		if s.Open || s.ErrorCode != probe.Timeout {
			t.Errorf("%s: open %v, %s %s", s.Name, s.Open, s.ErrorCode, s.Error)
		}
	}
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"smtp:25", "default,imaps:993", "pop3s", "", ",,", "smtp:99999", "IMAP:0143"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := ParsePorts(s)
		if err != nil {
			return
		}
		byName, _ := services()
		seen := map[Port]bool{}
		for _, p := range ports {
			if _, ok := byName[p.Service]; !ok || p.Port < 1 || p.Port > 65535 || seen[p] {
				t.Errorf("ParsePorts(%q) gave %v", s, p)
			}
			seen[p] = true
		}
	})
}

// TestDiscoverIPv6: an IPv6 literal is a host; its certificate is verified
// for the address, and the proposal is valid.
func TestDiscoverIPv6(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	ca := certs.NewCA(t)
	smtp := fakesmtp.Start(t, fakesmtp.Options{Network: "tcp6", TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{}))})
	o := Options{Ports: []Port{{"submission", smtp.Port}}, RootCAs: ca.Pool(), InjectionWait: 100 * time.Millisecond}
	r := Run(context.Background(), "::1", o)
	s := r.Hosts[0].Services[0]
	if r.Domain || !s.Open || s.Cert == nil || !s.Cert.Verified || s.Cert.VerifiedFor != "::1" || s.Verdict.Grade != GradeGood {
		t.Fatalf("%+v", s)
	}
	var b bytes.Buffer
	WriteYAML(&b, r, o)
	f, err := config.Parse("v6.yaml", b.Bytes())
	if err != nil || f.Devices[0].Address != "::1" {
		t.Errorf("%v\n%s", err, b.String())
	}
}

// TestNoopAnswer: what counts as the reply to the NOOP sent behind
// STARTTLS, per protocol, in plaintext and inside TLS.
func TestNoopAnswer(t *testing.T) {
	for _, tc := range []struct {
		protocol, line string
		plain, inTLS   bool
	}{
		{"smtp", "250 2.0.0 Ok", true, true},
		{"smtp", "250-first line", true, true},
		{"smtp", "250", true, true},
		{"smtp", "454 4.7.0 TLS negotiation failed", false, false},
		{"smtp", "421 4.4.2 closing", false, false},
		{"smtp", "2501 no", false, false},
		{"smtp", "\x16\x03\x01\x00\x05", false, false},
		{"pop3", "+OK", true, true},
		{"pop3", "-ERR unknown command", false, true}, // before TLS it may refuse TLS as well
		{"pop3", "-ERR TLS negotiation failed", false, true},
		{"pop3", "* OK", false, false},
		{"imap", "m2 OK NOOP completed", true, true},
		{"imap", "M2 BAD unknown command", true, true},
		{"imap", "m1 NO TLS negotiation failed", false, false},
		{"imap", "* BAD TLS negotiation failed", false, false},
		{"imap", "m22 OK", false, false},
	} {
		ss := map[string]session{"smtp": &smtpSession{}, "pop3": &pop3Session{}, "imap": &imapSession{}}[tc.protocol]
		if got := ss.noopAnswer(tc.line, false); got != tc.plain {
			t.Errorf("%s %q in plaintext: %v, want %v", tc.protocol, tc.line, got, tc.plain)
		}
		if got := ss.noopAnswer(tc.line, true); got != tc.inTLS {
			t.Errorf("%s %q inside TLS: %v, want %v", tc.protocol, tc.line, got, tc.inTLS)
		}
	}
}
