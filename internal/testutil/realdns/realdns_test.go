package realdns

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestValidatesGoodAndRefusesTampered(t *testing.T) {
	s := Start(t,
		Zone{Name: "example.test", Records: "good TXT \"kept\"\nbad TXT \"original\"\n", Tamper: [][2]string{{`"original"`, `"changed"`}}},
		Zone{Name: "bl.test", Records: "2.0.0.127 A 127.0.0.2\n", Unsigned: true},
	)
	ask := func(name string, cd bool) *dns.Msg {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeTXT)
		m.SetEdns0(1232, true)
		m.CheckingDisabled = cd
		r, _, err := (&dns.Client{}).ExchangeContext(ctx, m, s.Resolver)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}
	if r := ask("good.example.test.", false); r.Rcode != dns.RcodeSuccess || !r.AuthenticatedData || len(r.Answer) == 0 {
		t.Errorf("good: rcode %s ad %v answer %v, want a validated answer", dns.RcodeToString[r.Rcode], r.AuthenticatedData, r.Answer)
	}
	if r := ask("bad.example.test.", false); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("tampered: rcode %s, want SERVFAIL (bogus)", dns.RcodeToString[r.Rcode])
	}
	if r := ask("bad.example.test.", true); r.Rcode != dns.RcodeSuccess || r.AuthenticatedData {
		t.Errorf("tampered with CD: rcode %s ad %v, want the unvalidated answer", dns.RcodeToString[r.Rcode], r.AuthenticatedData)
	}
}
