package roundtrip

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/pop3probe"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// pop3Real is a pop3-roundtrip of a real Dovecot mailbox, the probe sent
// through the real Postfix.
// pop3Real is an pop3-roundtrip against the real servers.
type pop3Real realRig

func (c pop3Real) config() probe.Config { return realRig(c).config("pop3-roundtrip", 10*time.Second) }

// pop3Inbox returns the contents of the messages of a maildir's INBOX, each
// with how many times it is there. Contents, not names: Dovecot renames
// files when it moves them to cur/ or adds their size and flags.
func pop3Inbox(t *testing.T, maildir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(maildir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, ent := range ents {
			b, err := os.ReadFile(filepath.Join(maildir, sub, ent.Name()))
			if os.IsNotExist(err) {
				continue // renamed under us; a second snapshot agrees or fails
			}
			if err != nil {
				t.Fatal(err)
			}
			out[string(b)]++
		}
	}
	return out
}

// pop3Seed writes messages into a maildir's new/ as a delivery agent
// would, and removes them (wherever Dovecot moved them) when the test ends.
func pop3Seed(t *testing.T, maildir string, msgs ...[]byte) {
	t.Helper()
	seeded := map[string]bool{}
	for i, m := range msgs {
		name := fmt.Sprintf("%d.M%dP%d.mailmon-test", time.Now().Unix(), time.Now().UnixNano()/1e3+int64(i), os.Getpid())
		tmp := filepath.Join(maildir, "tmp", name)
		if err := os.WriteFile(tmp, m, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(maildir, "new", name)); err != nil {
			t.Fatal(err)
		}
		seeded[string(m)] = true
	}
	t.Cleanup(func() {
		for _, sub := range []string{"new", "cur"} {
			ents, _ := os.ReadDir(filepath.Join(maildir, sub))
			for _, ent := range ents {
				p := filepath.Join(maildir, sub, ent.Name())
				if b, err := os.ReadFile(p); err == nil && seeded[string(b)] {
					os.Remove(p)
				}
			}
		}
	})
}

// pop3Sync logs in once, so that Dovecot numbers the messages seeded so far
// before the next ones: the order of the maildrop is then known.
func pop3Sync(t *testing.T, e *realmail.Env, user, pass string) {
	t.Helper()
	r := probe.Run(context.Background(), pop3probe.Kind(), probe.Config{Type: "pop3", Host: "127.0.0.1", Port: e.POP3S,
		TLS: probe.TLSImplicit, CAFile: e.CAFile, ServerName: e.ServerName, User: user, Password: probe.Password(pass),
		Stat: true, Timeout: 5 * time.Second})
	if r.Status != probe.StatusUp {
		t.Fatalf("POP3 login to sync the maildrop:\n%s", dump(r))
	}
}

// pop3NoRETR fails if the transcript shows a message body fetched.
func pop3NoRETR(t *testing.T, r *probe.Result) {
	t.Helper()
	for _, l := range r.Transcript {
		if f := strings.Fields(strings.TrimPrefix(l, "C: ")); strings.HasPrefix(l, "C: ") && len(f) > 0 &&
			(strings.EqualFold(f[0], "RETR") || strings.EqualFold(f[0], "TOP") && (len(f) != 3 || f[2] != "0")) {
			t.Errorf("the client sent %q: only headers may be read", l)
		}
	}
}

// pop3InWindow fails if the transcript shows a TOP of a message older than
// the last 100 of its session, and returns how many TOPs it saw.
func pop3InWindow(t *testing.T, r *probe.Result) int {
	t.Helper()
	count, tops := -1, 0
	for i, l := range r.Transcript {
		if l == "-- transcript truncated" {
			t.Fatal("the transcript is truncated")
		}
		if l == "C: STAT" && i+1 < len(r.Transcript) {
			fmt.Sscanf(r.Transcript[i+1], "S: +OK %d", &count)
		}
		var id int
		if _, err := fmt.Sscanf(l, "C: TOP %d 0", &id); err == nil {
			tops++
			if count < 0 || id <= count-100 {
				t.Errorf("%q in a session of %d messages: older than the last 100", l, count)
			}
		}
	}
	return tops
}

func TestPOP3RealRoundTrip(t *testing.T) {
	e := realmail.Start(t)
	tests := []struct {
		name string
		c    pop3Real
	}{
		{"SMTP port 25 without TLS, POP3 STLS",
			pop3Real{port: e.POP3, mode: probe.TLSStartTLS, smtpPort: e.SMTP, smtpMode: probe.TLSNone}},
		{"SMTP port 25 STARTTLS, POP3 implicit TLS",
			pop3Real{port: e.POP3S, mode: probe.TLSImplicit, smtpPort: e.SMTP, smtpMode: probe.TLSStartTLS}},
		{"submission STARTTLS and AUTH, POP3 STLS",
			pop3Real{port: e.POP3, mode: probe.TLSStartTLS, smtpPort: e.Submission, smtpMode: probe.TLSStartTLS, smtpAuth: true}},
		{"SMTPS implicit TLS and AUTH, POP3 implicit TLS",
			pop3Real{port: e.POP3S, mode: probe.TLSImplicit, smtpPort: e.SMTPS, smtpMode: probe.TLSImplicit, smtpAuth: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.e, tt.c.user, tt.c.pass = e, e.User, e.Password
			md := e.Maildir(e.User)
			before := pop3Inbox(t, md)
			r := probe.Run(context.Background(), POP3Kind(), tt.c.config())
			if r.Status != probe.StatusUp {
				t.Fatalf("status %s, want up:\n%s\n%s", r.Status, dump(r), e.LogTail())
			}
			if r.Delivery <= 0 || r.Delivery >= 5*time.Second || r.Delivery >= r.RTT {
				t.Errorf("delivery %v (rtt %v): want 0 < delivery < 5 s and < rtt", r.Delivery, r.RTT)
			}
			t.Logf("delivery %v, rtt %v, %v attempts", r.Delivery, r.RTT, r.Details["attempts"])
			if r.TLSMode != tt.c.mode || r.TLS == nil || !r.TLS.Verified {
				t.Errorf("mailbox leg TLS %q %+v, want %q, verified", r.TLSMode, r.TLS, tt.c.mode)
			}
			smtp, _ := r.Details["smtp"].(map[string]any)
			if smtp["tls_mode"] != tt.c.smtpMode || tt.c.smtpAuth != (smtp["auth_mechanism"] == "PLAIN") {
				t.Errorf("SMTP leg facts %v, want tls_mode %q, authenticated %v", smtp, tt.c.smtpMode, tt.c.smtpAuth)
			}
			for _, want := range []string{"auth", "sweep", "smtp_data", "wait", "delete", "quit"} {
				if !slices.Contains(phaseNames(r), want) {
					t.Errorf("phases %q lack %q", phaseNames(r), want)
				}
			}
			if after := pop3Inbox(t, md); !maps.Equal(after, before) {
				t.Errorf("the INBOX holds %d messages after the round trip, %d before: the probe must be gone and nothing else touched", len(after), len(before))
			}
			pop3NoRETR(t, r)
			noSecrets(t, r, pop3BoxPass, pop3SMTPPass, e.Password)
		})
	}
}

// TestPOP3RealMailboxSafety: against real Dovecot, a round trip deletes
// this run's probe and the stale probe of this installation, and every
// other message stays byte for byte.
func TestPOP3RealMailboxSafety(t *testing.T) {
	e := realmail.Start(t)
	user, pass := e.User2, e.Password2
	md := e.Maildir(user)
	now := time.Now()
	mk := func(key keyfile.Key, monitor string, created time.Time) []byte {
		return pop3NewProbe(t, key, monitor, user, created)
	}
	forged := pop3Forge(t, mk(testKey, "pop3 real", now.Add(-2*time.Hour)))
	stale := mk(testKey, "pop3 real", now.Add(-2*time.Hour))
	oldStale := mk(testKey, "pop3 real", now.Add(-3*time.Hour))

	// The old stale probe first, then 100 ordinary messages, then the rest:
	// the old one is then outside the last 100, where nothing is read.
	pop3Seed(t, md, oldStale)
	pop3Sync(t, e, user, pass)
	var ordinary [][]byte
	for n := range 100 {
		ordinary = append(ordinary, fmt.Appendf(nil, "From: <friend%d@example.test>\nTo: <%s>\nSubject: note %d\n"+
			"Message-ID: <%d.%d@example.test>\n\nline one\n.a dotted line\n\nlast", n, user, n, n, now.UnixNano()))
	}
	pop3Seed(t, md, ordinary...)
	pop3Sync(t, e, user, pass)
	pop3Seed(t, md,
		mk(otherKey, "pop3 real", now),
		mk(otherKey, "pop3 real", now.Add(-2*time.Hour)),
		forged,
		stale,
		[]byte("Subject: mailmon probe pop3 real 0123456789abcdef0123456789abcdef\n\nlook-alike\n"),
		mk(testKey, "other monitor", now.Add(-5*time.Minute)),
	)
	before := pop3Inbox(t, md)

	c := pop3Real{e: e, user: user, pass: pass, port: e.POP3S, mode: probe.TLSImplicit, smtpPort: e.SMTP, smtpMode: probe.TLSNone}
	r := probe.Run(context.Background(), POP3Kind(), c.config())
	if r.Status != probe.StatusUp {
		t.Fatalf("status %s, want up:\n%s\n%s", r.Status, dump(r), e.LogTail())
	}
	if r.Details["swept"] != 1 {
		t.Errorf("swept %v, want 1", r.Details["swept"])
	}
	want := maps.Clone(before)
	if want[string(stale)] != 1 {
		t.Fatalf("the stale probe is not in the maildir")
	}
	delete(want, string(stale))
	after := pop3Inbox(t, md)
	if !maps.Equal(after, want) {
		for m := range want {
			if after[m] != want[m] {
				t.Errorf("gone or changed: %.200q", m)
			}
		}
		for m := range after {
			if want[m] == 0 {
				t.Errorf("left behind: %.200q", m)
			}
		}
	}
	pop3NoRETR(t, r)
	// The sweep reads the last 100, the look only what came since.
	if n := pop3InWindow(t, r); n < 101 || n > 103 {
		t.Errorf("%d headers read, want the 100 of the window and the probe (and what else arrived)", n)
	}
}

// TestPOP3RealWrongPassword: a refused mailbox login costs no probe.
func TestPOP3RealWrongPassword(t *testing.T) {
	e := realmail.Start(t)
	md := e.Maildir(e.User)
	before := pop3Inbox(t, md)
	c := pop3Real{e: e, user: e.User, pass: "not-the-mailbox-password", port: e.POP3S, mode: probe.TLSImplicit,
		smtpPort: e.SMTP, smtpMode: probe.TLSNone}
	r := probe.Run(context.Background(), POP3Kind(), c.config())
	pop3WantCode(t, r, probe.AuthFailed, "auth")
	if slices.ContainsFunc(phaseNames(r), func(p string) bool { return strings.HasPrefix(p, "smtp_") }) {
		t.Errorf("phases %q: the probe was sent", phaseNames(r))
	}
	time.Sleep(300 * time.Millisecond) // what was sent would be delivered by now
	if after := pop3Inbox(t, md); !maps.Equal(after, before) {
		t.Errorf("the INBOX changed")
	}
	noSecrets(t, r, pop3BoxPass, pop3SMTPPass, "not-the-mailbox-password", e.Password)
}
