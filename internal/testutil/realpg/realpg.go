// Package realpg starts a private PostgreSQL server for tests: its own
// cluster in a temporary directory, listening on 127.0.0.1 at a free port
// >= 20000 chosen at run time and on a unix socket in that directory, with
// fsync off (the data is thrown away). It uses Debian's postgresql package
// (/usr/lib/postgresql/VERSION/bin); nothing of a stock cluster is used or
// changed.
//
// One server runs per test binary (Start the first time, Stop or Main at
// the end); each test gets a database of its own (NewDB). PostgreSQL does
// not run as root, so under root the server runs as the "postgres" system
// user. Without PostgreSQL the tests are skipped, unless $CI is set, where
// they fail with the reason.
package realpg

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is the running server.
type Server struct {
	Dir  string // the temporary root: data/, the socket, the log
	Port int    // on 127.0.0.1
	Log  string // the server's log file

	bin  string
	cred *syscall.Credential
	cmd  *exec.Cmd
	done chan struct{}
	err  error // how the server exited; valid once done is closed
	seq  atomic.Int64
}

// DSN returns the URL of database db on the server.
func (s *Server) DSN(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)),
		Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// PID is the postmaster's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// The server is one per test binary by design (initdb takes a second or
// two), so its state is package-level, guarded by mu.
var (
	mu       sync.Mutex
	started  bool
	current  *Server
	startErr error
)

// Start starts the server the first time it is called in a test binary and
// returns the same Server on every later call. When PostgreSQL cannot run,
// the test is skipped, or fails if $CI is set.
func Start(t testing.TB) *Server {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !started {
		started = true
		current, startErr = start()
	}
	if startErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("realpg: %v", startErr)
		}
		t.Skipf("real PostgreSQL not available (%v); install postgresql or run .ci/run", startErr)
	}
	return current
}

// NewDB creates an empty database for the test, dropped when it ends, and
// returns its URL.
func NewDB(t testing.TB) string {
	t.Helper()
	s := Start(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.seq.Add(1))
	if err := s.Exec(context.Background(), "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatalf("realpg: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("realpg: %v", err)
		}
	})
	return s.DSN(name)
}

// Exec runs one statement in the "postgres" database.
func (s *Server) Exec(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	_, err = c.Exec(ctx, sql)
	return err
}

// Stop stops the server (a fast shutdown: clients are disconnected), waits
// for it and removes its directory (kept when $REALPG_KEEP is set).
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if current != nil {
		current.stop()
		if os.Getenv("REALPG_KEEP") == "" {
			os.RemoveAll(current.Dir)
		}
	}
	started, current, startErr = false, nil, nil
}

// Main runs the tests of m and then stops the server:
//
//	func TestMain(m *testing.M) { realpg.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// binDir finds the newest installed server (Debian keeps one directory per
// major version).
func binDir() (string, error) {
	if d := os.Getenv("REALPG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var ok []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			ok = append(ok, d)
		}
	}
	if len(ok) == 0 {
		return "", errors.New("no /usr/lib/postgresql/*/bin/postgres (Debian's postgresql package)")
	}
	sort.Slice(ok, func(a, b int) bool {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(ok[a])))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(ok[b])))
		return va < vb
	})
	return ok[len(ok)-1], nil
}

const startTimeout = 30 * time.Second

func start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	var uid, gid = -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, and the system user \"postgres\" (which the postgresql package creates) is missing: %w", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	removeStaleDirs()
	dir, err := os.MkdirTemp("", "realpg-")
	if err != nil {
		return nil, err
	}
	os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644)
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	fail := func(err error) (*Server, error) {
		if os.Getenv("REALPG_KEEP") == "" {
			os.RemoveAll(dir)
		}
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	for try := 1; ; try++ {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		s := &Server{Dir: dir, Port: port, Log: filepath.Join(dir, "postgres.log"), bin: bin, cred: cred}
		if err = s.launch(); err == nil {
			return s, nil
		}
		if !errors.Is(err, errAddrInUse) || try == 3 {
			return fail(err)
		}
	}
}

var errAddrInUse = errors.New("the port was taken between the check and the server's bind")

// launch starts the server of s (its directory, port and binaries) and
// waits until it takes connections.
func (s *Server) launch() error {
	s.done = make(chan struct{})
	logf, err := os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		return err
	}
	defer logf.Close()
	var logFrom int64 // this start's part of the log
	if fi, err := logf.Stat(); err == nil {
		logFrom = fi.Size()
	}
	readLog := func() string {
		b, _ := os.ReadFile(s.Log)
		return string(b[min(int(logFrom), len(b)):])
	}
	s.cmd = exec.Command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(s.Dir, "data"),
		"-p", strconv.Itoa(s.Port), "-k", s.Dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB",
		"-c", "logging_collector=off", "-c", "log_min_messages=warning")
	s.cmd.Dir = s.Dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// A fast shutdown if the test binary dies without Stop.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	cmd, done := s.cmd, s.done
	go func() { s.err = cmd.Wait(); close(done) }()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := pgx.Connect(cctx, s.DSN("postgres"))
		ccancel()
		if err == nil {
			c.Close(ctx)
			return nil
		}
		select {
		case <-done:
			log := readLog()
			if strings.Contains(log, "Address already in use") {
				return errAddrInUse
			}
			return fmt.Errorf("postgres exited: %v\n%s", s.err, log)
		case <-ctx.Done():
			s.stop()
			return fmt.Errorf("postgres not ready after %v: %v\n%s", startTimeout, err, readLog())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Halt stops the server as an outage would (a fast shutdown: every client
// is disconnected), keeping its data and port; Resume starts it again.
// Tests that halt it must not run in parallel with others of the binary.
func (s *Server) Halt() {
	mu.Lock()
	defer mu.Unlock()
	s.stop()
}

// Resume starts a halted server again, on the same port with the same
// data, and waits until it takes connections.
func (s *Server) Resume() error {
	mu.Lock()
	defer mu.Unlock()
	select {
	case <-s.done:
	default:
		return nil // running
	}
	return s.launch()
}

func (s *Server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// freePort picks a port >= 20000, below the kernel's ephemeral range (so
// that no outgoing connection takes it between the check and the bind),
// free on 127.0.0.1 now.
func freePort() (int, error) {
	lo, hi := 20000, 32767
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if l, err := strconv.Atoi(f[0]); err == nil && l-1 > lo+100 {
				hi = l - 1
			}
		}
	}
	for range 1000 {
		p := lo + rand.IntN(hi-lo+1)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, errors.New("no free loopback port >= 20000")
}

// removeStaleDirs removes the directories of runs whose test binary died
// without Stop (their server shut down with it).
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "realpg-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			if pm, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
				if p, err := strconv.Atoi(strings.SplitN(string(pm), "\n", 2)[0]); err == nil && syscall.Kill(p, 0) == nil {
					continue // its server still runs: leave it
				}
			}
			os.RemoveAll(d)
		}
	}
}
