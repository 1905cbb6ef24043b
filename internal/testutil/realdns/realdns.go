// Package realdns starts real DNS software for tests: NSD, authoritative
// for the test's zones (signed with ldns-signzone unless said otherwise),
// and unbound as a DNSSEC-validating resolver in front of it, holding the
// signed zones' keys as trust anchors. Both listen on 127.0.0.1 at free
// ports >= 20000, with private configurations under a temporary directory;
// unbound knows no server but NSD (every zone, the root included, is a
// stub to it), so nothing a test asks leaves the machine.
//
// Each Start runs its own pair (signing and start take well under a
// second). Without nsd, unbound or ldns-signzone the test is skipped with
// how to install them, or fails when $CI is set.
package realdns

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// Zone is one zone the authoritative server serves.
type Zone struct {
	Name string // "example.test"
	// Records are the zone's lines after its SOA and NS, which the harness
	// writes (ns.NAME at 127.0.0.1); names are relative to Name.
	Records string
	// Unsigned serves the zone without DNSSEC (a blocklist's zone).
	Unsigned bool
	// Tamper replaces text in the signed zone after signing: the records
	// changed keep signatures that no longer match them (bogus).
	Tamper [][2]string
}

// Server is a running pair.
type Server struct {
	Resolver  string // unbound, validating: "127.0.0.1:PORT"
	Authority string // NSD: "127.0.0.1:PORT"
	Dir       string // configurations, zones, keys and logs

	keys   map[string][2]string // a signed zone's key files: KSK, ZSK
	serial map[string]int       // each zone's SOA serial
	nsd    *exec.Cmd
}

var tools = []string{"nsd", "unbound", "ldns-signzone", "ldns-keygen"}

// Start starts NSD serving zones and unbound validating them; both stop
// when the test ends.
func Start(t testing.TB, zones ...Zone) *Server {
	t.Helper()
	for _, tool := range tools {
		if _, err := lookTool(tool); err != nil {
			msg := fmt.Sprintf("real DNS software not available (%s not found); install it: apt-get install -y nsd unbound ldnsutils (or run .ci/test-deps)", tool)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	s := &Server{Dir: t.TempDir(), keys: map[string][2]string{}, serial: map[string]int{}}
	anchors, err := s.writeZones(zones)
	if err != nil {
		t.Fatalf("realdns: %v", err)
	}
	ports, err := freeUDPTCP(2)
	if err != nil {
		t.Fatalf("realdns: %v", err)
	}
	s.Authority = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	s.Resolver = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	if err := s.writeNSD(ports[0], zones); err != nil {
		t.Fatalf("realdns: %v", err)
	}
	if err := s.writeUnbound(ports[1], ports[0], zones, anchors); err != nil {
		t.Fatalf("realdns: %v", err)
	}
	var nsd <-chan error
	s.nsd, nsd = s.run(t, "nsd", "-d", "-c", filepath.Join(s.Dir, "nsd.conf"))
	s.ready(t, nsd, s.Authority, zones, false)
	_, unbound := s.run(t, "unbound", "-d", "-c", filepath.Join(s.Dir, "unbound.conf"))
	s.ready(t, unbound, s.Resolver, zones, true)
	return s
}

func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/bin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// writeZones writes each zone, signs those to sign, and returns the trust
// anchor files (DS records of the key-signing keys).
func (s *Server) writeZones(zones []Zone) ([]string, error) {
	var anchors []string
	for _, z := range zones {
		name := dns.Fqdn(z.Name)
		if z.Unsigned {
			if err := s.writeZone(z); err != nil {
				return nil, err
			}
			continue
		}
		ksk, err := s.tool("ldns-keygen", "-a", "ECDSAP256SHA256", "-k", name)
		if err != nil {
			return nil, err
		}
		zsk, err := s.tool("ldns-keygen", "-a", "ECDSAP256SHA256", name)
		if err != nil {
			return nil, err
		}
		s.keys[name] = [2]string{ksk, zsk}
		if err := s.writeZone(z); err != nil {
			return nil, err
		}
		anchors = append(anchors, filepath.Join(s.Dir, ksk+".ds"))
	}
	return anchors, nil
}

// writeZone writes a zone's file with the next serial, signed with its
// keys unless it is unsigned, and tampered with as it says.
func (s *Server) writeZone(z Zone) error {
	name := dns.Fqdn(z.Name)
	s.serial[name]++
	body := fmt.Sprintf("$ORIGIN %s\n$TTL 60\n@ SOA ns hostmaster %d 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n%s\n",
		name, s.serial[name], z.Records)
	file := filepath.Join(s.Dir, name+"zone")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		return err
	}
	if z.Unsigned {
		return nil
	}
	k := s.keys[name]
	if _, err := s.tool("ldns-signzone", "-f", file+".signed", file, k[0], k[1]); err != nil {
		return err
	}
	if len(z.Tamper) == 0 {
		return nil
	}
	b, err := os.ReadFile(file + ".signed")
	if err != nil {
		return err
	}
	text := string(b)
	for _, r := range z.Tamper {
		if !strings.Contains(text, r[0]) {
			return fmt.Errorf("zone %s: %q to tamper with is not in the signed zone", name, r[0])
		}
		text = strings.ReplaceAll(text, r[0], r[1])
	}
	if err := os.WriteFile(file+".signed", []byte(text), 0o600); err != nil {
		return err
	}
	return nil
}

// Update serves z (a zone given to Start, with other records) from now
// on: NSD rereads it (SIGHUP) and Update returns when NSD answers with
// the new serial. unbound may answer from its cache for up to 5 seconds
// (cache-max-ttl) after.
func (s *Server) Update(t testing.TB, z Zone) {
	t.Helper()
	name := dns.Fqdn(z.Name)
	if _, ok := s.serial[name]; !ok {
		t.Fatalf("realdns: %s is not one of the zones served", name)
	}
	if _, ok := s.keys[name]; !ok && !z.Unsigned {
		t.Fatalf("realdns: %s was served unsigned", name)
	}
	if err := s.writeZone(z); err != nil {
		t.Fatalf("realdns: %v", err)
	}
	// NSD rereads a zone file whose modification time changed: make sure
	// it did, whatever the file system's resolution.
	file := filepath.Join(s.Dir, name+"zone")
	if !z.Unsigned {
		file += ".signed"
	}
	later := time.Now().Add(time.Duration(s.serial[name]) * time.Second)
	if err := os.Chtimes(file, later, later); err != nil {
		t.Fatal(err)
	}
	if err := s.nsd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("realdns: reloading nsd: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeSOA)
	for {
		r, _, err := (&dns.Client{Timeout: time.Second}).ExchangeContext(ctx, m, s.Authority)
		if err == nil && len(r.Answer) > 0 {
			if soa, ok := r.Answer[0].(*dns.SOA); ok && int(soa.Serial) == s.serial[name] {
				return
			}
		}
		select {
		case <-time.After(50 * time.Millisecond): // polling NSD's reload: no event to wait on
		case <-ctx.Done():
			t.Fatalf("realdns: nsd does not serve serial %d of %s: %v %v; logs: %s", s.serial[name], name, r, err, s.logs())
		}
	}
}

func (s *Server) tool(name string, args ...string) (string, error) {
	path, err := lookTool(name)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

func (s *Server) writeNSD(port int, zones []Zone) error {
	var b strings.Builder
	fmt.Fprintf(&b, `server:
	ip-address: 127.0.0.1
	port: %d
	do-ip6: no
	username: ""
	chroot: ""
	database: ""
	zonesdir: %q
	zonelistfile: %q
	xfrdfile: %q
	xfrdir: %q
	pidfile: %q
	logfile: %q
	server-count: 1
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: no
`, port, s.Dir, s.path("zone.list"), s.path("xfrd.state"), s.Dir, s.path("nsd.pid"), s.path("nsd.log"))
	for _, z := range zones {
		name := dns.Fqdn(z.Name)
		file := name + "zone"
		if !z.Unsigned {
			file += ".signed"
		}
		fmt.Fprintf(&b, "zone:\n\tname: %q\n\tzonefile: %q\n", name, file)
	}
	return os.WriteFile(s.path("nsd.conf"), []byte(b.String()), 0o600)
}

func (s *Server) writeUnbound(port, nsdPort int, zones []Zone, anchors []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, `server:
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	do-daemonize: no
	username: ""
	chroot: ""
	directory: %q
	pidfile: %q
	logfile: %q
	use-syslog: no
	verbosity: 1
	val-log-level: 2
	num-threads: 1
	so-reuseport: no
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "validator iterator"
	qname-minimisation: no
	aggressive-nsec: no
	cache-max-ttl: 5
	# the test zones live under test., which unbound answers itself by
	# default (RFC 6761)
	local-zone: "test." nodefault
	local-zone: "127.in-addr.arpa." nodefault
`, port, s.Dir, s.path("unbound.pid"), s.path("unbound.log"))
	for _, a := range anchors {
		fmt.Fprintf(&b, "\ttrust-anchor-file: %q\n", a)
	}
	b.WriteString("remote-control:\n\tcontrol-enable: no\n")
	// Every zone, the root included, is a stub to NSD: unbound asks no
	// other server.
	names := []string{"."}
	for _, z := range zones {
		names = append(names, dns.Fqdn(z.Name))
	}
	for _, n := range names {
		fmt.Fprintf(&b, "stub-zone:\n\tname: %q\n\tstub-addr: 127.0.0.1@%d\n", n, nsdPort)
	}
	return os.WriteFile(s.path("unbound.conf"), []byte(b.String()), 0o600)
}

func (s *Server) path(name string) string { return filepath.Join(s.Dir, name) }

// run starts a daemon in the foreground; it is killed when the test ends.
// The returned channel is closed when it exits.
func (s *Server) run(t testing.TB, name string, args ...string) (*exec.Cmd, <-chan error) {
	t.Helper()
	path, err := lookTool(name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(s.path(name + ".out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("realdns: starting %s: %v", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); out.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd, done
}

// ready waits until addr answers for every zone's SOA (through the
// resolver: validated), or the daemon exits, or 20 s pass.
func (s *Server) ready(t testing.TB, exited <-chan error, addr string, zones []Zone, validating bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &dns.Client{Timeout: time.Second}
	for _, z := range zones {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(z.Name), dns.TypeSOA)
		m.SetEdns0(1232, true)
		for {
			select {
			case err := <-exited:
				t.Fatalf("realdns: the server at %s exited: %v; its log: %s", addr, err, s.logs())
			default:
			}
			r, _, err := c.ExchangeContext(ctx, m, addr)
			if err == nil && r.Rcode == dns.RcodeSuccess && (!validating || z.Unsigned || r.AuthenticatedData) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("realdns: %s does not answer for %s (last: %v %v); logs: %s", addr, z.Name, r, err, s.logs())
			}
			last := fmt.Sprint(err)
			if r != nil {
				last = fmt.Sprintf("%s, ad %v", dns.RcodeToString[r.Rcode], r.AuthenticatedData)
			}
			t.Logf("realdns: waiting for %s (%s)", addr, last)
			select {
			case <-time.After(50 * time.Millisecond): // polling a daemon's start: no event to wait on
			case <-ctx.Done():
			}
		}
	}
}

func (s *Server) logs() string {
	var b strings.Builder
	for _, f := range []string{"nsd.out", "nsd.log", "unbound.out", "unbound.log"} {
		if data, err := os.ReadFile(s.path(f)); err == nil {
			fmt.Fprintf(&b, "\n--- %s ---\n%s", f, data)
		}
	}
	return b.String()
}

// freeUDPTCP picks n ports free on 127.0.0.1 for both TCP and UDP.
func freeUDPTCP(n int) ([]int, error) {
	for range 20 {
		ports, err := realmail.FreePorts(n)
		if err != nil {
			return nil, err
		}
		ok := true
		for _, p := range ports {
			c, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			c.Close()
		}
		if ok {
			return ports, nil
		}
	}
	return nil, fmt.Errorf("no %d ports free for both TCP and UDP", n)
}
