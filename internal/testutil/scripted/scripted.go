// Package scripted runs a protocol client against a server script over an
// in-memory pipe, in the manner of net/smtp's transcript tests: the
// client's every byte is compared with what the script expects.
package scripted

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/wire"
)

// Conn returns the client's end of a connection whose server plays script,
// and the transcript the connection records. Script lines: "S: " a line the
// server sends (CRLF added), "R: " raw bytes it sends, "C: " the line the
// client must send, CRLF-terminated. A deviation fails the test; a server
// write the client no longer reads ends the script quietly (some tests
// expect the client to give up).
func Conn(t testing.TB, script ...string) (*wire.Conn, *wire.Transcript) {
	t.Helper()
	srv, cli := net.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	tr := &wire.Transcript{}
	conn := wire.NewConn(ctx, cli, wire.DefaultLimits(), tr)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer srv.Close()
		br := bufio.NewReader(srv)
		for i, s := range script {
			kind, text := s[:min(3, len(s))], s[min(3, len(s)):]
			switch kind {
			case "S: ", "R: ":
				if kind == "S: " {
					text += "\r\n"
				}
				if _, err := srv.Write([]byte(text)); err != nil {
					return
				}
			case "C: ":
				srv.SetReadDeadline(time.Now().Add(3 * time.Second))
				line, err := br.ReadString('\n')
				if err != nil {
					t.Errorf("step %d: expected the client to send %q: %v", i, text, err)
					return
				}
				if !strings.HasSuffix(line, "\r\n") {
					t.Errorf("step %d: the client's line %q does not end in CRLF", i, line)
				}
				if got := strings.TrimSuffix(line, "\r\n"); got != text {
					t.Errorf("step %d: the client sent %q, want %q", i, got, text)
					return
				}
			default:
				t.Errorf("bad script step %q", s)
				return
			}
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
		cancel()
	})
	return conn, tr
}
