// Package hostcmd runs the operator's programs on the mailmon host (alert
// commands, recovery actions, OAuth token commands), all the same way:
// argv run directly, never through a shell; a minimal environment of PATH,
// LANG and what the action names, never the daemon's own (which may hold
// MAILMON_SECRET_KEY and MAILMON_SECRET); a deadline; and what the program
// prints capped and redacted before anyone stores, logs or shows it.
package hostcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/wire"
)

// The environment every program gets, before what its action names.
const (
	Path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	Lang = "C.UTF-8"
)

// OutputMax is how much of a program's output is kept: the first 4 KiB of
// stdout and stderr together (of stderr alone when stdout is taken), as
// much as the store keeps of a recovery's output.
const OutputMax = 4 << 10

// Redacted replaces a secret in output.
const Redacted = "[redacted]"

// Cmd is one run of a program.
type Cmd struct {
	Argv []string
	// Env is what the action names ("MAILMON_MONITOR=…", the event's
	// tokens); PATH and LANG come first and cannot be replaced.
	Env []string
	// Secrets are removed from the output wherever they appear: those
	// of the record the program runs for, and the installation's.
	Secrets []string
	// Stdout, when set, takes the standard output (a token command's
	// token); the Result's Output is then stderr alone.
	Stdout io.Writer
}

// Result is what a run did.
type Result struct {
	// Output is the first OutputMax bytes of what the program printed,
	// secrets redacted, valid UTF-8, with a note when it was cut.
	Output   string
	ExitCode int // -1: it did not start, or a signal ended it
}

// Environ is the environment of a program: PATH, LANG and extra.
func Environ(extra ...string) []string {
	env := []string{"PATH=" + Path, "LANG=" + Lang}
	for _, kv := range extra {
		if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "LANG" {
			env = append(env, kv)
		}
	}
	return env
}

// Run runs c.Argv until it ends or ctx does. The error says why it did not
// succeed (not found, exit status, killed); the output is in the Result,
// never in the error.
func Run(ctx context.Context, c Cmd) (Result, error) {
	res := Result{ExitCode: -1}
	if len(c.Argv) == 0 {
		return res, errors.New("no program")
	}
	prog, err := lookPath(c.Argv[0])
	if err != nil {
		return res, err
	}
	cmd := exec.CommandContext(ctx, prog, c.Argv[1:]...)
	cmd.Args[0] = c.Argv[0]
	cmd.Env = Environ(c.Env...)
	cmd.WaitDelay = time.Second // a child left holding the pipes does not hold the run
	out := NewCapture(CaptureSize(c.Secrets))
	cmd.Stdout, cmd.Stderr = out, out
	if c.Stdout != nil {
		cmd.Stdout = c.Stdout
	}
	err = cmd.Run()
	res.Output = Clean(out.Bytes(), out.Cut(), c.Secrets)
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		res.ExitCode = exitErr.ExitCode()
	} else if err == nil {
		res.ExitCode = 0
	}
	if ctx.Err() != nil && err != nil {
		err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
	}
	return res, err
}

// lookPath finds a program named without a slash in Path, not in the
// daemon's own PATH, as the program's environment says.
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return exec.LookPath(name)
	}
	for _, dir := range filepath.SplitList(Path) {
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in %s", name, Path)
}

// Clean makes output fit to store, log or show: secrets redacted, valid
// UTF-8, at most OutputMax bytes and "…" where it was cut (as the store
// cuts: wire.Truncate). cut says the output was longer than what was
// captured. A cut output also loses a tail that could begin a secret.
func Clean(b []byte, cut bool, secrets []string) string {
	s := strings.ToValidUTF8(Redact(string(b), secrets), "\uFFFD")
	if len(s) > OutputMax {
		s, cut = strings.TrimSuffix(wire.Truncate(s, OutputMax), "…"), true
	}
	if cut {
		s = dropSecretStart(s, secrets) + "…"
	}
	return s
}

// Redact replaces every secret (and every line of a secret of several
// lines, such as a PEM key) in s. Longer secrets go first, so that one
// that holds another is replaced whole.
func Redact(s string, secrets []string) string {
	for _, sec := range pieces(secrets) {
		s = strings.ReplaceAll(s, sec, Redacted)
	}
	return s
}

func pieces(secrets []string) []string {
	var out []string
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		out = append(out, sec)
		if strings.Contains(sec, "\n") {
			for _, l := range strings.Split(sec, "\n") {
				if l = strings.TrimSpace(l); len(l) >= 8 {
					out = append(out, l)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}

// dropSecretStart removes a tail of s that is the start of a secret: the
// rest of it was cut off, so it was never whole to be redacted.
func dropSecretStart(s string, secrets []string) string {
	for _, sec := range pieces(secrets) {
		for k := min(len(sec)-1, len(s)); k > 0; k-- {
			if strings.HasSuffix(s, sec[:k]) {
				s = s[:len(s)-k]
				break
			}
		}
	}
	return s
}

// CaptureSize is how much to capture of output that is to be cleaned of
// secrets: OutputMax and the longest secret, so that one across the cut
// is still seen whole.
func CaptureSize(secrets []string) int { return OutputMax + longest(secrets) }

func longest(secrets []string) int {
	n := 0
	for _, s := range secrets {
		n = max(n, len(s))
	}
	return n
}

// Capture keeps the first bytes written to it, up to its size, from
// several writers at once (a program's stdout and stderr); the rest is
// dropped, never blocking the program.
type Capture struct {
	mu  sync.Mutex
	buf []byte
	max int
	cut bool
}

// NewCapture keeps up to size bytes.
func NewCapture(size int) *Capture { return &Capture{max: size} }

func (c *Capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.max - len(c.buf)
	if len(p) > room {
		c.cut = true
	}
	c.buf = append(c.buf, p[:max(0, min(room, len(p)))]...)
	return len(p), nil
}

// Bytes is what was kept.
func (c *Capture) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.buf)
}

// Cut says that more was written than kept.
func (c *Capture) Cut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut
}
