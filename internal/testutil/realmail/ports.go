package realmail

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

const minPort = 20000

// portRanges returns the port ranges to pick from: >= 20000 and outside the
// kernel's ephemeral range, so that an outgoing connection of another test
// cannot take a port between our bind check and the daemon's bind.
func portRanges() [][2]int {
	lo, hi := 32768, 60999 // Linux default
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			l, err1 := strconv.Atoi(f[0])
			h, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && l <= h {
				lo, hi = l, h
			}
		}
	}
	var rs [][2]int
	if lo-1 >= minPort+1000 {
		rs = append(rs, [2]int{minPort, lo - 1})
	}
	if hi+1 <= 65535-1000 {
		rs = append(rs, [2]int{max(hi+1, minPort), 65535})
	}
	if len(rs) == 0 { // the ephemeral range covers everything: take what we can
		rs = append(rs, [2]int{minPort, 65535})
	}
	return rs
}

// freePorts picks n distinct ports >= 20000 that are free on 127.0.0.1 (and
// on ::1 when ipv6 is set) right now.
func freePorts(n int, ipv6 bool) ([]int, error) {
	rs := portRanges()
	seen := make(map[int]bool)
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 2000 {
			return nil, fmt.Errorf("found only %d of %d free loopback ports >= %d", len(ports), n, minPort)
		}
		r := rs[rand.IntN(len(rs))]
		p := r[0] + rand.IntN(r[1]-r[0]+1)
		if seen[p] {
			continue
		}
		seen[p] = true
		if portFree(p, ipv6) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

func portFree(p int, ipv6 bool) bool {
	hosts := []string{"127.0.0.1"}
	if ipv6 {
		hosts = append(hosts, "::1")
	}
	for _, h := range hosts {
		l, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(p)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// haveIPv6Loopback reports whether ::1 can be bound on this machine (it
// cannot in containers started with IPv6 disabled).
func haveIPv6Loopback() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// errAddrInUse tells a lost race for a port (retry with new ports) from a
// real configuration problem.
var errAddrInUse = errors.New("a port was taken between the check and the daemon's bind")

// FreePorts picks n distinct ports >= 20000, outside the ephemeral range,
// free on 127.0.0.1 right now: for the other real-server harnesses.
func FreePorts(n int) ([]int, error) { return freePorts(n, false) }
