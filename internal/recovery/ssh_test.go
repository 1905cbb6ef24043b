package recovery

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/hostcmd"
	"github.com/mailmon/mailmon/internal/testutil/fakessh"
)

func passwordCred(t *testing.T, hostKey ssh.PublicKey, pw string) *Credential {
	t.Helper()
	c, err := NewCredential(Login{Name: "c", User: "ops", KnownHost: fakessh.KnownHost(hostKey), Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSSHPasswordRunsTheQuotedCommand(t *testing.T) {
	f := fakessh.Start(t, &fakessh.Server{Password: "s3cret", Stdout: "restarted\n", Stderr: "warning: x\n"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := runSSH(ctx, f.Addr, passwordCred(t, f.HostKey, "s3cret"),
		[]string{"/usr/sbin/service", "post fix", "it's", "$HOME;rm -rf /"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `'/usr/sbin/service' 'post fix' 'it'\''s' '$HOME;rm -rf /'`
	if got := <-f.Execs; got != want {
		t.Errorf("command = %s\nwant      %s", got, want)
	}
	if res.Status != 0 || !strings.Contains(res.Output, "restarted\n") || !strings.Contains(res.Output, "warning: x\n") {
		t.Errorf("result = %+v", res)
	}
}

func TestSSHKeyLogin(t *testing.T) {
	user := fakessh.NewKey(t)
	pub, _ := ssh.NewPublicKey(user.Public())
	f := fakessh.Start(t, &fakessh.Server{UserKey: pub, Stdout: "ok"})
	cred, err := NewCredential(Login{Name: "k", User: "ops", KnownHost: fakessh.KnownHost(f.HostKey), Key: fakessh.PEMKey(t, user)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := runSSH(ctx, f.Addr, cred, []string{"true"}, nil)
	if err != nil || res.Status != 0 || res.Output != "ok" {
		t.Fatalf("key login: %+v, %v", res, err)
	}
	if got := <-f.Execs; got != "'true'" {
		t.Errorf("command = %q", got)
	}

	// Another key is refused.
	other, _ := NewCredential(Login{Name: "k", User: "ops", KnownHost: fakessh.KnownHost(f.HostKey), Key: fakessh.PEMKey(t, fakessh.NewKey(t))})
	if _, err := runSSH(ctx, f.Addr, other, []string{"true"}, nil); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("an unknown key: %v", err)
	}
	fakessh.NoExec(t, f)
}

func TestSSHWrongHostKeyIsRefused(t *testing.T) {
	f := fakessh.Start(t, &fakessh.Server{Password: "s3cret"})
	impostor, _ := ssh.NewPublicKey(fakessh.NewKey(t).Public())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := runSSH(ctx, f.Addr, passwordCred(t, impostor, "s3cret"), []string{"reboot"}, nil)
	var hk *HostKeyError
	if !errors.As(err, &hk) || hk.Host != f.Addr || !strings.Contains(err.Error(), f.Addr) || !strings.Contains(hk.Fingerprint, ssh.FingerprintSHA256(f.HostKey)) {
		t.Fatalf("want a HostKeyError naming %s, got %v", f.Addr, err)
	}
	fakessh.NoExec(t, f)
}

func TestSSHWrongPasswordIsRefused(t *testing.T) {
	f := fakessh.Start(t, &fakessh.Server{Password: "s3cret"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := runSSH(ctx, f.Addr, passwordCred(t, f.HostKey, "guess"), []string{"reboot"}, nil)
	var hk *HostKeyError
	if err == nil || errors.As(err, &hk) || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("wrong Password: %v", err)
	}
	if strings.Contains(err.Error(), "guess") {
		t.Errorf("the error shows the Password: %v", err)
	}
	fakessh.NoExec(t, f)
}

func TestSSHExitStatus(t *testing.T) {
	f := fakessh.Start(t, &fakessh.Server{Password: "s3cret", Status: 3, Stderr: strings.Repeat("e", 10<<10)})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := runSSH(ctx, f.Addr, passwordCred(t, f.HostKey, "s3cret"), []string{"false"}, nil)
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
	hang := fakessh.Start(t, &fakessh.Server{Password: "s3cret", Hang: true})
	for _, tc := range []struct{ name, addr string }{
		{"no handshake", silent.Addr().String()},
		{"no exit status", hang.Addr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			start := time.Now()
			_, err := runSSH(ctx, tc.addr, passwordCred(t, hang.HostKey, "s3cret"), []string{"sleep", "1000"}, nil)
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
