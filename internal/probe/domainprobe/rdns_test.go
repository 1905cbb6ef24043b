package domainprobe

import (
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
)

// TestRDNS: 127.0.0.1's PTR against NSD and a validating unbound, and the
// greeting of a fake SMTP server there ("220 fake.example …").
func TestRDNS(t *testing.T) {
	smtp := fakesmtp.Start(t, fakesmtp.Options{})
	for _, c := range []struct {
		name, ptr, forward string
		want               want
	}{
		{"confirmed and greeting agrees", "1 PTR fake.example.", "@ A 127.0.0.1", want{probe.StatusUp, "", ""}},
		{"greeting names another host", "1 PTR mx.fake.example.", "mx A 127.0.0.1", want{probe.StatusWarn, probe.PolicyMismatch, "The SMTP greeting names fake.example but the address's PTR record names mx.fake.example"}},
		{"not forward-confirmed", "1 PTR mx.fake.example.", "mx A 127.0.0.9", want{probe.StatusDown, probe.PolicyMismatch, "does not resolve back"}},
		{"no PTR", "2 PTR fake.example.", "@ A 127.0.0.1", want{probe.StatusDown, probe.RecordMissing, "127.0.0.1 has no PTR record"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dns := realdns.Start(t,
				realdns.Zone{Name: "fake.example", Records: c.forward + "\n"},
				realdns.Zone{Name: "0.0.127.in-addr.arpa", Records: c.ptr + "\n"},
			)
			r := run(t, RDNSKind(), probe.Config{Host: "127.0.0.1", Port: smtp.Port, DNSServer: dns.Resolver})
			check(t, c.name, r, c.want)
			if c.want.status == probe.StatusUp {
				// By the name, which only the monitor's resolver knows: the
				// greeting is read from the address it gave.
				r := run(t, RDNSKind(), probe.Config{Host: "fake.example", Port: smtp.Port, DNSServer: dns.Resolver})
				check(t, c.name+" by name", r, c.want)
			}
			if c.want.status == probe.StatusUp && !strings.HasPrefix(r.Details["greeting"].(string), "220 fake.example") {
				t.Errorf("greeting %v", r.Details["greeting"])
			}
		})
	}
}

// Another service on the port: a protocol violation, its words not kept
// as a greeting.
func TestRDNSNotSMTP(t *testing.T) {
	srv := hostile.Start(t, func(c *hostile.Conn) { c.Send("SSH-2.0-OpenSSH_9.2\r\n") })
	dns := realdns.Start(t,
		realdns.Zone{Name: "fake.example", Records: "@ A 127.0.0.1\n"},
		realdns.Zone{Name: "0.0.127.in-addr.arpa", Records: "1 PTR fake.example.\n"},
	)
	r := run(t, RDNSKind(), probe.Config{Host: "127.0.0.1", Port: srv.Port, DNSServer: dns.Resolver})
	check(t, "ssh on the port", r, want{probe.StatusDown, probe.ProtocolViolation, "not an SMTP greeting"})
	if _, ok := r.Details["greeting"]; ok {
		t.Errorf("the other service's line is reported as a greeting: %v", r.Details)
	}
}
