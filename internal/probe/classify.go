package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// StepError is a failed phase of a test: which phase, why (a Code), the
// server's own reply if it gave one, and the underlying error.
type StepError struct {
	Phase string
	Code  Code
	Reply string
	Err   error
}

func (e *StepError) Error() string { return e.Phase + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// CodeError forces a code onto an error whose type alone does not say it,
// e.g. a refused RCPT in a round trip is send_rejected, not service_error.
type CodeError struct {
	Code Code
	Err  error
}

func (e *CodeError) Error() string { return e.Err.Error() }
func (e *CodeError) Unwrap() error { return e.Err }

// Warning is how a prober reports a test that worked but not as it should
// (a probe message delivered to the junk folder): the result is a Warn with
// this code, not a Down.
type Warning struct {
	Code Code
	Err  error
}

func (e *Warning) Error() string { return e.Err.Error() }
func (e *Warning) Unwrap() error { return e.Err }

// replier is an error that carries the server's words.
type replier interface{ ServerReply() string }

// Classify decides the code of an error by its type, never by its text.
func Classify(err error) Code {
	var (
		cfg   *ConfigError
		auth  *wire.AuthError
		unsup *sasl.UnsupportedError
		srv   *wire.ServerError
		proto *wire.ProtocolError
		dial  *wire.DialError
		dns   *net.DNSError
		tlsE  *wire.TLSError
	)
	// The outermost error that states a code wins: a CodeError wrapped
	// around a StepError restates it.
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch x := e.(type) {
		case *StepError:
			return x.Code
		case *CodeError:
			return x.Code
		case *Warning:
			return x.Code
		}
	}
	switch {
	case err == nil:
		return ""
	case errors.As(err, &cfg):
		return ConfigMissing
	case errors.Is(err, wire.ErrTLSUnavailable):
		return TLSUnavailable
	case errors.As(err, &unsup):
		return AuthUnsupported // before AuthError: nothing was sent to reject
	case errors.As(err, &auth):
		return AuthFailed
	case errors.As(err, &srv):
		return ServiceError
	case errors.As(err, &proto):
		return ProtocolViolation
	case isCertError(err):
		return CertInvalid
	case isTimeout(err):
		return Timeout
	case errors.As(err, &dns):
		return DNSFailed
	case errors.As(err, &dial):
		return ConnectFailed
	case errors.As(err, &tlsE):
		if isDisconnect(err) {
			return Disconnected
		}
		return TLSFailed
	case isDisconnect(err):
		return Disconnected
	}
	return ProtocolViolation
}

func isCertError(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
		certErr  *CertError
	)
	return errors.As(err, &unknown) || errors.As(err, &invalid) ||
		errors.As(err, &hostname) || errors.As(err, &verify) || errors.As(err, &certErr)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
}

func isDisconnect(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// replyOf returns the server's words carried by err, if any.
func replyOf(err error) string {
	var r replier
	if errors.As(err, &r) {
		return r.ServerReply()
	}
	return ""
}
