package engine

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/hostcmd"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

// fakeSSH is an SSH server that runs nothing: it records the command of
// each exec request and answers with a chosen output and exit status.
type fakeSSH struct {
	addr     string
	hostKey  ssh.PublicKey
	password string        // accepted password
	userKey  ssh.PublicKey // accepted client key
	status   uint32
	stdout   string
	stderr   string
	hang     bool        // accept the exec, never answer
	execs    chan string // commands received
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func startSSH(t *testing.T, f *fakeSSH) *fakeSSH {
	t.Helper()
	hk := newKey(t)
	signer, err := ssh.NewSignerFromKey(hk)
	if err != nil {
		t.Fatal(err)
	}
	f.hostKey = signer.PublicKey()
	f.execs = make(chan string, 8)
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if f.password != "" && c.User() == "ops" && string(pw) == f.password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if f.userKey != nil && c.User() == "ops" && bytes.Equal(k.Marshal(), f.userKey.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.serve(c, cfg)
			}()
		}
	}()
	return f
}

func (f *fakeSSH) serve(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return // a refused login or host key: the client reports it
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range creqs {
				if req.Type != "exec" {
					req.Reply(false, nil)
					continue
				}
				var p struct{ Command string }
				if err := ssh.Unmarshal(req.Payload, &p); err != nil {
					req.Reply(false, nil)
					continue
				}
				f.execs <- p.Command
				req.Reply(true, nil)
				if f.hang {
					continue
				}
				ch.Write([]byte(f.stdout))
				ch.Stderr().Write([]byte(f.stderr))
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{f.status}))
				ch.Close()
			}
		}()
	}
}

func knownHost(k ssh.PublicKey) string { return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) }

func passwordCred(t *testing.T, hostKey ssh.PublicKey, pw string) *sshCredential {
	t.Helper()
	c, err := newSSHCredential(config.Credential{Name: "c", User: "ops", KnownHost: knownHost(hostKey)}, pw, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemKey(t *testing.T, k ed25519.PrivateKey) string {
	t.Helper()
	b, err := ssh.MarshalPrivateKey(k, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(b))
}

func noExec(t *testing.T, f *fakeSSH) {
	t.Helper()
	select {
	case cmd := <-f.execs:
		t.Errorf("the server got a command: %q", cmd)
	default:
	}
}

func TestSSHPasswordRunsTheQuotedCommand(t *testing.T) {
	f := startSSH(t, &fakeSSH{password: "s3cret", stdout: "restarted\n", stderr: "warning: x\n"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := runSSH(ctx, f.addr, passwordCred(t, f.hostKey, "s3cret"),
		[]string{"/usr/sbin/service", "post fix", "it's", "$HOME;rm -rf /"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `'/usr/sbin/service' 'post fix' 'it'\''s' '$HOME;rm -rf /'`
	if got := <-f.execs; got != want {
		t.Errorf("command = %s\nwant      %s", got, want)
	}
	if res.Status != 0 || !strings.Contains(res.Output, "restarted\n") || !strings.Contains(res.Output, "warning: x\n") {
		t.Errorf("result = %+v", res)
	}
}

func TestSSHKeyLogin(t *testing.T) {
	user := newKey(t)
	pub, _ := ssh.NewPublicKey(user.Public())
	f := startSSH(t, &fakeSSH{userKey: pub, stdout: "ok"})
	cred, err := newSSHCredential(config.Credential{Name: "k", User: "ops", KnownHost: knownHost(f.hostKey)}, "", pemKey(t, user))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := runSSH(ctx, f.addr, cred, []string{"true"}, nil)
	if err != nil || res.Status != 0 || res.Output != "ok" {
		t.Fatalf("key login: %+v, %v", res, err)
	}
	if got := <-f.execs; got != "'true'" {
		t.Errorf("command = %q", got)
	}

	// Another key is refused.
	other, _ := newSSHCredential(config.Credential{Name: "k", User: "ops", KnownHost: knownHost(f.hostKey)}, "", pemKey(t, newKey(t)))
	if _, err := runSSH(ctx, f.addr, other, []string{"true"}, nil); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("an unknown key: %v", err)
	}
	noExec(t, f)
}

func TestSSHWrongHostKeyIsRefused(t *testing.T) {
	f := startSSH(t, &fakeSSH{password: "s3cret"})
	impostor, _ := ssh.NewPublicKey(newKey(t).Public())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := runSSH(ctx, f.addr, passwordCred(t, impostor, "s3cret"), []string{"reboot"}, nil)
	var hk *HostKeyError
	if !errors.As(err, &hk) || hk.Host != f.addr || !strings.Contains(err.Error(), f.addr) || !strings.Contains(hk.Fingerprint, ssh.FingerprintSHA256(f.hostKey)) {
		t.Fatalf("want a HostKeyError naming %s, got %v", f.addr, err)
	}
	noExec(t, f)
}

func TestSSHWrongPasswordIsRefused(t *testing.T) {
	f := startSSH(t, &fakeSSH{password: "s3cret"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := runSSH(ctx, f.addr, passwordCred(t, f.hostKey, "guess"), []string{"reboot"}, nil)
	var hk *HostKeyError
	if err == nil || errors.As(err, &hk) || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "guess") {
		t.Errorf("the error shows the password: %v", err)
	}
	noExec(t, f)
}

func TestSSHExitStatus(t *testing.T) {
	f := startSSH(t, &fakeSSH{password: "s3cret", status: 3, stderr: strings.Repeat("e", 10<<10)})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := runSSH(ctx, f.addr, passwordCred(t, f.hostKey, "s3cret"), []string{"false"}, nil)
	if err != nil || res.Status != 3 {
		t.Fatalf("result = %+v, %v", res, err)
	}
	if want := strings.Repeat("e", hostcmd.OutputMax) + "…"; res.Output != want {
		t.Errorf("output is %d bytes, want capped at %d with a note", len(res.Output), hostcmd.OutputMax)
	}
}

func TestSSHTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never says a word
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	hang := startSSH(t, &fakeSSH{password: "s3cret", hang: true})
	for _, tc := range []struct{ name, addr string }{
		{"no handshake", silent.Addr().String()},
		{"no exit status", hang.addr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			start := time.Now()
			_, err := runSSH(ctx, tc.addr, passwordCred(t, hang.hostKey, "s3cret"), []string{"sleep", "1000"}, nil)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want the deadline", err)
			}
			if took > timeout+200*time.Millisecond {
				t.Errorf("took %v, timeout %v", took, timeout)
			}
		})
	}
}

func TestShellJoin(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"ls"}, `'ls'`},
		{[]string{"echo", ""}, `'echo' ''`},
		{[]string{"a b", "'", `"$x"`, "`id`", "x\ny"}, `'a b' ''\''' '"$x"' '` + "`id`" + `' 'x` + "\n" + `y'`},
	} {
		if got := shellJoin(tc.argv); got != tc.want {
			t.Errorf("shellJoin(%q) = %s, want %s", tc.argv, got, tc.want)
		}
	}
}

// TestRecoverOverSSH: a credential stored with its password sealed is
// loaded with the monitor, the recovery runs on the server, and the log
// has the status and output but never the password.
func TestRecoverOverSSH(t *testing.T) {
	ctx := t.Context()
	f := startSSH(t, &fakeSSH{password: "pw-in-vault", status: 1, stdout: "postfix failed to start"})
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	spec, _ := json.Marshal(config.Credential{Name: "ops", User: "ops", KnownHost: knownHost(f.hostKey)})
	c := &store.Credential{Name: "ops", Spec: spec}
	must(t, st.PutCredential(ctx, c))
	sealed, err := v.Seal([]byte("pw-in-vault"), vault.CredentialRecord(c.ID, "password"))
	must(t, err)
	c.Secrets = map[string]string{"password": sealed}
	must(t, st.PutCredential(ctx, c))

	var logs bytes.Buffer
	e := New(Options{Store: st, Vault: v, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	en := &entry{m: store.Monitor{ID: 7, Name: "SMTP"}, spec: config.Monitor{Recovery: []config.Recovery{
		{Command: []string{"systemctl", "restart", "postfix"}, SSH: "ops@" + f.addr, Credential: "ops", Timeout: config.Duration(5 * time.Second)},
		{Command: []string{"x"}, SSH: f.addr, Credential: "missing"},
	}}}
	must(t, e.loadCredentials(ctx, en))
	if en.creds["ops"] == nil || en.credErrs["missing"] == nil {
		t.Fatalf("loaded %v, errors %v", en.creds, en.credErrs)
	}
	e.recover(en)
	if got := <-f.execs; got != `'systemctl' 'restart' 'postfix'` {
		t.Errorf("command = %s", got)
	}
	noExec(t, f)
	out := logs.String()
	for _, want := range []string{"recovery action failed", "exit=1", `output="postfix failed to start"`, "(ops)", "status=not_run", `no credential is named \"missing\"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pw-in-vault") {
		t.Errorf("the log shows the password:\n%s", out)
	}
	runs, err := st.Recoveries(ctx, 7, 10)
	if err != nil || len(runs) != 2 || runs[0].Status != "not_run" || runs[1].Status != "failed" || runs[1].ExitCode != 1 ||
		runs[1].Output != "postfix failed to start" || !strings.HasPrefix(runs[1].Action, "ssh ops@") {
		t.Errorf("recovery log: %+v %v", runs, err)
	}
}

// TestRecoverLocally: a local corrective action runs without a shell, with
// the monitor in its environment, and is recorded with its exit status and
// output.
func TestRecoverLocally(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir := t.TempDir()
	script := filepath.Join(dir, "fix.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"restarting for $MAILMON_MONITOR: $1\"\nexit 2\n"), 0o700)
	e := New(Options{Store: st})
	en := &entry{m: store.Monitor{ID: 9, Name: "IMAP"}, spec: config.Monitor{Recovery: []config.Recovery{
		{Command: []string{script, "$(touch " + filepath.Join(dir, "pwned") + ")"}},
		{Command: []string{"sleep", "10"}, Timeout: config.Duration(200 * time.Millisecond)},
	}}}
	start := time.Now()
	e.recover(en)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the timeout was not enforced: %v", took)
	}
	runs, err := st.Recoveries(ctx, 9, 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("recovery log: %+v %v", runs, err)
	}
	first := runs[1]
	if first.Status != "failed" || first.ExitCode != 2 || first.Output != "restarting for IMAP: $(touch "+filepath.Join(dir, "pwned")+")\n" {
		t.Errorf("first run: %+v", first)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("an argument went through a shell")
	}
	if runs[0].Status != "failed" {
		t.Errorf("the timed-out run: %+v", runs[0])
	}
}
