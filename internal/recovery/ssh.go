package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/hostcmd"
)

// Credential is a credential ready to log in with over SSH. It is never
// logged: String and LogValue show its name alone.
type Credential struct {
	name     string
	user     string
	password string     // or
	signer   ssh.Signer // a private key,
	key      string     // its PEM, redacted from output
	hostKey  ssh.PublicKey
}

func (c *Credential) String() string { return "credential " + c.name }

// LogValue logs a credential by its name only.
func (c *Credential) LogValue() slog.Value { return slog.StringValue(c.name) }

// Secrets are what no output may show of it: its password and key.
func (c *Credential) Secrets() []string { return []string{c.password, c.key} }

// Login is a stored credential's settings with its opened secrets.
type Login struct {
	Name, User string
	KnownHost  string // the server's public key, authorized_keys format
	Password   string // or
	Key        string // a PEM private key
}

// NewCredential builds a credential from its settings and secrets.
func NewCredential(l Login) (*Credential, error) {
	c := &Credential{name: l.Name, user: l.User, password: l.Password, key: l.Key}
	var err error
	if c.hostKey, err = ParseKnownHost(l.KnownHost); err != nil {
		return nil, fmt.Errorf("credential %s: known_host: %w", l.Name, err)
	}
	switch {
	case l.Key != "":
		c.signer, err = ssh.ParsePrivateKey([]byte(l.Key))
		var pm *ssh.PassphraseMissingError
		if errors.As(err, &pm) {
			return nil, fmt.Errorf("credential %s: the key is encrypted with a passphrase, which is not supported", l.Name)
		}
		if err != nil {
			// The parser's message never quotes the key.
			return nil, fmt.Errorf("credential %s: key: %w", l.Name, err)
		}
	case l.Password == "":
		return nil, fmt.Errorf("credential %s: no password or key is stored", l.Name)
	}
	return c, nil
}

// HostKeyError is a server that presented another host key than its
// credential's known_host: the command was not sent.
type HostKeyError struct {
	Host        string
	Fingerprint string // of the key presented
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("ssh %s: the host key (%s) is not the credential's known_host; nothing was run", e.Host, e.Fingerprint)
}

// sshResult is what a remote command did: its exit status and its stdout
// and stderr, combined, capped and redacted (hostcmd.Clean).
type sshResult struct {
	Status int
	Output string
}

// runSSH runs argv on addr (host:port) as cred, within ctx's deadline: the
// connection is closed when ctx ends, whatever phase it is in. A command
// that ran returns its result with a nil error, whatever its exit status.
// The output shows neither the credential's secrets nor redact.
func runSSH(ctx context.Context, addr string, cred *Credential, argv []string, redact []string) (*sshResult, error) {
	if len(argv) == 0 {
		return nil, errors.New("ssh: no command")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	// ctxErr says the deadline, not the closed connection it causes.
	ctxErr := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("ssh %s: %w", addr, ctx.Err())
		}
		return err
	}

	fixed := ssh.FixedHostKey(cred.hostKey)
	auth := []ssh.AuthMethod{ssh.Password(cred.password)}
	if cred.signer != nil {
		auth = []ssh.AuthMethod{ssh.PublicKeys(cred.signer)}
	}
	cfg := &ssh.ClientConfig{
		User: cred.user,
		Auth: auth,
		HostKeyCallback: func(host string, remote net.Addr, key ssh.PublicKey) error {
			if fixed(host, remote, key) != nil {
				return &HostKeyError{Host: host, Fingerprint: key.Type() + " " + ssh.FingerprintSHA256(key)}
			}
			return nil
		},
		// Only the key type of known_host is offered, so that a server
		// holding several cannot pick another that would then not match.
		HostKeyAlgorithms: hostKeyAlgorithms(cred.hostKey),
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		return nil, ctxErr(fmt.Errorf("ssh %s: %w", addr, err))
	}
	client := ssh.NewClient(sc, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return nil, ctxErr(fmt.Errorf("ssh %s: session: %w", addr, err))
	}
	defer sess.Close()
	secrets := append([]string{cred.password, cred.key}, redact...)
	out := hostcmd.NewCapture(hostcmd.CaptureSize(secrets))
	sess.Stdout, sess.Stderr = out, out
	err = sess.Run(shellJoin(argv))
	output := func() string { return hostcmd.Clean(out.Bytes(), out.Cut(), secrets) }
	if ctx.Err() != nil {
		return &sshResult{Status: -1, Output: output()}, fmt.Errorf("ssh %s: %w", addr, ctx.Err())
	}
	var exit *ssh.ExitError
	switch {
	case errors.As(err, &exit):
		return &sshResult{Status: exit.ExitStatus(), Output: output()}, nil
	case err != nil:
		return &sshResult{Status: -1, Output: output()}, fmt.Errorf("ssh %s: %w", addr, err)
	}
	return &sshResult{Output: output()}, nil
}

// hostKeyAlgorithms lists the algorithms a key of k's type verifies with.
func hostKeyAlgorithms(k ssh.PublicKey) []string {
	if k.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{k.Type()}
}

// shellJoin makes one command line of argv. SSH sends a command as a
// single string, which the remote user's shell parses: each argument is
// put in single quotes, inside which a POSIX shell gives no character a
// meaning, and a single quote itself is written '\” (close, escaped
// quote, reopen). So an argument reaches the program as it is, never as
// shell syntax ($, ;, spaces, globs).
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
