package api

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
)

// catcher is an SMTP server that takes any login and records every line a
// client sends it: the listener an attacker would point a monitor at.
type catcher struct {
	*hostile.Server
	mu    sync.Mutex
	lines []string
}

func catchSMTP(t *testing.T) *catcher {
	c := &catcher{}
	c.Server = hostile.Start(t, func(conn *hostile.Conn) {
		conn.Send("220 catcher ESMTP\r\n")
		data := false
		for l := conn.ReadLine(); l != ""; l = conn.ReadLine() {
			c.mu.Lock()
			c.lines = append(c.lines, l)
			c.mu.Unlock()
			u := strings.ToUpper(l)
			switch {
			case data:
				if l == ".\r\n" {
					data = false
					conn.Send("250 queued\r\n")
				}
			case strings.HasPrefix(u, "EHLO"):
				conn.Send("250-catcher\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n")
			case strings.HasPrefix(u, "AUTH"):
				conn.Send("235 ok\r\n")
			case strings.HasPrefix(u, "DATA"):
				data = true
				conn.Send("354 go on\r\n")
			case strings.HasPrefix(u, "QUIT"):
				conn.Send("221 bye\r\n")
				return
			default:
				conn.Send("250 ok\r\n")
			}
		}
	})
	return c
}

// credentials returns what the catcher received that carries pw: an AUTH
// command, the password in the clear or in base64 (PLAIN, LOGIN).
func (c *catcher) credentials(user, pw string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	shapes := []string{pw, base64.StdEncoding.EncodeToString([]byte(pw)), base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pw))}
	var out []string
	for _, l := range c.lines {
		if strings.HasPrefix(strings.ToUpper(l), "AUTH") {
			out = append(out, l)
			continue
		}
		for _, s := range shapes {
			if strings.Contains(l, s) {
				out = append(out, l)
			}
		}
	}
	return out
}

func (f *fixture) id(t *testing.T, method, path string, body any, want int) (int64, map[string]any) {
	t.Helper()
	code, out := f.do(t, method, path, body, f.token)
	if code != want {
		t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	id, _ := out["id"].(float64)
	return int64(id), out
}

func droppedOf(out map[string]any) []string {
	var names []string
	l, _ := out["secrets_dropped"].([]any)
	for _, x := range l {
		names = append(names, x.(string))
	}
	return names
}

// TestTargetChangeDropsMonitorSecrets: a monitor whose target changes
// (port, type, TLS, mechanism, device address, a round trip's SMTP leg)
// loses the secret the new target would receive, unless the same request
// sends it again; a listener there receives nothing credential-shaped.
func TestTargetChangeDropsMonitorSecrets(t *testing.T) {
	const user, pw = "u@example.test", "RealMailboxPassw0rd"
	smtpAt := func(port int, change func(s map[string]any)) map[string]any {
		s := map[string]any{"name": "m", "type": "smtp", "port": port, "user": user, "auth": "PLAIN", "allow_plaintext_auth": true,
			"timing": map[string]any{"max_duration": "3s"}}
		if change != nil {
			change(s)
		}
		return s
	}
	// A round trip logs in to its mailbox before it sends.
	mailbox := fakepop3.Start(t, fakepop3.Options{Users: []fakepop3.User{{Name: user, Password: pw}}})
	roundTrip := func(smtpHost string, port int) map[string]any {
		return map[string]any{"name": "m", "type": "pop3-roundtrip", "port": mailbox.Port, "user": user, "allow_plaintext_auth": true,
			"from": user, "to": user, "poll_interval": "200ms", "timing": map[string]any{"max_duration": "1s"},
			"smtp": map[string]any{"host": smtpHost, "port": port, "user": user, "auth": "PLAIN", "allow_plaintext_auth": true}}
	}
	cases := []struct {
		name       string
		oldAddr    string // the device's address before ("": 127.0.0.1)
		move       bool   // the monitor moves to another device at 127.0.0.1
		old, new   func(port int) map[string]any
		secret     string // the secret that drops
		sendAgain  string // its field in the request
		otherStays string // a secret of the monitor the change leaves alone
	}{
		{name: "port", old: func(int) map[string]any { return smtpAt(freeClosedPort(t), nil) }, new: func(p int) map[string]any { return smtpAt(p, nil) }},
		{name: "type", old: func(p int) map[string]any {
			return smtpAt(p, func(s map[string]any) { s["type"] = "imap"; delete(s, "auth") })
		}, new: func(p int) map[string]any { return smtpAt(p, nil) }},
		{name: "tls", old: func(p int) map[string]any { return smtpAt(p, func(s map[string]any) { s["tls"] = "implicit" }) },
			new: func(p int) map[string]any { return smtpAt(p, nil) }},
		{name: "auth", old: func(p int) map[string]any { return smtpAt(p, func(s map[string]any) { s["auth"] = "CRAM-MD5" }) },
			new: func(p int) map[string]any { return smtpAt(p, nil) }},
		{name: "device address", oldAddr: "127.0.0.2", old: func(p int) map[string]any { return smtpAt(p, nil) },
			new: func(p int) map[string]any { return smtpAt(p, nil) }},
		{name: "another device", oldAddr: "127.0.0.2", move: true, old: func(p int) map[string]any { return smtpAt(p, nil) },
			new: func(p int) map[string]any { return smtpAt(p, nil) }},
		{name: "smtp leg", old: func(p int) map[string]any { return roundTrip("127.0.0.2", p) },
			new:    func(p int) map[string]any { return roundTrip("127.0.0.1", p) },
			secret: "smtp.password", sendAgain: "smtp_password", otherStays: "password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.secret == "" {
				c.secret, c.sendAgain = "password", "password"
			}
			f := newFixture(t)
			target := catchSMTP(t)
			addr := c.oldAddr
			if addr == "" {
				addr = "127.0.0.1"
			}
			devID, _ := f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "d", "address": addr}, 201)
			id, _ := f.id(t, "POST", "/api/v1/monitors", map[string]any{"device": devID, "password": pw, "smtp_password": pw,
				"settings": c.old(target.Port)}, 201)
			path := "/api/v1/monitors/" + strconv.FormatInt(id, 10)
			if c.move {
				devID, _ = f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "e", "address": "127.0.0.1"}, 201)
			}
			if c.oldAddr != "" && !c.move {
				_, out := f.id(t, "PUT", "/api/v1/devices/"+strconv.FormatInt(devID, 10), map[string]any{"name": "d", "address": "127.0.0.1"}, 200)
				if b, _ := json.Marshal(out["secrets_dropped"]); !strings.Contains(string(b), `"secrets":["password"]`) {
					t.Errorf("the device's answer does not say what it dropped: %s", b)
				}
			} else {
				_, out := f.id(t, "PUT", path, map[string]any{"device": devID, "settings": c.new(target.Port)}, 200)
				if got := droppedOf(out); len(got) != 1 || got[0] != c.secret {
					t.Errorf("secrets_dropped = %v, want [%s]", got, c.secret)
				}
				if sec := out["secrets"].(map[string]any); sec[c.secret] != nil || (c.otherStays != "" && sec[c.otherStays] != true) {
					t.Errorf("secrets after the change: %v", sec)
				}
			}
			f.do(t, "POST", path+"/test", nil, f.token)
			if got := target.credentials(user, pw); len(got) > 0 {
				t.Fatalf("the new target received credentials: %q", got)
			}

			// Sent again with the change, the secret goes there, as asked.
			_, out := f.id(t, "PUT", path, map[string]any{"device": devID, c.sendAgain: pw, "settings": c.new(target.Port)}, 200)
			if got := droppedOf(out); len(got) != 0 {
				t.Errorf("a secret sent again was dropped: %v", got)
			}
			f.do(t, "POST", path+"/test", nil, f.token)
			if got := target.credentials(user, pw); len(got) == 0 {
				t.Error("the secret sent again did not reach the new target")
			}
		})
	}
}

func TestRelayChangeDropsItsPassword(t *testing.T) {
	const user, pw = "alerts@example.test", "RelayPassw0rd"
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.api.Engine.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	relay := catchSMTP(t)
	email := func(host string) map[string]any {
		return map[string]any{"name": "pager-" + host, "email": map[string]any{"to": []string{"oncall@example.test"}, "from": user,
			"relay": map[string]any{"host": host, "port": relay.Port, "user": user, "auth": "PLAIN", "allow_plaintext_auth": true}}}
	}
	devID, _ := f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "d", "address": "127.0.0.1"}, 201)
	// down makes a monitor that fails at once, alerting through alert, and
	// waits for the alert's first delivery attempt.
	down := func(name string, alert int64) {
		t.Helper()
		id, _ := f.id(t, "POST", "/api/v1/monitors", map[string]any{"device": devID, "alerts": []int64{alert},
			"settings": map[string]any{"name": name, "type": "tcp", "port": freeClosedPort(t), "notify": map[string]any{"failures_per_alert": 1}}}, 201)
		f.do(t, "POST", "/api/v1/monitors/"+strconv.FormatInt(id, 10)+"/test", nil, f.token)
		deadline := time.Now().Add(10 * time.Second)
		for {
			ns, err := f.api.Store.Notifications(ctx, id, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) > 0 && ns[0].Attempts > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no delivery attempt: %+v", ns)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	a, _ := f.id(t, "POST", "/api/v1/alerts", map[string]any{"relay_password": pw, "settings": email("127.0.0.2")}, 201)
	s := email("127.0.0.1")
	s["name"] = "pager-127.0.0.2"
	_, out := f.id(t, "PUT", "/api/v1/alerts/"+strconv.FormatInt(a, 10), map[string]any{"settings": s}, 200)
	if got := droppedOf(out); len(got) != 1 || got[0] != "relay.password" {
		t.Errorf("secrets_dropped = %v", got)
	}
	down("m1", a)
	if got := relay.credentials(user, pw); len(got) > 0 {
		t.Fatalf("the new relay received credentials: %q", got)
	}

	b, _ := f.id(t, "POST", "/api/v1/alerts", map[string]any{"relay_password": pw, "settings": email("localhost")}, 201)
	_, out = f.id(t, "PUT", "/api/v1/alerts/"+strconv.FormatInt(b, 10), map[string]any{"relay_password": pw,
		"settings": map[string]any{"name": "pager-localhost", "email": email("127.0.0.1")["email"]}}, 200)
	if got := droppedOf(out); len(got) != 0 {
		t.Errorf("a password sent again was dropped: %v", got)
	}
	down("m2", b)
	if got := relay.credentials(user, pw); len(got) == 0 {
		t.Error("the password sent again did not reach the new relay")
	}
}

// sshCatcher is an SSH server with a host key of its own that records
// every password a client offers and refuses them all.
type sshCatcher struct {
	addr    string
	hostKey string
	mu      sync.Mutex
	offered []string
}

func catchSSH(t *testing.T) *sshCatcher {
	c := &sshCatcher{}
	signer, err := ssh.NewSignerFromKey(newEd25519(t))
	if err != nil {
		t.Fatal(err)
	}
	c.hostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	cfg := &ssh.ServerConfig{PasswordCallback: func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
		c.mu.Lock()
		c.offered = append(c.offered, string(pw))
		c.mu.Unlock()
		return nil, errors.New("no")
	}}
	cfg.AddHostKey(signer)
	srv := hostile.Start(t, func(conn *hostile.Conn) {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		ssh.NewServerConn(conn.Conn, cfg)
	})
	c.addr = srv.Addr()
	return c
}

func (c *sshCatcher) passwords() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.offered...)
}

func TestKnownHostChangeDropsCredentialSecrets(t *testing.T) {
	const pw = "RootPassw0rd"
	f := newFixture(t)
	evil := catchSSH(t)
	devID, _ := f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "d", "address": "127.0.0.1"}, 201)
	recoverWith := func(name, cred string) { f.failForRecovery(t, f.sshRecoveryMonitor(t, devID, name, evil.addr, cred)) }
	good := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(mustSigner(t).PublicKey())))

	c1, _ := f.id(t, "POST", "/api/v1/credentials", map[string]any{"name": "c1", "user": "root", "known_host": good, "password": pw}, 201)
	_, out := f.id(t, "PUT", "/api/v1/credentials/"+strconv.FormatInt(c1, 10), map[string]any{"name": "c1", "user": "root", "known_host": evil.hostKey}, 200)
	if got := droppedOf(out); len(got) != 1 || got[0] != "password" {
		t.Errorf("secrets_dropped = %v", got)
	}
	recoverWith("m1", "c1")
	if got := evil.passwords(); len(got) > 0 {
		t.Fatalf("the new host received passwords: %q", got)
	}

	c2, _ := f.id(t, "POST", "/api/v1/credentials", map[string]any{"name": "c2", "user": "root", "known_host": good, "password": pw}, 201)
	f.id(t, "PUT", "/api/v1/credentials/"+strconv.FormatInt(c2, 10), map[string]any{"name": "c2", "user": "root", "known_host": evil.hostKey, "password": pw}, 200)
	recoverWith("m2", "c2")
	if got := evil.passwords(); len(got) != 1 || got[0] != pw {
		t.Errorf("the password sent again with the new host key: %q", got)
	}
}

func newEd25519(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSigner(t *testing.T) ssh.Signer {
	t.Helper()
	s, err := ssh.NewSignerFromKey(newEd25519(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
