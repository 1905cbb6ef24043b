// Package harness runs mailmon for the benchmark programs: apply a
// configuration, make a token, start "mailmon serve" and read its status.
package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/mailmon/mailmon/internal/bench/procstat"
)

// Env is the environment the benchmarks run mailmon with: a fixed
// installation secret, so nothing is written to the user's config folder.
func Env() []string {
	return append(os.Environ(), "MAILMON_SECRET=bench-installation-secret-0123456789")
}

// Run runs a command to its end and returns its combined output.
func Run(env []string, bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", bin, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Daemon is a running "mailmon serve".
type Daemon struct {
	Cmd   *exec.Cmd
	URL   string
	Token string
}

// Prepare applies the YAML configuration file to db and creates a token.
func Prepare(bin, db, config string) (token string, err error) {
	if _, err := Apply(bin, db, config); err != nil {
		return "", err
	}
	return Token(bin, db)
}

// Applied is what "mailmon apply" of a configuration cost.
type Applied struct {
	Wall       time.Duration
	CPU        float64 // the apply process's user + system CPU seconds, from its rusage
	PeakRSSMiB float64
}

// Apply runs "mailmon apply -f config --db db", with env added to Env(),
// and measures it.
func Apply(bin, db, config string, env ...string) (Applied, error) {
	cmd := exec.Command(bin, "apply", "-f", config, "--db", db)
	cmd.Env = append(Env(), env...)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	a := Applied{Wall: time.Since(t0)}
	if err != nil {
		if len(out) > 2000 { // the end, where the error is
			out = out[len(out)-2000:]
		}
		return a, fmt.Errorf("%s apply -f %s: %v: %s", bin, config, err, out)
	}
	a.CPU, a.PeakRSSMiB = procstat.ExitedCPU(cmd.ProcessState), procstat.ExitedPeakRSSMiB(cmd.ProcessState)
	return a, nil
}

// Token creates an API token with every scope.
func Token(bin, db string) (string, error) {
	tok, err := Run(Env(), bin, "token", "create", "--name", "bench", "--db", db)
	return strings.TrimSpace(tok), err
}

// Serve starts "mailmon serve --db db" on a free loopback port, with the
// extra arguments, and waits for its address.
func Serve(bin, db, token string, extra ...string) (*Daemon, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, extra...)...)
	cmd.Env = Env()
	cmd.Stderr = io.Discard
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	f := strings.Fields(strings.TrimPrefix(line, "mailmon listening on "))
	if len(f) == 0 || !strings.HasPrefix(f[0], "http") {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("mailmon serve printed %q", line)
	}
	go io.Copy(io.Discard, stdout)
	return &Daemon{Cmd: cmd, URL: f[0], Token: token}, nil
}

// Status is the daemon's /api/v1/status.
type Status struct {
	Monitors     int     `json:"monitors"`
	InFlight     int     `json:"in_flight"`
	TestsStarted int64   `json:"tests_started"`
	LagP50       float64 `json:"lag_p50_ms"`
	LagP99       float64 `json:"lag_p99_ms"`
	LagMax       float64 `json:"lag_max_ms"`
	Goroutines   int     `json:"goroutines"`
}

// Status reads the daemon's status.
func (d *Daemon) Status() (Status, error) {
	var st Status
	req, _ := http.NewRequest("GET", d.URL+"/api/v1/status", nil)
	req.Header.Set("Authorization", "Bearer "+d.Token)
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return st, fmt.Errorf("status: HTTP %d", resp.StatusCode)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// Stop ends the daemon (SIGTERM, then SIGKILL after 10 s).
func (d *Daemon) Stop() {
	d.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		d.Cmd.Process.Kill()
		<-done
	}
}

// Met is a goal's verdict in a result table: "met" or a bold "not met".
func Met(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

// Trim cuts s to n bytes, an ellipsis marking the cut.
func Trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
