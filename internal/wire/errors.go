package wire

import (
	"errors"
	"fmt"
)

// ErrTLSUnavailable reports that TLS was required but the server does not
// offer STARTTLS (or refused it).
var ErrTLSUnavailable = errors.New("STARTTLS is required but not offered by the server")

// ProtocolError reports a server that broke the protocol: a malformed reply,
// a line or reply over its size cap, plaintext injected after STARTTLS.
type ProtocolError struct {
	Msg string
}

func (e *ProtocolError) Error() string { return "protocol violation: " + e.Msg }

// Violation returns a *ProtocolError with a formatted message.
func Violation(format string, args ...any) error {
	return &ProtocolError{Msg: fmt.Sprintf(format, args...)}
}

// ServerError is a well-formed refusal from the server: an SMTP 4xx/5xx reply,
// a POP3 -ERR, an IMAP NO/BAD/BYE. Reply is the server's own text, sanitized.
type ServerError struct {
	Reply     string
	Temporary bool  // SMTP 4xx, IMAP [UNAVAILABLE] and the like
	Err       error // what the refusal means, when more than a refusal (e.g. ErrTLSUnavailable)
}

func (e *ServerError) Error() string {
	if e.Err != nil {
		return e.Err.Error() + ": server replied: " + e.Reply
	}
	return "server replied: " + e.Reply
}

func (e *ServerError) Unwrap() error { return e.Err }

// ServerReply returns the server's words for display.
func (e *ServerError) ServerReply() string { return e.Reply }

// AuthError is a rejection of the credentials.
type AuthError struct {
	Reply string // the server's refusal, sanitized
	Err   error  // what led to it, if more than the reply
}

func (e *AuthError) Error() string {
	switch {
	case e.Err != nil && e.Reply != "":
		return "authentication failed: " + e.Reply + " (" + e.Err.Error() + ")"
	case e.Err != nil:
		return "authentication failed: " + e.Err.Error()
	}
	return "authentication failed: " + e.Reply
}

func (e *AuthError) Unwrap() error { return e.Err }

// ServerReply returns the server's words for display.
func (e *AuthError) ServerReply() string { return e.Reply }

// DialError wraps a failure to resolve or connect.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string { return fmt.Sprintf("connect %s: %v", e.Addr, e.Err) }
func (e *DialError) Unwrap() error { return e.Err }

// TLSError wraps a failed TLS handshake.
type TLSError struct {
	Err error
	// Plaintext is what the server sent where its handshake was due, when
	// that was no TLS ("454 4.7.0 TLS negotiation failed", a plaintext
	// greeting): the first bytes, raw.
	Plaintext []byte
}

func (e *TLSError) Error() string { return "TLS handshake: " + e.Err.Error() }
func (e *TLSError) Unwrap() error { return e.Err }
