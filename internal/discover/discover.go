// Package discover finds the mail services of a host, or of a domain's MX
// hosts: which ports answer, which TLS modes, versions and authentication
// mechanisms each offers, the certificate's facts, a security verdict per
// service, and a proposed configuration of monitors for "mailmon apply"
// (docs/discover.md).
//
// It drives mailmon's own SMTP, POP3 and IMAP clients (package mail) over
// package wire, so every read has the discovery's deadline and a size cap.
package discover

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/wire"
)

// Port is one port to try and the service expected there.
type Port struct {
	Service string // smtp, submission, smtps, pop3, pop3s, imap, imaps
	Port    int
}

// serviceInfo is what a service name means: the monitor type proposed for
// it, its protocol, whether it speaks TLS from the first byte, and its
// well-known port.
type serviceInfo struct {
	kind     probe.Kind
	protocol string
	implicit bool
	port     int
}

// services are the well-known services the monitor types declare, by name,
// and their names in the order of the registry: the order of the
// well-known list and of reports.
func services() (map[string]serviceInfo, []string) {
	byName := map[string]serviceInfo{}
	var order []string
	for _, k := range kinds.All() {
		for _, s := range k.Services {
			byName[s.Name] = serviceInfo{kind: k, protocol: k.Protocol, implicit: s.Implicit, port: s.Port}
			order = append(order, s.Name)
		}
	}
	return byName, order
}

// DefaultPorts is the well-known list: SMTP 25, 465, 587, POP3 110, 995,
// IMAP 143, 993.
func DefaultPorts() []Port {
	byName, order := services()
	out := make([]Port, 0, len(order))
	for _, s := range order {
		out = append(out, Port{s, byName[s].port})
	}
	return out
}

// ParsePorts reads the --ports syntax: a comma-separated list of
// SERVICE:PORT (e.g. "smtp:2525,imaps:10993") or SERVICE alone for its
// well-known port; "default" stands for the whole well-known list, so
// "default,submission:2587" adds to it. Duplicates are dropped.
func ParsePorts(s string) ([]Port, error) {
	byName, order := services()
	var out []Port
	seen := map[Port]bool{}
	add := func(p Port) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "default" {
			for _, p := range DefaultPorts() {
				add(p)
			}
			continue
		}
		name, num, hasNum := strings.Cut(item, ":")
		name = strings.ToLower(name)
		info, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("%q: the service must be one of %s (or default)", item, strings.Join(order, ", "))
		}
		port := info.port
		if hasNum {
			n, err := strconv.Atoi(num)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("%q: %q is not a port between 1 and 65535", item, num)
			}
			port = n
		}
		add(Port{name, port})
	}
	if len(out) == 0 {
		return nil, errors.New("no port given")
	}
	return out, nil
}

// Options configure a discovery.
type Options struct {
	Ports    []Port        // default: DefaultPorts
	Timeout  time.Duration // bounds the whole discovery; default 15 s
	Resolver *net.Resolver // nil: the system's
	// ResolverAddr is the resolver's address as given (--resolver),
	// recorded in the proposed domain monitors; "": theirs is the system's.
	ResolverAddr string
	RootCAs      *x509.CertPool
	CAFile       string // recorded in the proposed monitors
	ServerName   string // verify certificates for this name (default: the host)
	EHLOName     string // default: the system's host name
	// CertWarnDays: a certificate expiring within this many days is a
	// warning (default 14).
	CertWarnDays int
	// InjectionWait is how long the STARTTLS injection test waits inside
	// TLS for an answer to the NOOP it sent with STARTTLS (default 1 s).
	InjectionWait time.Duration
	// NoMX treats a name as a host even when it has MX records.
	NoMX bool
	// Progress, when set, is told each time a service is done; calls do
	// not overlap.
	Progress func(done, total int)
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Probers overrides the probers of the domain's checks (tests: the
	// MTA-STS policy served on a free port, domainprobe.MTASTSAt).
	Probers func(typ string) (probe.Prober, bool)
}

// Defaults.
const (
	DefaultTimeout       = 15 * time.Second
	DefaultInjectionWait = time.Second
)

func (o *Options) fill() {
	if len(o.Ports) == 0 {
		o.Ports = DefaultPorts()
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.CertWarnDays == 0 {
		o.CertWarnDays = probe.DefaultCertWarnDays
	}
	if o.InjectionWait <= 0 {
		o.InjectionWait = DefaultInjectionWait
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Report is the outcome of one discovery.
type Report struct {
	Target  string    `json:"target"`          // what was asked: a host or a domain
	Domain  bool      `json:"domain"`          // Target was a domain: Hosts are its MX hosts
	Started time.Time `json:"started"`         // UTC
	TookMS  float64   `json:"took_ms"`         // the whole discovery
	Error   string    `json:"error,omitempty"` // the MX lookup failed, or the domain accepts no mail
	Hosts   []Host    `json:"hosts"`
	// DomainChecks are the domain's records beside its MX (a domain
	// only): MTA-STS, TLS-RPT, DKIM, and each MX host's DANE and rDNS.
	DomainChecks []DomainCheck `json:"domain_checks,omitempty"`
}

// Host is one host and its services.
type Host struct {
	Name       string    `json:"name"`
	Preference *uint16   `json:"mx_preference,omitempty"` // set for an MX host
	Addresses  []string  `json:"addresses,omitempty"`
	Error      string    `json:"error,omitempty"` // the host name did not resolve
	Services   []Service `json:"services"`
}

// Service is what was found on one port.
type Service struct {
	Name     string `json:"service"`  // smtp, submission, smtps, pop3, pop3s, imap, imaps
	Protocol string `json:"protocol"` // smtp, pop3, imap
	Port     int    `json:"port"`
	Implicit bool   `json:"implicit_tls"` // the port is expected to speak TLS from the first byte

	Listening bool       `json:"listening"` // it accepted a TCP connection
	Open      bool       `json:"open"`      // it answered in its protocol
	ErrorCode probe.Code `json:"error_code,omitempty"`
	Error     string     `json:"error,omitempty"`
	Greeting  string     `json:"greeting,omitempty"`

	StartTLS    bool     `json:"starttls"`               // STARTTLS (STLS) advertised before TLS
	TLSMode     string   `json:"tls_mode"`               // what the service offers, for a monitor to require: implicit, starttls or none
	TLS         *TLS     `json:"tls,omitempty"`          // the session's TLS, when one was reached
	TLSVersions []string `json:"tls_versions,omitempty"` // versions a handshake succeeded with
	Cert        *Cert    `json:"certificate,omitempty"`

	AuthBeforeTLS          []string `json:"auth_before_tls,omitzero"` // mechanisms advertised before TLS (USER, APOP, LOGIN: the commands); [] none
	AuthAfterTLS           []string `json:"auth_after_tls,omitzero"`  // ... within TLS
	PlaintextAuthBeforeTLS bool     `json:"plaintext_auth_before_tls"`

	SizeLimit    int64    `json:"size_limit,omitempty"`   // SMTP SIZE
	Extensions   []string `json:"extensions,omitempty"`   // SMTP EHLO keywords, within TLS when offered
	Capabilities []string `json:"capabilities,omitempty"` // POP3 CAPA, IMAP CAPABILITY, within TLS when offered

	Injection       string `json:"starttls_injection"` // vulnerable, safe, or untested
	InjectionDetail string `json:"starttls_injection_detail,omitempty"`

	Transcript []string `json:"transcript,omitempty"` // of the main session, when it failed

	Verdict Verdict `json:"verdict,omitzero"` // for a service that answered, or listens where TLS fails
}

// TLS is a negotiated session.
type TLS struct {
	Version string `json:"version"`
	Cipher  string `json:"cipher"`
}

// Cert is the server certificate's facts.
type Cert struct {
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	NotAfter    time.Time `json:"not_after"`
	DaysLeft    int       `json:"days_left"`
	Names       []string  `json:"names,omitempty"`
	VerifiedFor string    `json:"verified_for"` // the name it was verified for
	Verified    bool      `json:"verified"`
	VerifyError string    `json:"verify_error,omitempty"`
}

// Injection test outcomes.
const (
	InjectionVulnerable = "vulnerable"
	InjectionSafe       = "safe"
	InjectionUntested   = "untested"
)

// Run discovers target: a host (name or IP address) or a domain whose MX
// hosts are then discovered in preference order. The whole discovery ends
// within opts.Timeout.
func Run(ctx context.Context, target string, opts Options) *Report {
	opts.fill()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	start := opts.Now()
	rep := &Report{Target: target, Started: start.UTC()}
	defer func() { rep.TookMS = float64(opts.Now().Sub(start).Microseconds()) / 1e3 }()

	hosts := []Host{{Name: target}}
	if _, err := netip.ParseAddr(target); err != nil && !opts.NoMX {
		mx, err := LookupMX(ctx, opts.Resolver, target)
		switch {
		case errors.Is(err, ErrNullMX):
			rep.Domain, rep.Error = true, err.Error()
			return rep
		case err != nil && !errors.Is(err, errNoMX):
			rep.Error = err.Error()
			return rep
		case len(mx) > 0:
			rep.Domain = true
			hosts = hosts[:0]
			for _, m := range mx {
				pref := m.Pref
				hosts = append(hosts, Host{Name: m.Host, Preference: &pref})
			}
		}
	}

	total := len(hosts) * len(opts.Ports)
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	if rep.Domain {
		mx := make([]string, len(hosts))
		for i, h := range hosts {
			mx[i] = h.Name
		}
		wg.Go(func() { rep.DomainChecks = domainChecks(ctx, target, mx, &opts) })
	}
	for i := range hosts {
		h := &hosts[i]
		addrs, _, err := wire.Resolve(ctx, opts.Resolver, h.Name)
		if err != nil {
			h.Error = err.Error()
			mu.Lock()
			done += len(opts.Ports)
			mu.Unlock()
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
			continue
		}
		for _, a := range addrs {
			h.Addresses = append(h.Addresses, a.String())
		}
		h.Services = make([]Service, len(opts.Ports))
		for j, p := range opts.Ports {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h.Services[j] = scanService(ctx, h.Name, addrs, p, &opts)
				mu.Lock()
				defer mu.Unlock()
				done++
				if opts.Progress != nil {
					opts.Progress(done, total) // one call at a time, in order
				}
			}()
		}
	}
	wg.Wait()
	rep.Hosts = hosts
	return rep
}

// Found reports whether any service answered.
func (r *Report) Found() bool {
	for _, h := range r.Hosts {
		for _, s := range h.Services {
			if s.Open {
				return true
			}
		}
	}
	return false
}
