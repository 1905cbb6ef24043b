package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a helper that nsenter starts inside a test's
// network namespace (where the daemon under test listens): MAILMON_HELPER
// names what it does, in JSON.
const helperEnv = "MAILMON_HELPER"

// helper is what the helper process does: an HTTP GET, or a program run
// in a root directory as a user.
type helper struct {
	GET    string   `json:"get,omitempty"`
	Bearer string   `json:"bearer,omitempty"`
	Chroot string   `json:"chroot,omitempty"`
	UID    uint32   `json:"uid,omitempty"`
	GID    uint32   `json:"gid,omitempty"`
	Dir    string   `json:"dir,omitempty"`
	Env    []string `json:"env,omitempty"`
	Argv   []string `json:"argv,omitempty"`
}

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(runHelper(h))
	}
	os.Exit(m.Run())
}

func runHelper(spec string) int {
	var h helper
	if err := json.Unmarshal([]byte(spec), &h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	if h.GET != "" {
		req, _ := http.NewRequest("GET", h.GET, nil)
		if h.Bearer != "" {
			req.Header.Set("Authorization", "Bearer "+h.Bearer)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer resp.Body.Close()
		io.Copy(os.Stdout, io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			fmt.Fprintln(os.Stderr, resp.Status)
			return 1
		}
		return 0
	}
	cmd := &exec.Cmd{Path: h.Argv[0], Args: h.Argv, Env: h.Env, Dir: h.Dir, Stdout: os.Stdout, Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Chroot: h.Chroot, Credential: &syscall.Credential{Uid: h.UID, Gid: h.GID}}}
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if cmd.ProcessState != nil {
			return cmd.ProcessState.ExitCode()
		}
		return 125
	}
	return 0
}

// inNetns runs the helper h in the network namespace of process pid.
func inNetns(t *testing.T, pid int, h helper) (string, error) {
	t.Helper()
	spec, _ := json.Marshal(h)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", fmt.Sprintf("--net=/proc/%d/ns/net", pid), "--", self)
	cmd.Env = append(os.Environ(), helperEnv+"="+string(spec))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// dist is the directory "make package" wrote (MAILMON_DIST, set by make
// package-test); without it the tests that need its files skip, or fail
// in CI.
func dist(t *testing.T) string {
	t.Helper()
	d := os.Getenv("MAILMON_DIST")
	if d == "" {
		skipOrFail(t, "MAILMON_DIST is not set: run make package-test")
	}
	return d
}

// distFile is the one file of dist matching pattern.
func distFile(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dist(t), pattern))
	if len(m) != 1 {
		t.Fatalf("%s in %s: %d files, want one (make package)", pattern, dist(t), len(m))
	}
	return m[0]
}

// distVersion is the version make package built, as mailmon says it.
func distVersion(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(dist(t), "bin", "mailmon"), "version", "--output", "json").Output()
	var v struct{ Version string }
	if err != nil || json.Unmarshal(out, &v) != nil || v.Version == "" {
		t.Fatalf("mailmon version: %v: %s", err, out)
	}
	return v.Version
}

// skipOrFail skips outside CI and fails in it, where nothing may skip for
// want of a tool or a privilege.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why + " (CI is set: nothing may skip)")
	}
	t.Skip(why)
}

// needRoot skips (or fails in CI) unless the test runs as root with the
// tools it names.
func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root (mounts, chroot, network namespaces): run make package-test as root")
	}
	needTools(t, tools...)
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" is not installed: make test-deps installs it")
		}
	}
}

// waitLine reads r until a line holding want, or fails the test after d;
// the rest of r is read and dropped in the background.
func waitLine(t *testing.T, r io.Reader, want string, d time.Duration) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.Contains(sc.Text(), want) {
				found <- true
				io.Copy(io.Discard, r)
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("output ended before %q", want)
		}
	case <-time.After(d):
		t.Fatalf("no %q within %v", want, d)
	}
}
