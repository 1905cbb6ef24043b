// Package fakedns is a DNS server for tests, on a free loopback port, that
// answers from a function: a table (discovery's MX records) or answers that
// change while the test runs (DNS rebinding).
package fakedns

import (
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Answer returns the records of a name (lower case, with its trailing
// dot); nil is "no such name". Records of other types than the question's
// are left out of the reply.
type Answer func(name string) []dns.RR

// Table answers from a map of name to records.
func Table(records map[string][]dns.RR) Answer {
	return func(name string) []dns.RR { return records[name] }
}

// Start serves answer on a free loopback UDP port until the test ends and
// returns its address (host:port).
func Start(t testing.TB, answer Answer) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative, m.RecursionAvailable = true, true
		rrs := answer(strings.ToLower(q.Question[0].Name))
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Question[0].Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		if rrs == nil {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: mux}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// RR parses a record in zone-file form ("host.test. 60 IN A 127.0.0.1").
func RR(t testing.TB, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
