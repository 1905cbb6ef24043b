package demo

import (
	"errors"
	"io"
	"log"
	"os"
	"syscall"
)

// quietLog is the demo SMTP server's error log without the noise of the
// demo's own monitors: its TCP monitor connects and hangs up, which the
// server would log as "error handling …: connection reset by peer" at every
// test. Any other error is logged.
type quietLog struct{ *log.Logger }

func newQuietLog(w io.Writer) quietLog {
	if w == nil {
		w = os.Stderr
	}
	return quietLog{log.New(w, "demo smtp: ", log.LstdFlags)}
}

// hangUp says whether err is a client that went away.
func hangUp(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF)
}

func (q quietLog) Printf(format string, v ...any) {
	for _, a := range v {
		if err, ok := a.(error); ok && hangUp(err) {
			return
		}
	}
	q.Logger.Printf(format, v...)
}

func (q quietLog) Println(v ...any) {
	for _, a := range v {
		if err, ok := a.(error); ok && hangUp(err) {
			return
		}
	}
	q.Logger.Println(v...)
}
