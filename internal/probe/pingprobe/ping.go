// Package pingprobe is the ping monitor (docs/monitors.md): ICMP echo, over an
// unprivileged ping socket where the system allows it
// (net.ipv4.ping_group_range), a raw socket with CAP_NET_RAW otherwise, with
// loss and round-trip times; the dependency monitor a host's mail monitors
// hang from.
package pingprobe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// Count is how many echo requests one test sends, all at once: the test
// takes one round trip, and loss is measured over them.
const Count = 3

// lingerAfterFirst bounds the wait for the rest of the replies once one has
// come back: a lost echo costs this, not the whole test's budget.
const lingerAfterFirst = 500 * time.Millisecond

// Socket kinds, as reported in the result's details.
const (
	SocketUnprivileged = "unprivileged"
	SocketRaw          = "raw"
)

// ErrNoSocket is why no ICMP socket could be opened.
var ErrNoSocket = errors.New("no ICMP socket")

// Probe is the ping monitor.
func Probe(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(cfg.Host); err == nil {
		addrs = []netip.Addr{a.Unmap()}
	} else if err := t.Step("dns", func() (err error) {
		addrs, _, err = wire.Resolve(ctx, cfg.Resolver, cfg.Host)
		return err
	}); err != nil {
		return err
	}
	dst := addrs[0]
	guard := cfg.Egress.Guard(cfg.Host) // a target configured over the network
	for _, a := range addrs {
		if guard == nil || guard(a) == nil {
			dst = a
			break
		}
	}
	t.Detail("address", dst.String())
	if guard != nil {
		if err := guard(dst); err != nil { // no allowed address: refused before a socket is opened
			return t.Step("echo", func() error { return &wire.DialError{Addr: dst.String(), Err: err} })
		}
	}
	var s *socket
	if err := t.Step("socket", func() (err error) {
		s, err = listen(dst.Is6())
		return err
	}); err != nil {
		return err
	}
	defer s.conn.Close()
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()
	t.Detail("socket", s.kind)
	var st stats
	err := t.Step("echo", func() error { return s.echo(ctx, dst, &st) })
	t.Detail("sent", st.sent)
	t.Detail("received", len(st.rtts))
	if st.sent > 0 {
		t.Detail("loss_percent", math.Round(float64(st.sent-len(st.rtts))*1000/float64(st.sent))/10)
	}
	if len(st.rtts) > 0 {
		lo, hi, sum := st.rtts[0], st.rtts[0], time.Duration(0)
		for _, r := range st.rtts {
			lo, hi, sum = min(lo, r), max(hi, r), sum+r
		}
		t.Detail("rtt_min_ms", msf(lo))
		t.Detail("rtt_avg_ms", msf(sum/time.Duration(len(st.rtts))))
		t.Detail("rtt_max_ms", msf(hi))
	}
	if err != nil {
		return err
	}
	if lost := st.sent - len(st.rtts); lost > 0 {
		return &probe.Warning{Code: probe.Timeout, Err: fmt.Errorf("%d of %d echo requests to %s got no reply", lost, st.sent, dst)}
	}
	return nil
}

func msf(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

type socket struct {
	conn *icmp.PacketConn
	kind string
	v6   bool
}

// listen opens an unprivileged ping socket, or else a raw one; when
// neither is allowed, the error says why and what would allow it.
func listen(v6 bool) (*socket, error) {
	dgram, raw, wildcard := "udp4", "ip4:icmp", "0.0.0.0"
	if v6 {
		dgram, raw, wildcard = "udp6", "ip6:ipv6-icmp", "::"
	}
	c, errDgram := icmp.ListenPacket(dgram, wildcard)
	if errDgram == nil {
		return &socket{c, SocketUnprivileged, v6}, nil
	}
	c, errRaw := icmp.ListenPacket(raw, wildcard)
	if errRaw == nil {
		return &socket{c, SocketRaw, v6}, nil
	}
	rng := "unknown"
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range"); err == nil {
		rng = strings.Join(strings.Fields(string(b)), " ")
	}
	return nil, &probe.CodeError{Code: probe.ConfigMissing, Err: fmt.Errorf(
		"%w: unprivileged ping sockets are not allowed for group %d (net.ipv4.ping_group_range = %q; %v) "+
			"and a raw socket needs CAP_NET_RAW (%v); allow the group with sysctl net.ipv4.ping_group_range "+
			"or give mailmon CAP_NET_RAW (setcap cap_net_raw+ep)",
		ErrNoSocket, os.Getgid(), rng, errDgram, errRaw)}
}

type stats struct {
	sent int
	rtts []time.Duration
}

// echo sends Count echo requests at once and collects the replies until
// each came back, the context's deadline, or lingerAfterFirst after the
// first reply.
func (s *socket) echo(ctx context.Context, dst netip.Addr, st *stats) error {
	var nonce [16]byte
	rand.Read(nonce[:])
	id := int(binary.BigEndian.Uint16(nonce[:2]))
	var to net.Addr = &net.IPAddr{IP: dst.AsSlice()}
	if s.kind == SocketUnprivileged {
		to = &net.UDPAddr{IP: dst.AsSlice()}
	}
	var reqType, replyType icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	proto := 1
	if s.v6 {
		reqType, replyType, proto = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	sentAt := make([]time.Time, Count)
	got := make([]bool, Count)
	for seq := range Count {
		msg := icmp.Message{Type: reqType, Body: &icmp.Echo{ID: id, Seq: seq, Data: payload(nonce, seq)}}
		b, err := msg.Marshal(nil)
		if err != nil {
			return err
		}
		sentAt[seq] = time.Now()
		if _, err := s.conn.WriteTo(b, to); err != nil {
			// No route, network unreachable: known at once.
			return &wire.DialError{Addr: dst.String(), Err: err}
		}
		st.sent++
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(probe.DefaultTimeout)
	}
	s.conn.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	for len(st.rtts) < Count {
		n, _, err := s.conn.ReadFrom(buf)
		if err != nil {
			if len(st.rtts) > 0 && isTimeout(err) {
				return nil // the rest are lost; Probe reports it
			}
			if ctx.Err() != nil || isTimeout(err) {
				return fmt.Errorf("no echo reply from %s (%d sent): %w", dst, st.sent, os.ErrDeadlineExceeded)
			}
			return err
		}
		now := time.Now()
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != replyType {
			continue // our own request on loopback, or another's traffic on a raw socket
		}
		e, ok := m.Body.(*icmp.Echo)
		if !ok || e.Seq < 0 || e.Seq >= Count || got[e.Seq] || !bytes.Equal(e.Data, payload(nonce, e.Seq)) {
			continue
		}
		if s.kind == SocketRaw && e.ID != id {
			continue // the kernel sets the ID of a ping socket's requests; a raw socket's are ours
		}
		got[e.Seq] = true
		st.rtts = append(st.rtts, now.Sub(sentAt[e.Seq]))
		if len(st.rtts) == 1 {
			s.conn.SetReadDeadline(minTime(deadline, now.Add(lingerAfterFirst)))
		}
	}
	return nil
}

func payload(nonce [16]byte, seq int) []byte {
	return append(append([]byte("mailmon"), nonce[:]...), byte(seq))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
