package probe

import "errors"

// Polite reports whether, after err, the session is still in step with the
// server, so that the test can end with QUIT or LOGOUT: the server refused
// something in a well-formed reply, or the client stopped on its own (a
// token command that failed), and nothing broke the stream.
func Polite(err error) bool {
	var se *StepError
	if errors.As(err, &se) && se.Phase == "tls" {
		return false // half a handshake leaves nothing to talk over
	}
	switch Classify(err) {
	case AuthFailed, AuthUnsupported, ServiceError, TLSUnavailable, SendRejected, ConfigMissing:
		return true
	}
	return false
}
