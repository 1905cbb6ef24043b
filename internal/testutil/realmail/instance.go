package realmail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// instance is one running pair of daemons.
type instance struct {
	env     *Env
	opts    Options
	conf    *confData
	postfix *proc // Postfix master(8), in the foreground
	dovecot *proc // dovecot -F

	postfixTried bool // whether "postfix check" can explain a failure
}

// proc is a daemon master started by the harness.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  string // file with its stdout and stderr
	done chan struct{}
	err  error // valid after done is closed
	pgid int   // the process group to sweep at stop; 0: none of its own

	guard  *exec.Cmd // the watchdog, see guardScript
	guardW *os.File  // the write end of its stdin, never written
}

// preflight says why the servers cannot run here, before anything is made.
func preflight() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the harness runs on Linux only, not %s", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return errors.New("must run as root: the Postfix and Dovecot masters start as root and drop privileges per service")
	}
	var missing []string
	for _, bin := range []string{"postfix", "postconf", "dovecot"} {
		if findBin(bin) == "" {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not found in $PATH (%s) nor /usr/sbin", strings.Join(missing, ", "), os.Getenv("PATH"))
	}
	for _, u := range []string{"postfix", "dovecot", "dovenull", "mail"} {
		if _, err := user.Lookup(u); err != nil {
			return fmt.Errorf("system user %q missing (the postfix and dovecot-core packages create it): %w", u, err)
		}
	}
	if _, err := user.LookupGroup("postdrop"); err != nil {
		return fmt.Errorf("system group \"postdrop\" missing (the postfix package creates it): %w", err)
	}
	return nil
}

// findBin looks in $PATH and then in /usr/sbin, which a root shell's
// $PATH lacks after a plain "su".
func findBin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

func masterPath(ctx context.Context) (string, error) {
	// -d: the compiled-in default, whatever the stock main.cf says.
	out, err := exec.CommandContext(ctx, findBin("postconf"), "-d", "-h", "daemon_directory").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("postconf -d -h daemon_directory: %v: %s", err, bytes.TrimSpace(out))
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "master")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("postfix master daemon: %w", err)
	}
	return p, nil
}

func lookupIDs(name string) (uid, gid int, err error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, err = strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, err
	}
	gid, err = strconv.Atoi(u.Gid)
	return uid, gid, err
}

// startOnce lays out a new Dir, starts Dovecot and then Postfix (whose
// smtpd and lmtp need Dovecot's sockets), and waits until every port
// greets. On failure nothing is left running, and the instance is still
// returned, for its diagnostics and Dir.
func startOnce(ctx context.Context, o Options) (*instance, error) {
	dir, err := os.MkdirTemp("", "realmail-")
	if err != nil {
		return nil, err
	}
	in := &instance{env: &Env{Dir: dir}, opts: o}
	err = in.layout()
	if err == nil {
		err = in.startDovecot(ctx)
	}
	if err == nil {
		err = in.startPostfix(ctx)
	}
	if err == nil {
		err = in.waitReady(ctx)
	}
	if err != nil {
		in.stop()
		if race := in.lostPortRace(); race != nil {
			err = fmt.Errorf("%w: %w", race, err)
		}
	}
	return in, err
}

// layout writes certificates, configurations, the user database and the
// users' maildirs, and picks the ports.
func (in *instance) layout() error {
	e := in.env
	// Dovecot's and Postfix's unprivileged children must traverse Dir.
	if err := os.Chmod(e.Dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(e.Dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	e.ServerName = "localhost"
	e.Domain = "example.test"
	e.User, e.Password = "probe@"+e.Domain, randomPassword()
	e.User2, e.Password2 = "other@"+e.Domain, randomPassword()
	e.IPv6 = haveIPv6Loopback()
	e.AuthServID = "mail." + e.Domain

	ports, err := freePorts(9, e.IPv6)
	if err != nil {
		return err
	}
	e.SMTP, e.SMTPNoTLS, e.Submission, e.SubmissionPlain, e.SMTPS = ports[0], ports[1], ports[2], ports[3], ports[4]
	e.POP3, e.POP3S, e.IMAP, e.IMAPS = ports[5], ports[6], ports[7], ports[8]

	mailUID, mailGID, err := lookupIDs("mail")
	if err != nil {
		return fmt.Errorf("user mail: %w", err)
	}
	dovecotGroup, err := user.LookupGroup("dovecot")
	if err != nil {
		return fmt.Errorf("group dovecot: %w", err)
	}
	dovecotGID, _ := strconv.Atoi(dovecotGroup.Gid)

	tlsDir := filepath.Join(e.Dir, "tls")
	c := &confData{
		Env:          e,
		PostfixDir:   filepath.Join(e.Dir, "postfix", "etc"),
		QueueDir:     filepath.Join(e.Dir, "postfix", "queue"),
		DataDir:      filepath.Join(e.Dir, "postfix", "data"),
		BaseDir:      filepath.Join(e.Dir, "dovecot", "run"),
		StateDir:     filepath.Join(e.Dir, "dovecot", "state"),
		LogDir:       filepath.Join(e.Dir, "log"),
		AuthSocket:   filepath.Join(e.Dir, "run", "auth"),
		LMTPSocket:   filepath.Join(e.Dir, "run", "lmtp"),
		UsersFile:    filepath.Join(e.Dir, "dovecot", "users"),
		VMailbox:     filepath.Join(e.Dir, "postfix", "etc", "vmailbox"),
		HeaderChecks: filepath.Join(e.Dir, "postfix", "etc", "header_checks"),
		MailDir:      filepath.Join(e.Dir, "mail"),
		MailUID:      mailUID,
		Hosts:        []string{"127.0.0.1"},
	}
	if e.IPv6 {
		c.Hosts = append(c.Hosts, "[::1]")
	}
	c.PostfixLog = filepath.Join(c.LogDir, "postfix.log")
	c.DovecotLog = filepath.Join(c.LogDir, "dovecot.log")
	e.PostfixLog, e.DovecotLog = c.PostfixLog, c.DovecotLog
	in.conf = c

	// Parents only: makeQueue fills the queue directory, and Dovecot makes
	// its base and state directories itself.
	for _, d := range []string{tlsDir, c.PostfixDir, c.QueueDir, c.LogDir, filepath.Join(e.Dir, "run"), filepath.Join(e.Dir, "dovecot")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if e.CAFile, e.CertFile, e.KeyFile, e.CertNotAfter, err = writeCerts(tlsDir); err != nil {
		return err
	}
	c.CertFile, c.KeyFile = e.CertFile, e.KeyFile
	if o := in.opts.OAuth2; o != nil {
		c.OAuth2 = o
		c.OAuth2Conf = filepath.Join(e.Dir, "dovecot", "dovecot-oauth2.conf.ext")
		c.OAuth2CA = filepath.Join(tlsDir, "oauth2-ca.pem")
		if err := os.WriteFile(c.OAuth2CA, o.CA, 0o644); err != nil {
			return err
		}
	}

	for _, f := range []struct {
		path string
		body func() ([]byte, error)
	}{
		{filepath.Join(c.PostfixDir, "main.cf"), func() ([]byte, error) { return render(mainCF, c) }},
		{filepath.Join(c.PostfixDir, "master.cf"), func() ([]byte, error) { return render(masterCF, c) }},
		{filepath.Join(e.Dir, "dovecot", "dovecot.conf"), func() ([]byte, error) { return render(dovecotConf, c) }},
		{c.OAuth2Conf, func() ([]byte, error) { return render(dovecotOAuth2, c) }},
		{c.HeaderChecks, func() ([]byte, error) { return headerChecks(e), nil }},
		{c.VMailbox, func() ([]byte, error) {
			return []byte(e.User + " OK\n" + e.User2 + " OK\n"), nil
		}},
	} {
		if f.path == "" {
			continue // a file of an option not taken
		}
		b, err := f.body()
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(f.path), err)
		}
		if err := os.WriteFile(f.path, b, 0o644); err != nil {
			return err
		}
		// Postfix reads a configuration file or table only once it is over
		// a second old (it naps 300 ms at a time until then), lest it read
		// a file still being written; these are complete.
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(f.path, old, old); err != nil {
			return err
		}
	}

	// The auth process runs as user dovecot; passwords are plaintext so
	// that APOP and CRAM-MD5 can work.
	users := fmt.Sprintf("%s:{PLAIN}%s::::::\n%s:{PLAIN}%s::::::\n", e.User, e.Password, e.User2, e.Password2)
	if err := os.WriteFile(c.UsersFile, []byte(users), 0o640); err != nil {
		return err
	}
	if err := os.Chown(c.UsersFile, 0, dovecotGID); err != nil {
		return err
	}

	// Mail is owned by the system user mail. The maildirs exist from the
	// start, so that tests can count files before the first delivery, or
	// put a message into Junk without logging in first.
	if err := mkdirOwned(c.MailDir, mailUID, mailGID); err != nil {
		return err
	}
	for _, u := range []string{e.User, e.User2} {
		md := e.Maildir(u)
		dirs := []string{filepath.Dir(filepath.Dir(md)), filepath.Dir(md)}
		for _, f := range []string{"", ".Drafts", ".Junk", ".Sent", ".Trash"} {
			dirs = append(dirs, filepath.Join(md, f), filepath.Join(md, f, "cur"), filepath.Join(md, f, "new"), filepath.Join(md, f, "tmp"))
		}
		for _, d := range dirs {
			if err := mkdirOwned(d, mailUID, mailGID); err != nil {
				return err
			}
		}
	}
	return nil
}

func mkdirOwned(dir string, uid, gid int) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return os.Chown(dir, uid, gid)
}

func (in *instance) startDovecot(ctx context.Context) error {
	conf := filepath.Join(in.env.Dir, "dovecot", "dovecot.conf")
	p, err := startProc("dovecot", true, filepath.Join(in.conf.LogDir, "dovecot.out"), findBin("dovecot"), "-F", "-c", conf)
	if err != nil {
		return err
	}
	in.dovecot = p
	p.pgid = p.cmd.Process.Pid
	// Postfix needs these two sockets; Dovecot makes them once its
	// configuration is good.
	for _, s := range []string{in.conf.AuthSocket, in.conf.LMTPSocket} {
		if err := waitFor(ctx, p, func() bool { _, err := os.Stat(s); return err == nil }); err != nil {
			return fmt.Errorf("dovecot: waiting for %s: %w", s, err)
		}
	}
	return nil
}

func (in *instance) startPostfix(ctx context.Context) error {
	in.postfixTried = true
	master, err := masterPath(ctx)
	if err != nil {
		return err
	}
	if err := in.makeQueue(); err != nil {
		return fmt.Errorf("postfix queue: %w", err)
	}
	// master(8) itself, in the foreground, rather than "postfix start"
	// (which runs the slow "postfix check" and then a master that detaches):
	// the harness then owns the process and can tie it to its own life.
	// Without -w/-d it makes its own session, as under "postfix start"; -s
	// keeps its stdout, where maillog_file = /dev/stdout sends the log.
	p, err := startProc("postfix master", false, in.conf.PostfixLog, master, "-s", "-c", in.conf.PostfixDir)
	if err != nil {
		return err
	}
	in.postfix = p
	return nil
}

// makeQueue creates the queue and data directories as postfix-files
// describes them. "postfix check" would do the same through post-install,
// but takes two seconds; it runs only to explain a failed start.
func (in *instance) makeQueue() error {
	uid, _, err := lookupIDs("postfix")
	if err != nil {
		return err
	}
	g, err := user.LookupGroup("postdrop")
	if err != nil {
		return err
	}
	postdrop, err := strconv.Atoi(g.Gid)
	if err != nil {
		return err
	}
	type dir struct {
		path     string
		uid, gid int
		mode     os.FileMode
	}
	q := in.conf.QueueDir
	dirs := []dir{
		{in.conf.DataDir, uid, 0, 0o700},
		{filepath.Join(q, "maildrop"), uid, postdrop, 0o730},
		{filepath.Join(q, "public"), uid, postdrop, 0o710},
		{filepath.Join(q, "pid"), 0, 0, 0o755},
	}
	for _, d := range []string{"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace"} {
		dirs = append(dirs, dir{filepath.Join(q, d), uid, 0, 0o700})
	}
	for _, d := range dirs {
		if err := os.Mkdir(d.path, d.mode); err != nil {
			return err
		}
		// Mkdir's mode passes through the umask.
		if err := os.Chmod(d.path, d.mode); err != nil {
			return err
		}
		if err := os.Chown(d.path, d.uid, d.gid); err != nil {
			return err
		}
	}
	return nil
}

// startProc starts a daemon master with stdout and stderr appended to the
// file out. A file, not a pipe: the daemons' children inherit it, and a pipe
// would hold cmd.Wait until the last of them is gone.
func startProc(name string, setpgid bool, out string, argv ...string) (*proc, error) {
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := &proc{name: name, out: out, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = sysProcAttr(setpgid)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	if err := p.startGuard(argv[0]); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s watchdog: %w", name, err)
	}
	return p, nil
}

// guardScript waits for EOF on stdin, which comes when the test binary dies
// (the kernel closes its end of the pipe), and then ends the master $1 (if
// that pid still runs $2) and the process group it leads. Pdeathsig alone
// is not enough: Postfix's master changes its effective IDs at start-up,
// which clears it.
const guardScript = `read _
case "$(tr '\0' ' ' </proc/$1/cmdline 2>/dev/null)" in *"$2"*) kill -TERM "$1" 2>/dev/null;; esac
kill -TERM -- "-$1" 2>/dev/null
sleep 3
kill -KILL -- "-$1" 2>/dev/null
`

func (p *proc) startGuard(exe string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	g := exec.Command("/bin/sh", "-c", guardScript, "realmail-guard", strconv.Itoa(p.cmd.Process.Pid), filepath.Base(exe))
	g.Stdin = r
	if err := g.Start(); err != nil {
		w.Close()
		return err
	}
	p.guard, p.guardW = g, w
	return nil
}

// stopGuard ends the watchdog before a deliberate stop, which would
// otherwise look like the test binary's death to it.
func (p *proc) stopGuard() {
	if p.guard == nil {
		return
	}
	_ = p.guard.Process.Kill()
	_ = p.guard.Wait()
	p.guardW.Close()
	p.guard = nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls cond until it holds, p exits or ctx ends.
func waitFor(ctx context.Context, p *proc, cond func() bool) error {
	for {
		if cond() {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitReady waits until every listener greets (after a TLS handshake
// verified against the CA, on the implicit-TLS ports) on every address,
// and fails at once when a master exits.
func (in *instance) waitReady(ctx context.Context) error {
	e := in.env
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	for _, p := range []*proc{in.postfix, in.dovecot} {
		go func() {
			select {
			case <-p.done:
				cancel(fmt.Errorf("%s exited: %v", p.name, p.err))
			case <-ctx.Done():
			}
		}()
	}
	checks := e.Services()
	hosts := []string{"127.0.0.1"}
	if e.IPv6 {
		hosts = append(hosts, "::1")
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(checks)*len(hosts))
	for _, c := range checks {
		for _, h := range hosts {
			addr := net.JoinHostPort(h, strconv.Itoa(c.Port))
			wg.Go(func() {
				var last error
				for {
					if last = greet(ctx, addr, c.Implicit, c.Greeting, e.TLSConfig()); last == nil {
						return
					}
					select {
					case <-ctx.Done():
						errs <- fmt.Errorf("%s on %s not ready: %v", c.Name, addr, last)
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if len(all) == 0 {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
		return cause // the ports' errors only echo it
	}
	return errors.Join(all...)
}

// greet connects once and reads the first line.
func greet(ctx context.Context, addr string, implicit bool, want string, cfg *tls.Config) error {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	if implicit {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading greeting: %w", err)
	}
	if !strings.HasPrefix(line, want) {
		return fmt.Errorf("greeting %q, want %q…", strings.TrimSpace(line), want)
	}
	return nil
}

// stop ends Postfix first (no delivery then reaches a dying Dovecot), then
// Dovecot, and waits until none of their processes is left.
func (in *instance) stop() {
	for _, p := range []*proc{in.postfix, in.dovecot} {
		if p != nil {
			p.stop()
		}
	}
}

func (p *proc) stop() {
	p.stopGuard()
	if p.pgid == 0 && !p.exited() {
		// Postfix's master makes its own session early in its start; until
		// it has, it shares ours, which must not be swept.
		if g := processGroup(p.cmd.Process.Pid); g == p.cmd.Process.Pid {
			p.pgid = g
		}
	}
	if !p.exited() {
		// The whole group at once: Dovecot's master, told alone, waits a
		// second for its children.
		if p.pgid > 0 {
			killGroup(p.pgid, syscall.SIGTERM)
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	if p.pgid <= 0 {
		return
	}
	// The masters pass SIGTERM on to their children; give them a moment
	// to finish, then make sure.
	deadline := time.Now().Add(3 * time.Second)
	for groupAlive(p.pgid) {
		if time.Now().After(deadline) {
			killGroup(p.pgid, syscall.SIGKILL)
			deadline = time.Now().Add(2 * time.Second)
			for groupAlive(p.pgid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// diagnostics gathers what the daemons said, for a start-up error.
func (in *instance) diagnostics() string {
	var b strings.Builder
	if in.postfixTried {
		// Not under the start deadline, which may be what ran out.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, findBin("postfix"), "-c", in.conf.PostfixDir, "check").CombinedOutput()
		fmt.Fprintf(&b, "postfix -c %s check: exit %v\n%s", in.conf.PostfixDir, err, tailText(string(out), 20))
		// postconf warns of unknown or misspelt parameters.
		out, err = exec.CommandContext(ctx, findBin("postconf"), "-c", in.conf.PostfixDir, "-n").CombinedOutput()
		cancel()
		if warn := grepLines(string(out), "warning:"); err != nil || warn != "" {
			fmt.Fprintf(&b, "postconf -c %s -n: exit %v\n%s", in.conf.PostfixDir, err, tailText(warn, 20))
		}
	}
	if in.conf != nil {
		for _, f := range in.logFiles() {
			fmt.Fprintf(&b, "%s:\n%s", f, tail(f, 30))
		}
	}
	return b.String()
}

func grepLines(s, word string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// logFiles: the Postfix log (the master's stdout and stderr), Dovecot's
// stdout and stderr, and Dovecot's log.
func (in *instance) logFiles() []string {
	return []string{in.conf.PostfixLog, filepath.Join(in.conf.LogDir, "dovecot.out"), in.conf.DovecotLog}
}

// lostPortRace reports whether a daemon could not bind one of its ports:
// Dovecot logs it; Postfix's master cannot (it dies before postlogd runs
// and there is no syslog), so once both are stopped, any of the ports that
// still cannot be bound is held by another process.
func (in *instance) lostPortRace() error {
	if in.conf == nil {
		return nil
	}
	for _, f := range in.logFiles() {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte("Address already in use")) {
			return fmt.Errorf("%w (see the logs below)", errAddrInUse)
		}
	}
	var busy []string
	for _, p := range in.env.ports() {
		if p != 0 && !portFree(p, in.env.IPv6) {
			busy = append(busy, strconv.Itoa(p))
		}
	}
	if len(busy) > 0 {
		return fmt.Errorf("%w: port %s held by another process", errAddrInUse, strings.Join(busy, ", "))
	}
	return nil
}

// removeStaleDirs removes the directories of harness runs whose test
// binary died without Stop (its daemons died with it, see guardScript).
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "realmail-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if !pidAlive(pid) {
			os.RemoveAll(d)
		}
	}
}
