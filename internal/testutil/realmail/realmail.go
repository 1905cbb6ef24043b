// Package realmail starts real Postfix and Dovecot as private instances on
// loopback for tests: own configuration, queue, sockets, logs and mail under
// a temporary directory, free ports >= 20000 chosen at run time, no systemd,
// and nothing of the stock /etc/postfix or /etc/dovecot is used or changed.
//
// The daemons start once per test binary and live until Stop (or Main) ends
// them; if the test binary dies first, a watchdog process ends them.
// Without root, Postfix or Dovecot the tests are skipped, unless $CI is set,
// where they fail with the reason.
package realmail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Env describes the running servers. All ports listen on 127.0.0.1, and
// also on ::1 when IPv6 is true.
type Env struct {
	Dir          string    // temporary root of everything below
	CAFile       string    // PEM of the self-signed CA that signed the server certificate
	CertFile     string    // server certificate (PEM), valid for "localhost", 127.0.0.1 and ::1
	KeyFile      string    // its private key (PEM, PKCS#8)
	CertNotAfter time.Time // the server certificate's expiry, over a year ahead
	ServerName   string    // "localhost"
	IPv6         bool      // the services also listen on [::1]

	SMTP            int // Postfix smtpd like port 25: STARTTLS offered, no AUTH, takes mail for Domain from anyone
	SMTPNoTLS       int // Postfix smtpd without STARTTLS, no AUTH, takes mail for Domain from anyone
	Submission      int // like 587: STARTTLS; AUTH PLAIN LOGIN CRAM-MD5 only after TLS; sending needs AUTH
	SubmissionPlain int // like Submission, but AUTH is offered before TLS too
	SMTPS           int // like 465: implicit TLS; AUTH PLAIN LOGIN CRAM-MD5; sending needs AUTH
	POP3            int // Dovecot POP3 with STLS; USER/PASS, APOP and SASL allowed without TLS
	POP3S           int // Dovecot POP3, implicit TLS
	IMAP            int // Dovecot IMAP with STARTTLS; LOGIN allowed without TLS
	IMAPS           int // Dovecot IMAP, implicit TLS

	Domain    string // "example.test": the only domain Postfix accepts mail for
	User      string // "probe@example.test"
	Password  string // random, stored in plaintext so PLAIN, LOGIN, APOP and CRAM-MD5 work
	User2     string // "other@example.test"
	Password2 string

	// AuthServID is the authserv-id of the Authentication-Results header
	// Postfix adds to mail from a client whose EHLO name is a key of
	// AuthResultsFor ("mail.example.test", its myhostname).
	AuthServID string

	PostfixLog string // Postfix's log (maillog_file = /dev/stdout of the master, which goes here)
	DovecotLog string // Dovecot's log_path
}

// AuthResultsFor maps EHLO names to the verdicts of the
// Authentication-Results header Postfix adds, as a receiving server's
// milter would, to mail from a client that said that name (in EHLO; any
// other name gets none): a round trip's SMTP leg picks its verdicts with
// its ehlo.
func AuthResultsFor() map[string]string {
	return map[string]string{
		EHLOAuthPass:      "spf=pass smtp.mailfrom=example.test; dkim=pass (good signature) header.d=example.test; dmarc=pass header.from=example.test",
		EHLOAuthDMARCFail: "spf=pass smtp.mailfrom=bounce.example.net; dkim=pass header.d=example.net; dmarc=fail (p=reject; not aligned) header.from=example.test",
	}
}

// The EHLO names of AuthResultsFor.
const (
	EHLOAuthPass      = "auth-pass.example.test"
	EHLOAuthDMARCFail = "dmarc-fail.example.test"
)

// ForgedAuthResults is the header Postfix inserts among the message's own
// headers (before From:) when the From address is at ForgedFromDomain,
// standing in for one the sender wrote: a header of another authserv-id,
// below any the receiving server adds.
const (
	ForgedFromDomain  = "forged.example.net"
	ForgedAuthResults = "forger.example.net; spf=pass; dkim=pass; dmarc=fail header.from=" + ForgedFromDomain
)

// Service is one listening port of the servers and how it greets.
type Service struct {
	Name     string
	Port     int
	Implicit bool   // TLS from the first byte
	Greeting string // what the greeting starts with
}

// Services lists every port the servers listen on.
func (e *Env) Services() []Service {
	return []Service{
		{"SMTP", e.SMTP, false, "220 "},
		{"SMTPNoTLS", e.SMTPNoTLS, false, "220 "},
		{"Submission", e.Submission, false, "220 "},
		{"SubmissionPlain", e.SubmissionPlain, false, "220 "},
		{"SMTPS", e.SMTPS, true, "220 "},
		{"POP3", e.POP3, false, "+OK"},
		{"POP3S", e.POP3S, true, "+OK"},
		{"IMAP", e.IMAP, false, "* OK"},
		{"IMAPS", e.IMAPS, true, "* OK"},
	}
}

// Addr returns "127.0.0.1:port".
func (e *Env) Addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// Addr6 returns "[::1]:port"; the services listen there only when e.IPv6.
func (e *Env) Addr6(port int) string { return net.JoinHostPort("::1", strconv.Itoa(port)) }

// Maildir returns the maildir of user ("probe@example.test"): new mail
// lands in Maildir(user)/new, and folder F is Maildir(user)/.F. For User
// and User2, INBOX and the special-use folders Drafts, Junk, Sent and
// Trash exist from Start (a message file written into .Junk/new, owned by
// the user "mail" or world-readable, shows up in IMAP's Junk).
func (e *Env) Maildir(user string) string {
	local, domain, ok := strings.Cut(user, "@")
	if !ok {
		domain = e.Domain
	}
	return filepath.Join(e.Dir, "mail", domain, local, "Maildir")
}

func (e *Env) ports() []int {
	return []int{e.SMTP, e.SMTPNoTLS, e.Submission, e.SubmissionPlain, e.SMTPS, e.POP3, e.POP3S, e.IMAP, e.IMAPS}
}

// CertPool returns a pool holding the harness CA.
func (e *Env) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	if b, err := os.ReadFile(e.CAFile); err == nil {
		pool.AppendCertsFromPEM(b)
	}
	return pool
}

// TLSConfig returns a client configuration that verifies the servers.
func (e *Env) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: e.CertPool(), ServerName: e.ServerName, MinVersion: tls.VersionTLS12}
}

// LogTail returns the last lines of both daemons' logs, for a failing test
// to print.
func (e *Env) LogTail() string {
	return "postfix log (" + e.PostfixLog + "):\n" + tail(e.PostfixLog, 40) +
		"dovecot log (" + e.DovecotLog + "):\n" + tail(e.DovecotLog, 40)
}

// The servers are one per test binary by design (starting them takes about
// a second), so their state is package-level, guarded by mu.
var (
	mu       sync.Mutex
	started  bool
	current  *Env
	startErr error
	running  *instance
)

// Start starts Postfix and Dovecot the first time it is called in a test
// binary and returns the same Env on every later call. It registers no
// cleanup: call Stop from TestMain, or use Main. When the servers cannot
// run, the test is skipped, or fails if $CI is set.
func Start(t testing.TB) *Env {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !started {
		started = true
		running, startErr = start(Options{})
		if running != nil {
			current = running.env
		}
	}
	if startErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("realmail: %v", startErr)
		}
		t.Skipf("real Postfix/Dovecot not available (%v); install postfix dovecot-imapd dovecot-pop3d dovecot-lmtpd or run .ci/run", startErr)
	}
	return current
}

// Stop stops Postfix and Dovecot, waits until none of their processes is
// left and removes Env.Dir (kept when $REALMAIL_KEEP is set, for a look at
// the logs). A later Start starts new servers.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if running != nil {
		running.stop()
		if os.Getenv("REALMAIL_KEEP") == "" {
			os.RemoveAll(running.env.Dir)
		}
	}
	started, current, startErr, running = false, nil, nil, nil
}

// Launch starts private servers outside a test (the benchmark harnesses):
// stop ends them and removes their directory. It is independent of Start.
func Launch() (env *Env, stop func(), err error) {
	in, err := start(Options{})
	if err != nil {
		return nil, nil, err
	}
	return in.env, func() { in.stop(); os.RemoveAll(in.env.Dir) }, nil
}

// Main runs the tests of m and then stops the servers:
//
//	func TestMain(m *testing.M) { realmail.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

const (
	startTimeout = 15 * time.Second
	startTries   = 3 // a port can be taken between our check and the daemon's bind
)

// Options change the servers from the defaults, for StartWith.
type Options struct {
	// OAuth2 adds Dovecot's oauth2 passdb for XOAUTH2 and OAUTHBEARER,
	// asking the token's validity of an RFC 7662 introspection endpoint;
	// Postfix's submission ports offer them too (through Dovecot's SASL).
	OAuth2 *OAuth2
}

// OAuth2 is the authorization server Dovecot asks.
type OAuth2 struct {
	IntrospectURL string // https://localhost:port/introspect (POST token=…)
	CA            []byte // PEM of the CA that signed its certificate
}

// StartWith starts private servers of their own for one test, changed by
// o, and stops them when the test ends; Start's shared servers keep the
// defaults. Skipped (or failed under $CI) as Start is.
func StartWith(t testing.TB, o Options) *Env {
	t.Helper()
	in, err := start(o)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("realmail: %v", err)
		}
		t.Skipf("real Postfix/Dovecot not available (%v)", err)
	}
	t.Cleanup(func() {
		in.stop()
		if os.Getenv("REALMAIL_KEEP") == "" {
			os.RemoveAll(in.env.Dir)
		}
	})
	return in.env
}

func start(o Options) (*instance, error) {
	if err := preflight(); err != nil {
		return nil, err
	}
	removeStaleDirs()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for try := 1; ; try++ {
		in, err := startOnce(ctx, o)
		if err == nil {
			return in, nil
		}
		if in == nil {
			return nil, err
		}
		if errors.Is(err, errAddrInUse) && try < startTries && ctx.Err() == nil {
			os.RemoveAll(in.env.Dir)
			continue
		}
		err = fmt.Errorf("%w\n%s", err, in.diagnostics())
		if os.Getenv("REALMAIL_KEEP") == "" {
			os.RemoveAll(in.env.Dir)
		}
		return nil, err
	}
}

func randomPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tail returns the last n lines of a file, or why it cannot.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "  (" + err.Error() + ")\n"
	}
	return tailText(string(b), n)
}

func tailText(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return "  (empty)\n"
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	return b.String()
}
