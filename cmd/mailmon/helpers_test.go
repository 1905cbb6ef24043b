package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/syncbuf"
)

// syncBuffer is a buffer a child process writes to while the test reads it.
type syncBuffer = syncbuf.Buffer

// daemon is a "mailmon serve" running in its own process.
type daemon struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
}

// startDaemon runs mailmon serve on db until the test ends (or stop/kill).
func startDaemon(t *testing.T, db string, env []string) *daemon {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--db", db, "--listen", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), "MAILMON_RUN_MAIN=1"), env...)
	stdout, _ := cmd.StdoutPipe()
	d := &daemon{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.stop() })
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	f := strings.Fields(strings.TrimPrefix(line, "mailmon listening on "))
	if len(f) == 0 {
		t.Fatalf("serve printed %q\n%s", line, d.stderr.String())
	}
	d.url = f[0]
	return d
}

// stop ends the daemon with SIGTERM and returns how it exited.
func (d *daemon) stop() error {
	if d.cmd.ProcessState != nil {
		return nil
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	return d.cmd.Wait()
}

// kill ends the daemon with SIGKILL, as a crash would.
func (d *daemon) kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	d.cmd.Wait()
}

// get GETs an API path with token and decodes the JSON answer into v; it
// returns the HTTP status, 0 when the daemon does not answer.
func (d *daemon) get(path, token string, v any) int {
	req, _ := http.NewRequest("GET", d.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if v != nil {
		json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

// smtpTarget answers like an SMTP server while healthy is true and hangs
// up at once while it is not.
func smtpTarget(t *testing.T, healthy *atomic.Bool) *hostile.Server {
	return hostile.Start(t, func(c *hostile.Conn) {
		if !healthy.Load() {
			return
		}
		answerSMTP(c, "target")
	})
}

// answerSMTP greets as an SMTP server called name and says yes to every
// command until QUIT.
func answerSMTP(c *hostile.Conn, name string) {
	c.Send("220 " + name + " ESMTP\r\n")
	for l := c.ReadLine(); l != ""; l = c.ReadLine() {
		if strings.HasPrefix(l, "QUIT") {
			c.Send("221 bye\r\n")
			return
		}
		c.Send("250 " + name + "\r\n")
	}
}
