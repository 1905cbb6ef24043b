package roundtrip

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/leak"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

// The accounts of the POP3 round-trip fakes. The secrets are long enough
// that finding one in a result is no accident.
const (
	pop3Box      = "box@example.test"
	pop3BoxPass  = "mailbox-password-0123456789"
	pop3Sender   = "monitor@example.test"
	pop3SMTPPass = "smtp-password-9876543210"
)

// pop3Rig is a fake SMTP server that delivers into a fake POP3 server, and
// a pop3-roundtrip config for the pair.
type pop3Rig struct {
	pop  *fakepop3.Server
	smtp *fakesmtp.Server
	cfg  probe.Config
}

type pop3RigOpts struct {
	pop      fakepop3.Options // Users default to pop3Box
	popMode  probe.TLSMode    // default starttls (the fake offers STLS)
	smtp     fakesmtp.Options
	smtpMode probe.TLSMode // starttls and implicit give the fake a certificate
	smtpAuth bool          // log in to the SMTP fake
	// deliver, if set, replaces delivery into the maildrop at once; it is
	// handed the maildrop's Deliver. It runs before the SMTP fake answers
	// DATA, or after, in a goroutine of its own, with async.
	deliver func(m fakesmtp.Message, into func([]byte))
	async   bool
}

// pop3Fakes starts the fakes. Their goroutines are waited for at cleanup.
func pop3Fakes(t *testing.T, o pop3RigOpts) *pop3Rig {
	t.Helper()
	if o.pop.Users == nil {
		o.pop.Users = []fakepop3.User{{Name: pop3Box, Password: pop3BoxPass}}
	}
	if o.popMode == "" {
		o.popMode = probe.TLSStartTLS
	}
	o.pop.STLS = o.popMode == probe.TLSStartTLS
	o.pop.Implicit = o.popMode == probe.TLSImplicit
	pop := fakepop3.Start(t, o.pop)

	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // runs before the servers' cleanups
	into := func(raw []byte) { pop.Deliver(pop3Box, raw) }
	if o.smtp.OnData == nil {
		o.smtp.OnData = func(m fakesmtp.Message) {
			switch {
			case o.deliver == nil:
				into(m.Data)
				return
			case !o.async:
				o.deliver(m, into)
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				o.deliver(m, into)
			}()
		}
	}
	smtpCfg := &probe.Config{TLS: probe.TLSNone}
	if o.smtpMode != "" && o.smtpMode != probe.TLSNone {
		ca := certs.NewCA(t)
		o.smtp.TLS = certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
		o.smtp.Implicit = o.smtpMode == probe.TLSImplicit
		smtpCfg.TLS, smtpCfg.CAFile = o.smtpMode, ca.File(t)
	}
	if o.smtpAuth {
		o.smtp.Accounts = saslsrv.Accounts{Passwords: map[string]string{pop3Sender: pop3SMTPPass}}
		smtpCfg.User, smtpCfg.Password, smtpCfg.Auth = pop3Sender, pop3SMTPPass, "PLAIN"
	}
	srv := fakesmtp.Start(t, o.smtp)
	smtpCfg.Host, smtpCfg.Port = srv.Host, srv.Port
	return &pop3Rig{pop: pop, smtp: srv, cfg: probe.Config{
		Type: "pop3-roundtrip", Host: pop.Host, Port: pop.Port, TLS: o.popMode, CAFile: pop.CAFile,
		User: pop3Box, Password: pop3BoxPass, Timeout: 5 * time.Second,
		SMTP: smtpCfg, From: pop3Sender, To: pop3Box, Monitor: "pop3 fake", InstallationKey: testKey,
		PollInterval: 300 * time.Millisecond,
	}}
}

func (r *pop3Rig) run() *probe.Result {
	return probe.Run(context.Background(), POP3Kind(), r.cfg)
}

func pop3WantUp(t *testing.T, r *probe.Result) {
	t.Helper()
	if r.Status != probe.StatusUp || r.Error != nil {
		t.Fatalf("status %s, want up:\n%s", r.Status, dump(r))
	}
}

func pop3WantCode(t *testing.T, r *probe.Result, code probe.Code, phase string) {
	t.Helper()
	if r.Status != probe.StatusDown || r.Error == nil || r.Error.Code != code || r.Error.Phase != phase {
		t.Fatalf("status %s, want down with %s in phase %q:\n%s", r.Status, code, phase, dump(r))
	}
}

// pop3Probes returns the messages of the maildrop carrying a probe stamp.
func pop3Probes(msgs []fakepop3.Message) []fakepop3.Message {
	var out []fakepop3.Message
	for _, m := range msgs {
		if bytes.Contains(m.Data, []byte(Header+":")) {
			out = append(out, m)
		}
	}
	return out
}

func TestPOP3RoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		popMode  probe.TLSMode
		smtpMode probe.TLSMode
		auth     bool
		want     []string // phases, in order
	}{
		{"STLS, SMTP without TLS", probe.TLSStartTLS, probe.TLSNone, false, []string{
			"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "auth", "list", "fetch", "sweep",
			"smtp_connect", "smtp_greeting", "smtp_capabilities", "smtp_mail", "smtp_rcpt", "smtp_data", "smtp_quit",
			"wait", "delete", "quit"}},
		{"implicit TLS, SMTP STARTTLS and AUTH", probe.TLSImplicit, probe.TLSStartTLS, true, []string{
			"connect", "tls", "greeting", "capabilities", "auth", "list", "fetch", "sweep",
			"smtp_connect", "smtp_greeting", "smtp_capabilities", "smtp_starttls", "smtp_tls", "smtp_capabilities_tls", "smtp_auth",
			"smtp_mail", "smtp_rcpt", "smtp_data", "smtp_quit", "wait", "delete", "quit"}},
		{"STLS, SMTP implicit TLS and AUTH", probe.TLSStartTLS, probe.TLSImplicit, true, []string{
			"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "auth", "list", "fetch", "sweep",
			"smtp_connect", "smtp_tls", "smtp_greeting", "smtp_capabilities", "smtp_auth",
			"smtp_mail", "smtp_rcpt", "smtp_data", "smtp_quit", "wait", "delete", "quit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			rig := pop3Fakes(t, pop3RigOpts{popMode: tt.popMode, smtpMode: tt.smtpMode, smtpAuth: tt.auth})
			unrelated := rig.pop.Deliver(pop3Box, []byte("From: <a@example.test>\nSubject: hello\n\nkeep me\n"))
			start := time.Now()
			r := rig.run()
			pop3WantUp(t, r)
			if r.Delivery <= 0 || r.Delivery >= r.RTT || r.RTT > time.Since(start) {
				t.Errorf("delivery %v, rtt %v: want 0 < delivery < rtt", r.Delivery, r.RTT)
			}
			if got := phaseNames(r); !slices.Equal(got, tt.want) {
				t.Errorf("phases\n%q\nwant\n%q", got, tt.want)
			}
			if r.TLSMode != tt.popMode {
				t.Errorf("TLS mode %q, want the mailbox leg's %q", r.TLSMode, tt.popMode)
			}
			if smtp, _ := r.Details["smtp"].(map[string]any); smtp["tls_mode"] != tt.smtpMode {
				t.Errorf("SMTP leg facts %v, want tls_mode %q", smtp, tt.smtpMode)
			}
			if n := attempts(t, r); n != 1 {
				t.Errorf("%d attempts: the probe was there at the first look", n)
			}
			if r.Details["swept"] != 0 {
				t.Errorf("swept %v, want 0", r.Details["swept"])
			}
			if sent := rig.smtp.Messages(); len(sent) != 1 || (tt.auth && sent[0].User != pop3Sender) {
				t.Fatalf("the SMTP fake got %+v, want one probe", sent)
			}
			if left := rig.pop.Messages(pop3Box); len(left) != 1 || left[0].UID != unrelated {
				t.Errorf("maildrop after the round trip: %+v, want only %s", left, unrelated)
			}
			noSecrets(t, r, pop3BoxPass, pop3SMTPPass)
		})
	}
}

// pop3Message is an ordinary message with a few traits a careless client
// could mangle: a dot-started line, a long header, a missing final newline.
func pop3Message(i int) []byte {
	return fmt.Appendf(nil, "From: <friend%d@example.test>\r\nTo: <%s>\r\nSubject: note %d\r\n"+
		"X-Long: %s\r\n\r\nline one of %d\r\n.a dotted line\r\n\r\nlast", i, pop3Box, i, strings.Repeat("x", 900), i)
}

// pop3NewProbe returns the raw message of a probe to to, made at created.
func pop3NewProbe(t *testing.T, key keyfile.Key, monitor, to string, created time.Time) []byte {
	t.Helper()
	p, err := NewProbe(key, monitor, pop3Sender, to, created)
	if err != nil {
		t.Fatal(err)
	}
	return p.Raw
}

// pop3Forge replaces the HMAC of a probe's stamp with zeros: the subject
// and the stamp still look right, but it does not verify.
func pop3Forge(t *testing.T, raw []byte) []byte {
	t.Helper()
	i := bytes.Index(raw, []byte(Header+": "))
	end := i + bytes.IndexByte(raw[i:], '\r')
	forged := slices.Clone(raw)
	copy(forged[end-64:end], strings.Repeat("0", 64))
	if _, err := Inspect(testKey, forged); err != ErrForged {
		t.Fatalf("the forged probe inspects as %v, want ErrForged", err)
	}
	return forged
}

// TestPOP3MailboxSafety proves that a round trip deletes this run's probe
// and the stale probe of this installation in the window, and leaves every
// other message byte for byte, reads nothing but headers, and reads no
// message outside the last 100.
func TestPOP3MailboxSafety(t *testing.T) {
	leak.Check(t)
	rig := pop3Fakes(t, pop3RigOpts{})
	now := time.Now()
	mk := func(key keyfile.Key, monitor string, created time.Time) []byte {
		return pop3NewProbe(t, key, monitor, pop3Box, created)
	}
	forged := pop3Forge(t, mk(testKey, "pop3 fake", now.Add(-2*time.Hour)))

	var drop [][]byte
	for n := range 100 {
		drop = append(drop, pop3Message(n))
	}
	special := map[string][]byte{
		"an old stale probe, outside the last 100": mk(testKey, "pop3 fake", now.Add(-3*time.Hour)),
		"another installation's probe":             mk(otherKey, "pop3 fake", now),
		"another installation's stale probe":       mk(otherKey, "pop3 fake", now.Add(-2*time.Hour)),
		"a forged stamp":                           forged,
		"a look-alike subject without a stamp":     []byte("Subject: mailmon probe pop3 fake 0123456789abcdef0123456789abcdef\r\n\r\nhi\r\n"),
		"a young probe of another monitor":         mk(testKey, "other monitor", now.Add(-5*time.Minute)),
	}
	stale := mk(testKey, "pop3 fake", now.Add(-2*time.Hour))
	// 1..7 are outside the window (107 messages at the sweep, 107 again once
	// the stale one is gone and the probe is in); the old stale probe is 3.
	drop = slices.Insert(drop, 2, special["an old stale probe, outside the last 100"])
	drop = slices.Insert(drop, 40, special["another installation's probe"])
	drop = slices.Insert(drop, 60, special["another installation's stale probe"], special["a forged stamp"])
	drop = slices.Insert(drop, 80, stale, special["a look-alike subject without a stamp"])
	drop = append(drop, special["a young probe of another monitor"])
	for _, m := range drop {
		rig.pop.Deliver(pop3Box, m)
	}
	before := rig.pop.Messages(pop3Box)
	if len(before) != 107 {
		t.Fatalf("%d messages seeded", len(before))
	}

	r := rig.run()
	pop3WantUp(t, r)

	after := rig.pop.Messages(pop3Box)
	want := slices.DeleteFunc(slices.Clone(before), func(m fakepop3.Message) bool {
		return bytes.Equal(m.Data, stale)
	})
	if len(want) != 106 {
		t.Fatalf("the stale probe is not in the seeded maildrop")
	}
	if !slices.EqualFunc(after, want, func(a, b fakepop3.Message) bool { return a.UID == b.UID && bytes.Equal(a.Data, b.Data) }) {
		for name, m := range special {
			if !slices.ContainsFunc(after, func(a fakepop3.Message) bool { return bytes.Equal(a.Data, m) }) {
				t.Errorf("%s is gone or changed", name)
			}
		}
		t.Fatalf("the maildrop after the round trip has %d messages, want the %d seeded but the stale probe, unchanged", len(after), len(want))
	}
	if r.Details["swept"] != 1 {
		t.Errorf("swept %v, want 1", r.Details["swept"])
	}

	outside := map[string]bool{}
	for _, m := range before[:7] {
		outside[m.UID] = true
	}
	read := map[string]int{}
	for _, rd := range rig.pop.Reads() {
		if rd.Verb != "TOP" || rd.Lines != 0 {
			t.Errorf("%s of %s with %d lines: only headers may be read", rd.Verb, rd.UID, rd.Lines)
		}
		if outside[rd.UID] {
			t.Errorf("%s was read: it is older than the last 100 messages", rd.UID)
		}
		read[rd.UID]++
	}
	for uid, n := range read {
		if n > 1 {
			t.Errorf("%s was read %d times: a later look must skip what an earlier one read", uid, n)
		}
	}
	if len(read) != 101 {
		t.Errorf("%d messages read, want the 100 of the window and the probe", len(read))
	}
}

// TestPOP3LargeMaildrop: above a thousand messages, a look asks UIDL per
// message of the window rather than for one huge listing.
func TestPOP3LargeMaildrop(t *testing.T) {
	leak.Check(t)
	rig := pop3Fakes(t, pop3RigOpts{})
	for n := range 1500 {
		rig.pop.Deliver(pop3Box, fmt.Appendf(nil, "Subject: %d\r\n\r\nx\r\n", n))
	}
	r := rig.run()
	pop3WantUp(t, r)
	for _, c := range rig.pop.Commands() {
		f := strings.Fields(c.Line)
		if len(f) == 0 || !strings.EqualFold(f[0], "UIDL") && !strings.EqualFold(f[0], "TOP") {
			continue
		}
		if len(f) < 2 {
			t.Errorf("%q: a listing of the whole maildrop", c.Line)
			continue
		}
		if id := atoiOr(f[1]); id <= 1400 {
			t.Errorf("%q: message %d is older than the last 100 of 1500", c.Line, id)
		}
	}
	if n := len(rig.pop.Messages(pop3Box)); n != 1500 {
		t.Errorf("%d messages left, want 1500", n)
	}
}

func atoiOr(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func TestPOP3LateArrival(t *testing.T) {
	leak.Check(t)
	const late = 700 * time.Millisecond
	rig := pop3Fakes(t, pop3RigOpts{async: true, deliver: func(m fakesmtp.Message, into func([]byte)) {
		time.Sleep(late)
		into(m.Data)
	}})
	var r *probe.Result
	_, stalled := hostile.Stalled(func() { r = rig.run() })
	pop3WantUp(t, r)
	if n := attempts(t, r); n < 2 {
		t.Errorf("%d attempts: the probe arrived after the first look", n)
	}
	if r.Delivery < late || r.Delivery > late+time.Second+stalled {
		t.Errorf("delivery %v, want about %v (the machine stalled up to %v)", r.Delivery, late, stalled)
	}
	if left := pop3Probes(rig.pop.Messages(pop3Box)); len(left) != 0 {
		t.Errorf("probes left behind: %d", len(left))
	}
}

// TestPOP3DeliveredTwice: every copy of this run's probe is deleted.
func TestPOP3DeliveredTwice(t *testing.T) {
	leak.Check(t)
	rig := pop3Fakes(t, pop3RigOpts{deliver: func(m fakesmtp.Message, into func([]byte)) {
		into(m.Data)
		into(m.Data)
	}})
	r := rig.run()
	pop3WantUp(t, r)
	if left := pop3Probes(rig.pop.Messages(pop3Box)); len(left) != 0 {
		t.Errorf("%d copies of the probe left behind", len(left))
	}
	if r.Details["probe_copies"] != 2 {
		t.Errorf("probe_copies %v, want 2", r.Details["probe_copies"])
	}
}

// TestPOP3NotDelivered: a probe that never arrives is not_delivered, and the
// test ends with its deadline.
func TestPOP3NotDelivered(t *testing.T) {
	leak.Check(t)
	rig := pop3Fakes(t, pop3RigOpts{smtp: fakesmtp.Options{OnData: func(fakesmtp.Message) {}}})
	rig.cfg.Timeout, rig.cfg.PollInterval = 2*time.Second, 500*time.Millisecond
	var told []int
	rig.cfg.Progress = func(n int, _ time.Duration) { told = append(told, n) }
	var r *probe.Result
	// A loaded machine may wake the probe late at its deadline: the bound
	// adds the longest it stalled meanwhile (a probe that waits one more
	// look, 500 ms, past its timeout still fails on a machine that stalls
	// less than 400 ms).
	took, stalled := hostile.Stalled(func() { r = rig.run() })
	pop3WantCode(t, r, probe.NotDelivered, "wait")
	if took > rig.cfg.Timeout+100*time.Millisecond+stalled {
		t.Errorf("the test took %v, more than its timeout %v + 100 ms + %v the machine stalled", took, rig.cfg.Timeout, stalled)
	}
	n := attempts(t, r)
	for i, a := range told {
		if a != i+1 {
			t.Errorf("progress told %v: each look once, in order", told)
			break
		}
	}
	if n < 4 || len(told) != n {
		t.Errorf("%d attempts, progress told of %d: want several looks, each told once", n, len(told))
	}
	if len(rig.smtp.Messages()) != 1 {
		t.Errorf("the SMTP fake accepted %d messages, want the probe", len(rig.smtp.Messages()))
	}
	// Each fruitless look is one line: the transcript keeps what matters.
	looks := 0
	for _, l := range r.Transcript {
		if strings.HasSuffix(l, "no probe yet") {
			looks++
		}
	}
	if looks < n-1 || slices.Contains(r.Transcript, "-- transcript truncated") {
		t.Errorf("%d looks summed up in the transcript of %d lines, want %d:\n%s", looks, len(r.Transcript), n, strings.Join(r.Transcript, "\n"))
	}
}

// TestPOP3NoUIDL: a server without UIDL costs a reading of the whole
// window at each look, and nothing else.
func TestPOP3NoUIDL(t *testing.T) {
	leak.Check(t)
	rig := pop3Fakes(t, pop3RigOpts{
		pop: fakepop3.Options{Override: func(c fakepop3.Command) ([]string, bool) {
			if strings.HasPrefix(strings.ToUpper(c.Line), "UIDL") {
				return []string{"-ERR unknown command"}, true
			}
			return nil, false
		}},
		async: true,
		deliver: func(m fakesmtp.Message, into func([]byte)) {
			time.Sleep(400 * time.Millisecond)
			into(m.Data)
		},
	})
	for n := range 3 {
		rig.pop.Deliver(pop3Box, pop3Message(n))
	}
	before := rig.pop.Messages(pop3Box)
	r := rig.run()
	pop3WantUp(t, r)
	n := attempts(t, r)
	if n < 2 {
		t.Errorf("%d attempts: the probe arrived after the first look", n)
	}
	reads := 0
	for _, rd := range rig.pop.Reads() {
		if rd.UID == before[0].UID {
			reads++
		}
	}
	if reads != n+1 {
		t.Errorf("the first message was read %d times, want at the sweep and at each of %d looks", reads, n)
	}
	if after := rig.pop.Messages(pop3Box); !slices.EqualFunc(after, before, func(a, b fakepop3.Message) bool { return bytes.Equal(a.Data, b.Data) }) {
		t.Errorf("the maildrop changed: %d messages, %d before", len(after), len(before))
	}
}

func TestPOP3SendRejected(t *testing.T) {
	refusal := &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "probe refused by policy"}
	tests := []struct {
		name  string
		smtp  fakesmtp.Options
		phase string
	}{
		{"RCPT", fakesmtp.Options{FailRcpt: refusal}, "smtp_rcpt"},
		{"DATA", fakesmtp.Options{FailData: refusal}, "smtp_data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			rig := pop3Fakes(t, pop3RigOpts{smtp: tt.smtp})
			r := rig.run()
			pop3WantCode(t, r, probe.SendRejected, tt.phase)
			if !strings.Contains(r.Error.Reply, "550") || !strings.Contains(r.Error.Reply, "probe refused by policy") {
				t.Errorf("reply %q, want the server's", r.Error.Reply)
			}
			if _, ok := r.Details["attempts"]; ok {
				t.Errorf("the mailbox was searched for a probe never sent: %v", r.Details)
			}
			if n := len(rig.pop.Messages(pop3Box)); n != 0 {
				t.Errorf("%d messages in the maildrop", n)
			}
		})
	}
}

// TestPOP3WrongPassword: the mailbox login fails before any probe is sent.
func TestPOP3WrongPassword(t *testing.T) {
	leak.Check(t)
	rig := pop3Fakes(t, pop3RigOpts{})
	rig.cfg.Password = "not-the-mailbox-password"
	r := rig.run()
	pop3WantCode(t, r, probe.AuthFailed, "auth")
	if cmds, msgs := rig.smtp.Commands(), rig.smtp.Messages(); len(cmds) != 0 || len(msgs) != 0 {
		t.Errorf("the SMTP fake was spoken to: %q, %d messages", cmds, len(msgs))
	}
	noSecrets(t, r, pop3BoxPass, pop3SMTPPass, "not-the-mailbox-password")
}

// TestPOP3MaildropBusy: a look refused with a temporary reply ([IN-USE]) is
// retried at the next look.
func TestPOP3MaildropBusy(t *testing.T) {
	leak.Check(t)
	rig := pop3Fakes(t, pop3RigOpts{pop: fakepop3.Options{Override: func(c fakepop3.Command) ([]string, bool) {
		if c.Conn == 2 && strings.HasPrefix(c.Line, "PASS ") {
			return []string{"-ERR [IN-USE] maildrop is locked by another session"}, true
		}
		return nil, false
	}}})
	r := rig.run()
	pop3WantUp(t, r)
	if n := attempts(t, r); n != 2 {
		t.Errorf("%d attempts, want 2: the first look was refused", n)
	}
	if !slices.ContainsFunc(r.Transcript, func(l string) bool { return strings.Contains(l, "[IN-USE]") }) {
		t.Errorf("the refusal is not in the transcript")
	}
}
