package pingprobe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
)

// The test binary doubles as the child that runs inside a network
// namespace: MAILMON_PING_CHILD names its role, which decides how the
// namespace is set up before the child pings.
func TestMain(m *testing.M) {
	if role := os.Getenv("MAILMON_PING_CHILD"); role != "" {
		os.Exit(child(role))
	}
	os.Exit(m.Run())
}

// child sets up its namespace for role, pings 127.0.0.1 and 192.0.2.1
// (TEST-NET-1) and prints the results as JSON. A fresh network namespace
// has only loopback, so nothing can leave the machine.
func child(role string) int {
	loUp := []string{"ip", "link", "set", "lo", "up"}
	var cmds [][]string
	timeout := 5 * time.Second
	switch role {
	case "netns":
		cmds = [][]string{loUp}
	case "dgram":
		cmds = [][]string{loUp}
		// The namespace's own sysctl: every group may use ping sockets.
		if err := os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte("0 2147483647"), 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
	case "noreply":
		// 192.0.2.0/24 leads into loopback, where nothing owns it and
		// nothing forwards: the requests go, no reply comes.
		cmds = [][]string{loUp, {"ip", "route", "add", "192.0.2.0/24", "dev", "lo"}}
		timeout = time.Second
	case "noperm":
		// Loopback stays down: the socket cannot be opened anyway.
	default:
		fmt.Fprintf(os.Stderr, "unknown role %q\n", role)
		return 3
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "%v: %v %s", c, err, out)
			return 3
		}
	}
	out := map[string]*probe.Result{}
	for _, h := range []string{"127.0.0.1", "192.0.2.1"} {
		out[h] = probe.Run(context.Background(), Kind(), probe.Config{Type: "ping", Host: h, Timeout: timeout})
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// needRoot skips without root (network namespaces, a raw socket), and
// fails in CI, where the tests run as root.
func needRoot(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root to create a network namespace"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "needs iproute2's ip to bring up loopback in a network namespace"
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

func runChild(t *testing.T, bin, role string, attr *syscall.SysProcAttr) map[string]*probe.Result {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), "MAILMON_PING_CHILD="+role)
	cmd.SysProcAttr = attr
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", role, err, stderr.String())
	}
	var res map[string]*probe.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child %s printed %q: %v", role, out, err)
	}
	return res
}

func TestPingLoopback(t *testing.T) {
	hosts := []string{"127.0.0.1"}
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		ln.Close()
		hosts = append(hosts, "::1")
	}
	for _, h := range hosts {
		r := probe.Run(context.Background(), Kind(), probe.Config{Type: "ping", Host: h, Timeout: 5 * time.Second})
		if r.Error != nil && r.Error.Code == probe.ConfigMissing && os.Getenv("CI") == "" {
			t.Skipf("no ICMP socket here: %s", r.Error.Detail)
		}
		if r.Status != probe.StatusUp || r.Target != h || r.Details["sent"] != Count || r.Details["received"] != Count ||
			r.Details["loss_percent"] != 0.0 || r.Details["address"] != h || r.RTT > time.Second {
			t.Errorf("%s: %+v", h, r)
		}
		if k := r.Details["socket"]; k != SocketRaw && k != SocketUnprivileged {
			t.Errorf("socket %v", k)
		}
		if mn, mx := r.Details["rtt_min_ms"].(float64), r.Details["rtt_max_ms"].(float64); mn <= 0 || mx < mn {
			t.Errorf("rtt min %v max %v", mn, mx)
		}
	}
}

// TestPingInNetworkNamespace: in a namespace with only loopback up,
// 127.0.0.1 answers (over a raw socket: a new namespace's
// ping_group_range is "1 0", no group may use ping sockets) and 192.0.2.1,
// which has no route there, fails at once with a clear error.
func TestPingInNetworkNamespace(t *testing.T) {
	needRoot(t)
	res := runChild(t, os.Args[0], "netns", &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET})
	up := res["127.0.0.1"]
	if up == nil || up.Status != probe.StatusUp || up.Details["socket"] != SocketRaw || up.Details["received"] != float64(Count) {
		t.Errorf("127.0.0.1 in the namespace: %+v", up)
	}
	down := res["192.0.2.1"]
	if down == nil || down.Status != probe.StatusDown || down.Error == nil || down.Error.Code != probe.ConnectFailed ||
		down.Error.Phase != "echo" || !strings.Contains(down.Error.Detail, "network is unreachable") || down.RTT > 500*time.Millisecond {
		t.Fatalf("192.0.2.1 without a route: %+v %+v", down, down.Error)
	}
	t.Logf("192.0.2.1: %s in %v: %s", down.Error.Code, down.RTT, down.Error.Detail)
}

// TestPingWithoutPermission: a user with neither a ping socket (the new
// namespace allows no group) nor CAP_NET_RAW gets an error that says both
// and what to do, as config_missing (UNKNOWN for check), not an outage.
func TestPingWithoutPermission(t *testing.T) {
	needRoot(t)
	// The child runs as nobody: it needs a copy of the test binary it can
	// execute.
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "pingprobe.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	res := runChild(t, bin, "noperm", &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET,
		Credential: &syscall.Credential{Uid: 65534, Gid: 65534},
	})
	r := res["127.0.0.1"]
	if r == nil || r.Status != probe.StatusDown || r.Error == nil || r.Error.Code != probe.ConfigMissing || r.Error.Phase != "socket" {
		t.Fatalf("%+v", r)
	}
	t.Logf("%s: %s", r.Error.Code, r.Error.Detail)
	for _, s := range []string{"no ICMP socket", "ping_group_range", "group 65534", "CAP_NET_RAW"} {
		if !strings.Contains(r.Error.Detail, s) {
			t.Errorf("error %q does not say %q", r.Error.Detail, s)
		}
	}
}

func TestPingConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  probe.Config
		want string
	}{
		{probe.Config{Type: "ping", Host: "h", Port: 25}, "port: a ping has no port"},
		{probe.Config{Type: "ping", Host: "h", TLS: probe.TLSImplicit}, "tls: a ping knows no TLS"},
		{probe.Config{Type: "ping", Host: "h", User: "u", Password: "p", AllowPlaintextAuth: true}, "user: a ping check does not log in"},
		{probe.Config{Type: "ping"}, "host: is required"},
	} {
		err := c.cfg.Validate(Kind())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %s", c.cfg, err, c.want)
		}
	}
	ok := probe.Config{Type: "ping", Host: "mail.example"}
	if err := ok.Validate(Kind()); err != nil || ok.Port != 0 || ok.TLS != probe.TLSNone {
		t.Errorf("a ping needs only a host: %v %+v", err, ok)
	}
}

// TestPingUnprivilegedSocket: where ping_group_range admits the group (set
// inside a namespace of the test's own), the unprivileged ping socket is
// used, and its replies (whose ID the kernel chose) are matched.
func TestPingUnprivilegedSocket(t *testing.T) {
	needRoot(t)
	res := runChild(t, os.Args[0], "dgram", &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET})
	up := res["127.0.0.1"]
	if up == nil || up.Status != probe.StatusUp || up.Details["socket"] != SocketUnprivileged || up.Details["received"] != float64(Count) {
		t.Errorf("127.0.0.1: %+v", up)
	}
	if down := res["192.0.2.1"]; down == nil || down.Error == nil || down.Error.Code != probe.ConnectFailed {
		t.Errorf("192.0.2.1: %+v", down)
	}
}

// TestPingNoReply: requests that leave but are never answered end the test
// at its deadline, Down with timeout and 100% loss.
func TestPingNoReply(t *testing.T) {
	needRoot(t)
	res := runChild(t, os.Args[0], "noreply", &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET})
	r := res["192.0.2.1"]
	if r == nil || r.Status != probe.StatusDown || r.Error == nil || r.Error.Code != probe.Timeout || r.Details["loss_percent"] != 100.0 ||
		r.Details["sent"] != float64(Count) || r.Details["received"] != 0.0 || r.RTT < 900*time.Millisecond || r.RTT > 2*time.Second {
		t.Errorf("%+v %+v", r, r.Error)
	}
}
