// Package realprom starts a real Prometheus (Debian's /usr/bin/prometheus),
// or Alertmanager (prometheus-alertmanager), for a test: its own configuration and storage under a temporary
// directory, its web API on a free loopback port >= 20000 chosen at run
// time, stopped when the test ends. Without Prometheus the test is skipped,
// unless $CI is set, where it fails.
package realprom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary finds the prometheus binary ($PROMETHEUS, else on $PATH, else
// /usr/bin/prometheus).
func Binary() (string, error) { return find("PROMETHEUS", "prometheus") }

// Promtool finds promtool ($PROMTOOL, else on $PATH, else /usr/bin).
func Promtool() (string, error) { return find("PROMTOOL", "promtool") }

func find(env, name string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := "/usr/bin/" + name
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s is not installed (its Debian package; .ci/test-deps installs it)", name)
	}
	return p, nil
}

// Need skips the test when err says a tool is missing, or fails it in CI.
func Need(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("realprom: %v", err)
	}
	t.Skipf("realprom: %v; skipped (it fails in CI)", err)
}

// Server is a running Prometheus.
type Server struct {
	URL string // http://127.0.0.1:PORT
	Dir string // its configuration, data and log
	log string
}

const (
	minPort      = 20000
	startTimeout = 20 * time.Second
	startTries   = 3 // the port may be taken between our check and its bind
)

// Start runs Prometheus with config (a whole prometheus.yml) until the
// test ends.
func Start(t testing.TB, config string) *Server {
	t.Helper()
	return start(t, Binary, "prometheus.yml", config, func(cfgFile, dir, addr, port string) []string {
		return []string{"--config.file=" + cfgFile, "--web.listen-address=" + addr,
			"--storage.tsdb.path=" + filepath.Join(dir, "data-"+port), "--storage.tsdb.retention.time=1h"}
	})
}

// start runs the binary binary finds with config written to the file
// cfgName and the arguments args gives, on a free port (another, if it was
// taken meanwhile).
func start(t testing.TB, binary func() (string, error), cfgName, config string, args func(cfgFile, dir, addr, port string) []string) *Server {
	t.Helper()
	bin, err := binary()
	Need(t, err)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, cfgName)
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	for try := 1; ; try++ {
		s, err := startOnce(t, bin, dir, func(addr, port string) []string { return args(cfgFile, dir, addr, port) })
		if err == nil {
			return s
		}
		if errors.Is(err, errAddrInUse) && try < startTries {
			continue
		}
		t.Fatalf("realprom: %v", err)
	}
}

var errAddrInUse = errors.New("the port was taken before the server bound it")

// startOnce starts bin (Prometheus, Alertmanager) with args for its
// address and port, and waits for it to be ready.
func startOnce(t testing.TB, bin, dir string, args func(addr, port string) []string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	name := filepath.Base(bin)
	s := &Server{URL: "http://" + addr, Dir: dir, log: filepath.Join(dir, name+"-"+strconv.Itoa(port)+".log")}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args(addr, strconv.Itoa(port))...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	var once sync.Once
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		once.Do(func() {
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
	}
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			stop()
			if strings.Contains(s.LogTail(), "address already in use") {
				return nil, errAddrInUse
			}
			return nil, fmt.Errorf("%s exited at start:\n%s", name, s.LogTail())
		default:
		}
		if resp, err := client.Get(s.URL + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("%s not ready after %v:\n%s", name, startTimeout, s.LogTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(stop)
	return s, nil
}

// freePort picks a port >= 20000 below the kernel's ephemeral range (so
// that no outgoing connection takes it meanwhile) that is free now.
func freePort() (int, error) {
	lo, hi := minPort, 32767
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if l, err := strconv.Atoi(f[0]); err == nil && l-1 > minPort+1000 {
				hi = l - 1
			}
		}
	}
	for range 1000 {
		p := lo + rand.IntN(hi-lo+1)
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free loopback port in %d-%d", lo, hi)
}

// LogTail is the end of Prometheus' log, for a failing test to show.
func (s *Server) LogTail() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// Sample is one series of an instant query's answer.
type Sample struct {
	Metric map[string]string
	Value  float64
}

// Query runs an instant query through the HTTP API.
func (s *Server) Query(ctx context.Context, expr string) ([]Sample, error) {
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := s.get(ctx, "/api/v1/query?query="+url.QueryEscape(expr), &out); err != nil {
		return nil, err
	}
	if out.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", expr, out.Error)
	}
	if out.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: a %s, not a vector", expr, out.Data.ResultType)
	}
	var samples []Sample
	for _, r := range out.Data.Result {
		str, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v", expr, r.Value[1])
		}
		samples = append(samples, Sample{Metric: r.Metric, Value: v})
	}
	return samples, nil
}

// Target is one scrape target's health, from /api/v1/targets.
type Target struct {
	Labels    map[string]string `json:"labels"`
	ScrapeURL string            `json:"scrapeUrl"`
	Health    string            `json:"health"`
	LastError string            `json:"lastError"`
}

// Targets lists the active targets.
func (s *Server) Targets(ctx context.Context) ([]Target, error) {
	var out struct {
		Data struct {
			ActiveTargets []Target `json:"activeTargets"`
		} `json:"data"`
	}
	err := s.get(ctx, "/api/v1/targets", &out)
	return out.Data.ActiveTargets, err
}

// Rule is one loaded rule's health, from /api/v1/rules.
type Rule struct {
	Group, Name, Health, LastError string
}

// Rules lists the loaded rules.
func (s *Server) Rules(ctx context.Context) ([]Rule, error) {
	var out struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := s.get(ctx, "/api/v1/rules", &out); err != nil {
		return nil, err
	}
	var rules []Rule
	for _, g := range out.Data.Groups {
		for _, r := range g.Rules {
			rules = append(rules, Rule{g.Name, r.Name, r.Health, r.LastError})
		}
	}
	return rules, nil
}

func (s *Server) get(ctx context.Context, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 8<<20)).Decode(v)
}

// WaitFor polls expr until ok accepts its answer, or fails the test after
// timeout with the last answer, the targets' health and the log.
func (s *Server) WaitFor(t testing.TB, expr string, timeout time.Duration, ok func([]Sample) bool) []Sample {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last []Sample
	var lastErr error
	for {
		last, lastErr = s.Query(context.Background(), expr)
		if lastErr == nil && ok(last) {
			t.Logf("prometheus: %s → %s", expr, format(last))
			return last
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var ts strings.Builder
	targets, _ := s.Targets(context.Background())
	for _, tg := range targets {
		fmt.Fprintf(&ts, "  %s %s %s\n", tg.ScrapeURL, tg.Health, tg.LastError)
	}
	t.Fatalf("%s: after %v: %v %v\ntargets:\n%slog:\n%s", expr, timeout, last, lastErr, ts.String(), s.LogTail())
	return nil
}

// Value is ok for WaitFor: exactly one series, of value v.
func Value(v float64) func([]Sample) bool {
	return func(s []Sample) bool { return len(s) == 1 && s[0].Value == v }
}

// Present is ok for WaitFor: at least one series.
func Present(s []Sample) bool { return len(s) > 0 }

func format(samples []Sample) string {
	var b strings.Builder
	for i, s := range samples {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v %g", s.Metric, s.Value)
	}
	return b.String()
}
