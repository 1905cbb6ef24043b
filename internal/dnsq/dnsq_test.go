package dnsq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/testutil/realdns"
)

func zone() realdns.Zone {
	var many strings.Builder
	for i := range 300 {
		fmt.Fprintf(&many, "many A 10.0.%d.%d\n", i/250, i%250+1)
	}
	return realdns.Zone{Name: "example.test", Records: `
@ MX 20 mx2
@ MX 10 mx1
mx1 A 192.0.2.1
mx1 AAAA 2001:db8::1
@ TXT "v=spf1 " "-all"
bad TXT "original"
` + many.String(), Tamper: [][2]string{{`"original"`, `"changed"`}}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestAgainstRealResolver(t *testing.T) {
	s := realdns.Start(t, zone())
	c, err := New(s.Resolver)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Query(ctx(t), "mx1.example.test", dns.TypeA)
	if err != nil || len(a.Records) != 1 || !a.AD {
		t.Errorf("A: %v %v, want one validated record", a, err)
	}
	mx, err := c.MX(ctx(t), "example.test")
	if err != nil || strings.Join(mx, ",") != "mx1.example.test,mx2.example.test" {
		t.Errorf("MX: %v %v, want mx1 then mx2", mx, err)
	}
	txt, err := c.TXT(ctx(t), "example.test")
	if err != nil || len(txt) != 1 || txt[0] != "v=spf1 -all" {
		t.Errorf("TXT: %q %v, want the strings joined", txt, err)
	}
	addrs, err := c.Addrs(ctx(t), "mx1.example.test")
	if err != nil || len(addrs) != 2 {
		t.Errorf("Addrs: %v %v, want v4 and v6", addrs, err)
	}
	if _, err := c.Query(ctx(t), "nothing.example.test", dns.TypeA); !NotFound(err) {
		t.Errorf("missing name: %v, want NXDOMAIN", err)
	}
	var bogus *BogusError
	if _, err := c.Query(ctx(t), "bad.example.test", dns.TypeTXT); !errors.As(err, &bogus) {
		t.Errorf("tampered record: %v, want a BogusError", err)
	}
	var big *TooBigError
	if _, err := c.Query(ctx(t), "many.example.test", dns.TypeA); !errors.As(err, &big) {
		t.Errorf("300 records: %v, want a TooBigError", err)
	}
	refused := errors.New("refused by policy")
	g := &Client{Server: s.Resolver, Guard: func(netip.Addr) error { return refused }}
	if _, err := g.Query(ctx(t), "mx1.example.test", dns.TypeA); !errors.Is(err, refused) {
		t.Errorf("guarded: %v, want the guard's refusal", err)
	}
}

// A resolver that never answers: the lookup ends at the caller's deadline.
func TestDeadline(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c := &Client{Server: pc.LocalAddr().String()}
	cx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Query(cx, "example.test", dns.TypeA)
	if err == nil {
		t.Fatal("no error from a silent resolver")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v, want the 300ms deadline", d)
	}
}

func TestNoSilentSystemResolver(t *testing.T) {
	if _, err := New(""); !errors.Is(err, ErrNoResolver) {
		t.Errorf("New(\"\") in a test: %v, want ErrNoResolver", err)
	}
	var c *Client
	if _, err := c.Query(ctx(t), "example.test", dns.TypeA); !errors.Is(err, ErrNoResolver) {
		t.Errorf("nil client: %v, want ErrNoResolver", err)
	}
}

func TestSystemAndParse(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(p, []byte("search x\nnameserver 192.0.2.53\nnameserver ::1\n"), 0o600)
	if s, err := System(p); err != nil || s != "192.0.2.53:53" {
		t.Errorf("System: %q %v", s, err)
	}
	for in, want := range map[string]string{"127.0.0.1": "127.0.0.1:53", "127.0.0.1:5353": "127.0.0.1:5353", "::1": "[::1]:53", "[::1]:5353": "[::1]:5353"} {
		if got, err := ParseServer(in); err != nil || got != want {
			t.Errorf("ParseServer(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"dns.google", "1.2.3.4:0", ""} {
		if _, err := ParseServer(bad); err == nil || !strings.Contains(err.Error(), "IP:PORT") {
			t.Errorf("ParseServer(%q) = %v, want an error that says IP:PORT", bad, err)
		}
	}
}

func TestReverseName(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":      "1.2.0.192",
		"::ffff:1.2.3.4": "4.3.2.1",
		"2001:db8::1":    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2",
	} {
		if got := ReverseName(netip.MustParseAddr(in)); got != want {
			t.Errorf("ReverseName(%s) = %s, want %s", in, got, want)
		}
	}
}
