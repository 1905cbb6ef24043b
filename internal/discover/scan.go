package discover

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/smtpprobe"
	"github.com/mailmon/mailmon/internal/wire"
)

// scanner discovers one service of one host.
type scanner struct {
	ctx   context.Context
	host  string
	addrs []netip.Addr
	port  int
	o     *Options
	ehlo  string
}

func scanService(ctx context.Context, host string, addrs []netip.Addr, p Port, o *Options) Service {
	info := services[p.Service]
	s := Service{Name: p.Service, Protocol: info.protocol, Port: p.Port, Implicit: info.implicit,
		TLSMode: string(probe.TLSNone), Injection: InjectionUntested}
	sc := &scanner{ctx: ctx, host: host, addrs: addrs, port: p.Port, o: o,
		ehlo: smtpprobe.EHLOName(&probe.Config{EHLOName: o.EHLOName})}
	sc.session(&s)
	if !s.Open {
		if s.Implicit && s.Listening && s.ErrorCode == probe.TLSFailed {
			// Something listens where TLS is expected, and no TLS
			// handshake succeeds: a finding, not just a closed port.
			s.Verdict = Judge(&s, o.CertWarnDays)
		}
		return s
	}
	if s.TLS != nil {
		s.TLSVersions = sc.versions(&s)
	}
	switch {
	case s.StartTLS && s.TLS != nil:
		sc.injection(&s)
	case s.StartTLS:
		s.InjectionDetail = "not tested: TLS could not be started"
	}
	s.Verdict = Judge(&s, o.CertWarnDays)
	// Nothing offered is an empty list, not an unknown.
	if s.AuthBeforeTLS == nil && !s.Implicit {
		s.AuthBeforeTLS = []string{}
	}
	if s.AuthAfterTLS == nil && s.TLS != nil {
		s.AuthAfterTLS = []string{}
	}
	return s
}

// dial connects; the connection carries the discovery's deadline and the
// default size caps, and records to tr (may be nil). raw is the TCP
// connection, for a read deadline of its own.
func (sc *scanner) dial(tr *wire.Transcript) (*wire.Conn, net.Conn, error) {
	raw, err := wire.Dial(sc.ctx, sc.addrs, sc.port)
	if err != nil {
		return nil, nil, err
	}
	return wire.NewConn(sc.ctx, raw, wire.DefaultLimits(), tr), raw, nil
}

// allSuites offers every cipher suite Go knows, insecure ones included:
// the question is what the server accepts, not what mailmon would use.
func allSuites() []uint16 {
	var ids []uint16
	for _, cs := range tls.CipherSuites() {
		ids = append(ids, cs.ID)
	}
	for _, cs := range tls.InsecureCipherSuites() {
		ids = append(ids, cs.ID)
	}
	return ids
}

// tlsConfig accepts any certificate: its facts are recorded and it is
// verified apart (verify), so that a service with a bad certificate is
// still discovered.
func (sc *scanner) tlsConfig(minV, maxV uint16) *tls.Config {
	return &tls.Config{
		ServerName:         sc.serverName(),
		InsecureSkipVerify: true, // verified by verify, the outcome reported
		MinVersion:         minV,
		MaxVersion:         maxV,
		CipherSuites:       allSuites(),
	}
}

func (sc *scanner) serverName() string {
	if sc.o.ServerName != "" {
		return sc.o.ServerName
	}
	return sc.host
}

// fail records why the service could not be discovered (further).
func (sc *scanner) fail(s *Service, err error) {
	if s.Error != "" || err == nil {
		return
	}
	s.ErrorCode = probe.Classify(err)
	// When the discovery's time runs out, connections are closed under
	// their readers: what looks like a disconnection is the time limit.
	var pe *wire.ProtocolError
	if sc.expired() && (s.ErrorCode == probe.Disconnected || s.ErrorCode == probe.ProtocolViolation && !errors.As(err, &pe)) {
		s.ErrorCode = probe.Timeout
	}
	s.Error = wire.Sanitize(err.Error())
}

// expired reports whether the discovery's time is up; the socket's deadline
// can fire a moment before the context's timer.
func (sc *scanner) expired() bool {
	dl, ok := sc.ctx.Deadline()
	return sc.ctx.Err() != nil || ok && !time.Now().Before(dl)
}

// session is the main look at the service: greeting and capabilities,
// STARTTLS when offered (or TLS from the first byte), the capabilities
// again within TLS, and a polite goodbye.
func (sc *scanner) session(s *Service) {
	tr := &wire.Transcript{}
	defer func() {
		if s.Error != "" {
			s.Transcript = tr.Lines() // what the server said, for a person to read
		}
	}()
	c, _, err := sc.dial(tr)
	if err != nil {
		sc.fail(s, err)
		return
	}
	defer c.Close()
	s.Listening = true
	if s.Implicit {
		s.TLSMode = string(probe.TLSImplicit)
		if err := c.Handshake(sc.tlsConfig(tls.VersionTLS10, 0)); err != nil {
			sc.fail(s, err)
			return
		}
		sc.tlsFacts(s, c.TLS())
	}
	ss := newSession(s.Protocol, c, sc.ehlo)
	greeting, err := ss.greet()
	s.Greeting = wire.Truncate(wire.Sanitize(greeting), 512)
	if err != nil {
		sc.fail(s, err)
		return
	}
	s.Open = true
	if err := ss.capabilities(); err != nil {
		sc.fail(s, err)
		return
	}
	polite := true
	defer func() {
		if polite {
			ss.quit()
		}
	}()
	if s.Implicit {
		s.AuthAfterTLS = ss.mechanisms()
		ss.facts(s)
		return
	}
	s.AuthBeforeTLS = ss.mechanisms()
	s.PlaintextAuthBeforeTLS = slices.ContainsFunc(s.AuthBeforeTLS, revealsSecret)
	ss.facts(s)
	s.StartTLS = ss.startTLSOffered()
	if !s.StartTLS {
		return
	}
	// Offered: a monitor should require it, and fail if it does not work.
	s.TLSMode = string(probe.TLSStartTLS)
	if err := ss.startTLS(); err != nil {
		polite = errors.Is(err, wire.ErrTLSUnavailable)
		sc.fail(s, fmt.Errorf("STARTTLS: %w", err))
		return
	}
	if err := c.StartTLS(sc.tlsConfig(tls.VersionTLS10, 0)); err != nil {
		polite = false
		sc.fail(s, err)
		return
	}
	sc.tlsFacts(s, c.TLS())
	if err := ss.capabilities(); err != nil {
		sc.fail(s, err)
		return
	}
	s.AuthAfterTLS = ss.mechanisms()
	ss.facts(s)
}

// tlsFacts records the session and verifies the certificate for the
// host name (or the configured server name).
func (sc *scanner) tlsFacts(s *Service, cs *tls.ConnectionState) {
	if cs == nil {
		return
	}
	s.TLS = &TLS{Version: wire.VersionName(cs.Version), Cipher: tls.CipherSuiteName(cs.CipherSuite)}
	if len(cs.PeerCertificates) == 0 {
		return
	}
	now := sc.o.Now()
	leaf := cs.PeerCertificates[0]
	ct := &Cert{
		Subject:     wire.Sanitize(leaf.Subject.String()),
		Issuer:      wire.Sanitize(leaf.Issuer.String()),
		NotAfter:    leaf.NotAfter.UTC(),
		DaysLeft:    daysLeft(leaf.NotAfter, now),
		VerifiedFor: sc.serverName(),
	}
	for _, n := range leaf.DNSNames {
		ct.Names = append(ct.Names, wire.Truncate(wire.Sanitize(n), 120))
	}
	for _, ip := range leaf.IPAddresses {
		ct.Names = append(ct.Names, ip.String())
	}
	ct.Names = listed(ct.Names)
	opts := x509.VerifyOptions{Roots: sc.o.RootCAs, DNSName: ct.VerifiedFor, CurrentTime: now, Intermediates: x509.NewCertPool()}
	for _, ic := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(ic)
	}
	if _, err := leaf.Verify(opts); err != nil {
		ct.VerifyError = wire.Truncate(wire.Sanitize(err.Error()), 300)
	} else {
		ct.Verified = true
	}
	s.Cert = ct
}

// daysLeft counts whole days to t; an expired certificate has a negative
// count (-1 on the day after expiry).
func daysLeft(t, now time.Time) int {
	d := t.Sub(now)
	if d < 0 {
		return int(d.Hours()/24) - 1
	}
	return int(d.Hours() / 24)
}

// tlsVersions are the versions tried, oldest first.
var tlsVersions = []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// versions tries a handshake limited to each TLS version on a fresh
// connection each; the one the session negotiated is known to work.
func (sc *scanner) versions(s *Service) []string {
	var out []string
	for _, v := range tlsVersions {
		if sc.ctx.Err() != nil {
			break
		}
		if wire.VersionName(v) == s.TLS.Version || sc.handshakeWith(s, v) {
			out = append(out, wire.VersionName(v))
		}
	}
	return out
}

// handshakeWith reports whether a handshake limited to version v succeeds.
func (sc *scanner) handshakeWith(s *Service, v uint16) bool {
	c, _, err := sc.dial(nil)
	if err != nil {
		return false
	}
	defer c.Close()
	cfg := sc.tlsConfig(v, v)
	ss := newSession(s.Protocol, c, sc.ehlo)
	if s.Implicit {
		if c.Handshake(cfg) != nil {
			return false
		}
		if _, err := ss.greet(); err == nil {
			ss.quit() // end politely
		}
		return true
	}
	if _, err := ss.greet(); err != nil {
		return false
	}
	if s.Protocol == "smtp" {
		if err := ss.capabilities(); err != nil {
			return false
		}
	}
	if err := ss.startTLS(); err != nil {
		return false
	}
	if err := c.StartTLS(cfg); err != nil {
		return false
	}
	ss.quit()
	return true
}

// injection tests the STARTTLS command-injection weakness (CVE-2011-0411
// and its kin): STARTTLS and a harmless NOOP go in one write; a safe server
// discards what followed STARTTLS before the handshake, a vulnerable one
// answers the NOOP, in plaintext before the handshake or inside TLS after it.
func (sc *scanner) injection(s *Service) {
	c, raw, err := sc.dial(nil)
	if err != nil {
		s.InjectionDetail = "not tested: " + wire.Sanitize(err.Error())
		return
	}
	defer c.Close()
	ss := newSession(s.Protocol, c, sc.ehlo)
	if _, err := ss.greet(); err != nil {
		s.InjectionDetail = "not tested: " + wire.Sanitize(err.Error())
		return
	}
	ok, reply, err := ss.injection()
	switch {
	case err != nil:
		s.InjectionDetail = "not tested: " + wire.Sanitize(err.Error())
		return
	case !ok:
		s.Injection = InjectionSafe
		s.InjectionDetail = "STARTTLS with a command behind it was refused: " + wire.Truncate(reply, 200)
		return
	}
	err = c.StartTLS(sc.tlsConfig(tls.VersionTLS10, 0))
	var pe *wire.ProtocolError
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &pe), errors.As(err, &rh):
		s.Injection = InjectionVulnerable
		s.InjectionDetail = "the server answered the NOOP sent with STARTTLS in plaintext, before the TLS handshake"
		return
	case err != nil:
		// The main session's handshake worked: this one failed because of
		// the NOOP behind STARTTLS (taken for TLS data, or the connection
		// dropped on purpose). Either way it was not answered.
		s.Injection = InjectionSafe
		s.InjectionDetail = "the NOOP sent with STARTTLS was not answered; the server then failed the TLS handshake (" + wire.Truncate(wire.Sanitize(err.Error()), 120) + ")"
		return
	}
	// Nothing was sent within TLS: any reply now answers the NOOP that
	// came in the clear.
	wait := sc.o.InjectionWait
	if dl, ok := sc.ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = time.Until(dl)
	}
	raw.SetReadDeadline(time.Now().Add(wait))
	line, err := c.ReadLine()
	if err == nil {
		s.Injection = InjectionVulnerable
		s.InjectionDetail = "the server answered, inside TLS, the NOOP sent in plaintext with STARTTLS: " + wire.Truncate(line, 200)
		return
	}
	if sc.expired() {
		s.InjectionDetail = "not tested: the discovery's time ran out"
		return
	}
	s.Injection = InjectionSafe
	if isTimeout(err) {
		s.InjectionDetail = fmt.Sprintf("the NOOP sent with STARTTLS was not answered (waited %v inside TLS)", wait.Round(time.Millisecond))
		// The session is still in step: end it politely.
		if dl, ok := sc.ctx.Deadline(); ok {
			raw.SetReadDeadline(dl)
		}
		ss.quit()
	} else {
		s.InjectionDetail = "the server closed the connection instead of answering the NOOP sent with STARTTLS"
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
