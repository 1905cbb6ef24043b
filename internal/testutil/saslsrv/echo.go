package saslsrv

import (
	"encoding/base64"
	"errors"
	"strings"

	gosasl "github.com/emersion/go-sasl"
)

// EchoError is the failure of an echoing exchange: Text repeats everything
// the client sent, for the fake to put in its refusal.
type EchoError struct {
	Text string
	Err  error
}

func (e *EchoError) Error() string { return "rejected: " + e.Text }
func (e *EchoError) Unwrap() error { return e.Err }

// Echoer is a mechanism made by Echo: Said is what the client sent so far,
// for the fake to repeat in its success reply too.
type Echoer interface {
	gosasl.Server
	Said() string
}

// Echo wraps srv to repeat what the client sends, as a careless or hostile
// server does, so that tests can prove the client keeps it out of every
// output: every challenge after the first carries the client's last
// response decoded, and a failure is an *EchoError carrying each response
// decoded and as it crossed the wire (the command line "AUTH mech base64"
// for the first, base64 for the others).
func Echo(srv gosasl.Server, mech string) Echoer {
	return &echo{Server: srv, mech: strings.ToUpper(mech)}
}

type echo struct {
	gosasl.Server
	mech string
	said []string
}

func (e *echo) Said() string { return strings.Join(e.said, " | ") }

func (e *echo) Next(resp []byte) ([]byte, bool, error) {
	if resp != nil {
		sent := base64.StdEncoding.EncodeToString(resp)
		if len(e.said) == 0 {
			sent = "AUTH " + e.mech + " " + sent
		}
		e.said = append(e.said, string(resp), sent)
	}
	chal, done, err := e.Server.Next(resp)
	if err != nil {
		return nil, true, &EchoError{Text: e.Said(), Err: errors.Join(ErrInvalid, err)}
	}
	if !done && resp != nil {
		chal = append(append(chal, " you said: "...), resp...)
	}
	return chal, done, nil
}
