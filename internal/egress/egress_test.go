package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestAllow(t *testing.T) {
	listed, err := Parse([]string{"10.0.0.0/8", "192.0.2.7", "mail.example.com", "*.corp.example", "127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		policy *Policy
		host   string
		addr   string
		ok     bool
		want   string // in the refusal
	}{
		{"default: public", Default(), "192.0.2.1", "192.0.2.1", true, ""},
		{"default: private is reachable", Default(), "10.1.2.3", "10.1.2.3", true, ""},
		{"default: loopback", Default(), "127.0.0.1", "127.0.0.1", false, "loopback"},
		{"default: other loopback", Default(), "127.8.9.10", "127.8.9.10", false, "loopback"},
		{"default: IPv6 loopback", Default(), "::1", "::1", false, "loopback"},
		{"default: mapped loopback", Default(), "::ffff:127.0.0.1", "::ffff:127.0.0.1", false, "loopback"},
		{"default: metadata service", Default(), "169.254.169.254", "169.254.169.254", false, "link-local"},
		{"default: IPv6 link-local", Default(), "fe80::1", "fe80::1", false, "link-local"},
		{"default: unspecified", Default(), "0.0.0.0", "0.0.0.0", false, "unspecified"},
		{"default: this network", Default(), "0.1.2.3", "0.1.2.3", false, "unspecified"},
		{"default: IPv6 unspecified", Default(), "::", "::", false, "unspecified"},
		{"default: multicast", Default(), "224.0.0.1", "224.0.0.1", false, "multicast"},
		{"default: a name resolved to loopback", Default(), "rebind.example", "127.0.0.1", false, "rebind.example (127.0.0.1) is a loopback"},
		{"nil is the default", nil, "127.0.0.1", "127.0.0.1", false, "loopback"},
		{"list: CIDR", listed, "10.9.8.7", "10.9.8.7", true, ""},
		{"list: address", listed, "192.0.2.7", "192.0.2.7", true, ""},
		{"list: not listed", listed, "192.0.2.8", "192.0.2.8", false, "not in serve --allow-targets"},
		{"list: name", listed, "mail.example.com", "198.51.100.1", true, ""},
		{"list: name, any case, trailing dot", listed, "MAIL.example.com.", "198.51.100.1", true, ""},
		{"list: wildcard", listed, "mx1.corp.example", "198.51.100.2", true, ""},
		{"list: wildcard is not the apex", listed, "corp.example", "198.51.100.2", false, "not in"},
		{"list: a listed name resolved to loopback", listed, "mail.example.com", "127.0.0.2", false, "loopback"},
		{"list: a listed name resolved to a listed loopback", listed, "mail.example.com", "127.0.0.1", true, ""},
		{"list: loopback listed", listed, "127.0.0.1", "127.0.0.1", true, ""},
		{"list: name of another", listed, "evil.example", "10.0.0.1", true, ""}, // its address is listed
		{"demo: loopback", Default().AllowLoopback(), "127.0.0.1", "127.0.0.1", true, ""},
		{"demo: still not link-local", Default().AllowLoopback(), "169.254.169.254", "169.254.169.254", false, "link-local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Allow(tt.host, netip.MustParseAddr(tt.addr))
			if (err == nil) != tt.ok {
				t.Fatalf("Allow(%s, %s) = %v, want ok %v", tt.host, tt.addr, err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), Flag) {
					t.Errorf("refusal %q: want errors.Is ErrRefused, %q and %q in it", err, tt.want, Flag)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	var items Items
	for _, v := range []string{"10.0.0.0/8, 192.0.2.1", "*.example.com"} {
		if err := items.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := items.String(); got != "10.0.0.0/8,192.0.2.1,*.example.com" {
		t.Errorf("items %q", got)
	}
	p, err := Parse(items)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "only 10.0.0.0/8, 192.0.2.1/32, *.example.com" {
		t.Errorf("String() = %q", got)
	}
	for _, bad := range []string{"10.0.0.0/33", "host name", "a..b", "-x.example", "http://x", "*"} {
		if err := items.Set(bad); err == nil || !strings.Contains(err.Error(), Flag) {
			t.Errorf("Set(%q) = %v, want an error naming %s", bad, err, Flag)
		}
	}
	if p, _ := Parse(nil); p.only || p.String() != "anything but loopback, link-local, unspecified and multicast addresses" {
		t.Errorf("empty list: %+v %q", p, p.String())
	}
}

func TestCheckHost(t *testing.T) {
	listed, _ := Parse([]string{"mail.example.com"})
	ctx := context.Background()
	// The hosts file answers for localhost; no query leaves the machine.
	r := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS server in this test")
	}}
	for _, tt := range []struct {
		policy *Policy
		host   string
		ok     bool
	}{
		{Default(), "127.0.0.1", false},
		{Default(), "[::1]", false},
		{Default(), "192.0.2.1", true},
		{Default(), "localhost", false},                // resolves to loopback only
		{Default(), "no-such-name.invalid", true},      // its test says so; the dial is checked
		{listed, "no-such-name.invalid", false},        // not listed, and nothing to check
		{listed, "mail.example.com", true},             // listed by name (resolving or not)
		{Default().AllowLoopback(), "localhost", true}, // serve --demo
	} {
		err := tt.policy.CheckHost(ctx, r, tt.host)
		if (err == nil) != tt.ok {
			t.Errorf("%v CheckHost(%s) = %v, want ok %v", tt.policy, tt.host, err, tt.ok)
		}
	}
}
