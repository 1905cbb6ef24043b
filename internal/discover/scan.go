package discover

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mailmon/mailmon/internal/probe"
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
	byName, _ := services()
	info := byName[p.Service]
	s := Service{Name: p.Service, Protocol: info.protocol, Port: p.Port, Implicit: info.implicit,
		TLSMode: string(probe.TLSNone), Injection: InjectionUntested}
	sc := &scanner{ctx: ctx, host: host, addrs: addrs, port: p.Port, o: o,
		ehlo: probe.EHLOName(&probe.Config{EHLOName: o.EHLOName})}
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
		DaysLeft:    probe.DaysLeft(leaf.NotAfter, now),
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
// Only a reply to the NOOP (session.noopAnswer) makes it vulnerable: other
// words where TLS was due ("454 TLS negotiation failed" from a server that
// took the NOOP for handshake bytes) are reported as what happened.
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
	wait := sc.o.InjectionWait
	if dl, ok := sc.ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = time.Until(dl)
	}
	err = c.StartTLS(sc.tlsConfig(tls.VersionTLS10, 0))
	var pe *wire.ProtocolError
	var te *wire.TLSError
	switch {
	case errors.As(err, &pe):
		// Plaintext was already waiting behind the agreement.
		raw.SetReadDeadline(time.Now().Add(wait))
		sc.plaintextAfterAgreement(s, ss, c.ReadLine)
		return
	case errors.As(err, &te) && len(te.Plaintext) > 0:
		// Plaintext came where the server's handshake was due.
		sc.plaintextAfterAgreement(s, ss, lines(te.Plaintext))
		return
	case err != nil:
		// The main session's handshake worked: this one failed because of
		// the NOOP behind STARTTLS (taken for TLS data, or the connection
		// dropped on purpose). Either way it was not answered.
		s.Injection = InjectionSafe
		s.InjectionDetail = "the NOOP sent with STARTTLS was not answered; the server then failed the TLS handshake (" + wire.Truncate(wire.Sanitize(err.Error()), 120) + ")"
		return
	}
	// Nothing was sent within TLS: a reply now answers the NOOP that came
	// in the clear.
	raw.SetReadDeadline(time.Now().Add(wait))
	answer, other, err := awaitNoop(ss, c.ReadLine, true)
	if answer != "" {
		s.Injection = InjectionVulnerable
		s.InjectionDetail = "the server answered, inside TLS, the NOOP sent in plaintext with STARTTLS: " + wire.Truncate(wire.Sanitize(answer), 200)
		return
	}
	if other != "" {
		other = "; inside TLS it said instead: " + wire.Truncate(wire.Sanitize(other), 200)
	}
	if sc.expired() {
		s.InjectionDetail = "not tested: the discovery's time ran out"
		return
	}
	s.Injection = InjectionSafe
	switch {
	case err == nil:
		s.InjectionDetail = "the NOOP sent with STARTTLS was not answered" + other
	case isTimeout(err):
		s.InjectionDetail = fmt.Sprintf("the NOOP sent with STARTTLS was not answered (waited %v inside TLS)%s", wait.Round(time.Millisecond), other)
		// The session is still in step: end it politely.
		if dl, ok := sc.ctx.Deadline(); ok {
			raw.SetReadDeadline(dl)
		}
		ss.quit()
	default:
		s.InjectionDetail = "the server closed the connection instead of answering the NOOP sent with STARTTLS" + other
	}
}

// injectionLines bounds the lines read while waiting for the NOOP's reply.
const injectionLines = 4

// plaintextAfterAgreement judges the plaintext a server sent after agreeing
// to STARTTLS, where its TLS handshake was due, read with next: vulnerable
// if a line answers the NOOP, else what the server said instead.
func (sc *scanner) plaintextAfterAgreement(s *Service, ss session, next func() (string, error)) {
	answer, first, _ := awaitNoop(ss, next, false)
	if answer != "" {
		s.Injection = InjectionVulnerable
		s.InjectionDetail = "the server answered the NOOP sent with STARTTLS in plaintext, before the TLS handshake: " + wire.Truncate(wire.Sanitize(answer), 200)
		return
	}
	s.Injection = InjectionSafe
	switch {
	case first == "":
		s.InjectionDetail = "TLS record error after STARTTLS, and no reply to the NOOP sent with it"
	case !isText(first):
		s.InjectionDetail = fmt.Sprintf("TLS record error after STARTTLS: the server sent %q where TLS was due, and no reply to the NOOP sent with it", wire.Truncate(first, 16))
	default:
		s.InjectionDetail = "refused TLS after reading the pipelined NOOP: " + wire.Truncate(wire.Sanitize(first), 200)
	}
}

// awaitNoop reads at most injectionLines lines with next, looking for the
// reply to the NOOP: that reply if one came, else the first other line and
// the error that ended the reading (nil when the lines ran out).
func awaitNoop(ss session, next func() (string, error), inTLS bool) (answer, other string, err error) {
	for range injectionLines {
		var line string
		if line, err = next(); err != nil {
			return "", other, err
		}
		if ss.noopAnswer(line, inTLS) {
			return line, other, nil
		}
		if other == "" {
			other = line
		}
	}
	return "", other, nil
}

// isText reports a line of printable text (a protocol reply), not binary.
func isText(line string) bool {
	return utf8.ValidString(line) && !strings.ContainsFunc(line, func(r rune) bool { return r != '\t' && unicode.IsControl(r) })
}

// lines returns the lines of b one by one, the last one even if cut short.
func lines(b []byte) func() (string, error) {
	return func() (string, error) {
		if len(b) == 0 {
			return "", io.EOF
		}
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		b = rest
		return strings.TrimSuffix(string(line), "\r"), nil
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
