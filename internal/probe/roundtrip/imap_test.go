package roundtrip

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/mailmon/mailmon/internal/mail/imap"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakeimap"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/leak"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

// The accounts of the IMAP round-trip fakes; the secrets are long enough
// that finding one in a result is no accident.
const (
	imapBox      = "box@example.org"
	imapBoxPass  = "imap-mailbox-password-24680"
	imapSender   = "monitor@example.org"
	imapSMTPPass = "imap-smtp-password-13579"
)

// imapRig is a fake SMTP server that delivers into a fake IMAP server, and
// an imap-roundtrip config for the pair.
type imapRig struct {
	imap   *fakeimap.Server
	smtp   *fakesmtp.Server
	cfg    probe.Config
	prober probe.Prober // nil: ProbeIMAP

	mu   sync.Mutex
	took time.Duration // the last delivery: from the SMTP fake's acceptance to its delivery into the mailbox
}

// delivered is how long the fakes took to deliver the last message: the
// delay asked for, and however late a loaded machine ran the delivery.
func (r *imapRig) delivered() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.took
}

type imapRigOpts struct {
	imap     fakeimap.Options // the user imapBox is added, with mail
	mail     map[string][]string
	imapMode probe.TLSMode // default none (with plaintext login allowed)
	smtp     fakesmtp.Options
	smtpMode probe.TLSMode
	smtpAuth bool
	// imapCert and smtpCert, if set, make the legs' certificates (else
	// valid ones) from the rig's CA.
	imapCert, smtpCert func(*certs.CA, testing.TB) tls.Certificate
	folder             string        // where the SMTP fake delivers; default INBOX
	delay              time.Duration // after the SMTP fake accepted the message
	drop               bool          // never deliver
}

// imapFakes starts the fakes; deliveries in flight are waited for at
// cleanup.
func imapFakes(t *testing.T, o imapRigOpts) *imapRig {
	t.Helper()
	o.imap.Users = append(o.imap.Users, fakeimap.User{Name: imapBox, Password: imapBoxPass, Mail: o.mail})
	cfg := probe.Config{Type: "imap-roundtrip", TLS: probe.TLSNone, AllowPlaintextAuth: true}
	if o.imapMode != "" && o.imapMode != probe.TLSNone {
		ca := certs.NewCA(t)
		o.imap.TLSConfig = certs.ServerConfig(rigCert(t, ca, o.imapCert))
		o.imap.Implicit = o.imapMode == probe.TLSImplicit
		cfg.TLS, cfg.CAFile, cfg.AllowPlaintextAuth = o.imapMode, ca.File(t), false
	} else {
		o.imap.InsecureAuth = true
	}
	im := fakeimap.Start(t, o.imap)

	folder := o.folder
	if folder == "" {
		folder = "INBOX"
	}
	rig := &imapRig{imap: im}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // runs before the servers' cleanups
	o.smtp.OnData = func(m fakesmtp.Message) {
		if o.drop {
			return
		}
		accepted := time.Now()
		wg.Add(1)
		time.AfterFunc(o.delay, func() {
			defer wg.Done()
			// Noted before the message is there, so before the probe
			// can have seen it.
			rig.mu.Lock()
			rig.took = time.Since(accepted)
			rig.mu.Unlock()
			if err := im.Append(imapBox, folder, m.Data); err != nil {
				t.Errorf("delivery into %s: %v", folder, err)
			}
		})
	}
	smtpCfg := &probe.Config{TLS: probe.TLSNone, EHLOName: "monitor.example.org"}
	if o.smtpMode != "" && o.smtpMode != probe.TLSNone {
		ca := certs.NewCA(t)
		o.smtp.TLS = certs.ServerConfig(rigCert(t, ca, o.smtpCert))
		o.smtp.Implicit = o.smtpMode == probe.TLSImplicit
		smtpCfg.TLS, smtpCfg.CAFile = o.smtpMode, ca.File(t)
	}
	if o.smtpAuth {
		o.smtp.Accounts = saslsrv.Accounts{Passwords: map[string]string{imapSender: imapSMTPPass}}
		smtpCfg.User, smtpCfg.Password, smtpCfg.Auth = imapSender, imapSMTPPass, "PLAIN"
	}
	sm := fakesmtp.Start(t, o.smtp)
	smtpCfg.Host, smtpCfg.Port = sm.Host, sm.Port

	cfg.Host, cfg.Port = im.Host, im.Port
	cfg.User, cfg.Password, cfg.Timeout = imapBox, imapBoxPass, 5*time.Second
	cfg.SMTP, cfg.From, cfg.To, cfg.Monitor, cfg.InstallationKey = smtpCfg, imapSender, imapBox, "imap fake", testKey
	cfg.PollInterval = 300 * time.Millisecond
	rig.smtp, rig.cfg = sm, cfg
	return rig
}

func rigCert(t *testing.T, ca *certs.CA, make func(*certs.CA, testing.TB) tls.Certificate) tls.Certificate {
	if make == nil {
		return ca.Issue(t, certs.Leaf{})
	}
	return make(ca, t)
}

// imapEarly: the fakes start the delivery delay when the message arrives,
// a moment before the client reads the SMTP server's acceptance.
const imapEarly = 10 * time.Millisecond

func (r *imapRig) run() *probe.Result {
	if r.prober == nil {
		return probe.Run(context.Background(), IMAPKind(), r.cfg)
	}
	return probe.Run(context.Background(), imapWith(r.prober), r.cfg)
}

// imapProber is ProbeIMAP with its mailbox leg adjusted by setup.
func imapProber(setup func(*imapMailbox)) probe.Prober {
	return func(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
		m := newIMAPMailbox(cfg, t)
		setup(m)
		return run(ctx, cfg, t, m)
	}
}

// Ways of waiting: IDLE (or polling) alone, without the sprint.
var (
	imapIdleOnly = imapProber(func(m *imapMailbox) { m.sprint = 0 })
	imapPollOnly = imapProber(func(m *imapMailbox) { m.sprint, m.noIdle = 0, true })
)

func imapWantUp(t *testing.T, r *probe.Result) {
	t.Helper()
	if r.Status != probe.StatusUp || r.Error != nil {
		t.Fatalf("status %s, want up:\n%s", r.Status, dump(r))
	}
}

func imapWantCode(t *testing.T, r *probe.Result, status probe.Status, code probe.Code, phase string) {
	t.Helper()
	if r.Status != status || r.Error == nil || r.Error.Code != code || r.Error.Phase != phase {
		t.Fatalf("status %s, want %s with %s in phase %q:\n%s", r.Status, status, code, phase, dump(r))
	}
}

// imapHasPhases fails unless every named phase is in the result.
func imapHasPhases(t *testing.T, r *probe.Result, names ...string) {
	t.Helper()
	for _, n := range names {
		if !slices.Contains(phaseNames(r), n) {
			t.Errorf("no phase %q in %v", n, phaseNames(r))
		}
	}
}

// imapStamped returns the messages carrying a probe stamp.
func imapStamped(msgs []fakeimap.Message) []fakeimap.Message {
	var out []fakeimap.Message
	for _, m := range msgs {
		if bytes.Contains(m.Raw, []byte(Header+":")) {
			out = append(out, m)
		}
	}
	return out
}

func TestIMAPRoundTrip(t *testing.T) {
	const delay = 150 * time.Millisecond
	type tc struct {
		name     string
		o        imapRigOpts
		prober   probe.Prober
		idle     bool          // the mailbox leg may idle: the server offers IDLE, and polling is not forced
		cmds     []string      // commands the wait must have used
		maxDelay time.Duration // reported delivery at most delay + this
	}
	tests := []tc{
		{name: "sprint (default)", idle: true, cmds: []string{"NOOP"}, maxDelay: 50 * time.Millisecond},
		{name: "IDLE", prober: imapIdleOnly, idle: true, cmds: []string{"IDLE"}, maxDelay: 50 * time.Millisecond},
		{name: "polling", prober: imapPollOnly, cmds: []string{"NOOP"}, maxDelay: 400 * time.Millisecond},
		{name: "IDLE not offered", o: imapRigOpts{imap: fakeimap.Options{HideCaps: []string{"IDLE"}}}, cmds: []string{"NOOP"}, maxDelay: 50 * time.Millisecond},
		{name: "IMAP4rev2 server, IDLE", o: imapRigOpts{imap: fakeimap.Options{Rev2: true}}, prober: imapIdleOnly, idle: true, cmds: []string{"IDLE"}, maxDelay: 50 * time.Millisecond},
		{name: "UIDPLUS, SPECIAL-USE", o: imapRigOpts{imap: fakeimap.Options{Caps: []goimap.Cap{goimap.CapUIDPlus, goimap.CapListExtended},
			SpecialUse: map[string]goimap.MailboxAttr{"Spam": goimap.MailboxAttrJunk}}, mail: map[string][]string{"Spam": nil}},
			idle: true, cmds: []string{"UID EXPUNGE", "STATUS"}, maxDelay: 50 * time.Millisecond},
		{name: "STARTTLS on both legs, SMTP AUTH", o: imapRigOpts{imapMode: probe.TLSStartTLS, smtpMode: probe.TLSStartTLS, smtpAuth: true},
			prober: imapIdleOnly, idle: true, cmds: []string{"IDLE"}, maxDelay: 50 * time.Millisecond},
		{name: "implicit TLS on both legs", o: imapRigOpts{imapMode: probe.TLSImplicit, smtpMode: probe.TLSImplicit, smtpAuth: true},
			idle: true, maxDelay: 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			tt.o.delay = delay
			rig := imapFakes(t, tt.o)
			rig.prober = tt.prober
			var r *probe.Result
			_, stalled := hostile.Stalled(func() { r = rig.run() })
			imapWantUp(t, r)
			// The probe must see the message within maxDelay of its
			// delivery: of when the fake delivered it (the delay asked
			// for, and however late a loaded machine ran it), not of
			// when it was asked to, give or take the longest the machine
			// stalled meanwhile (the probe's clock and the fakes' run in
			// different goroutines: one may wake late).
			took := rig.delivered()
			if r.Delivery < delay-imapEarly-stalled || r.Delivery >= r.RTT || r.Delivery > took+tt.maxDelay+stalled {
				t.Errorf("delivery %v, rtt %v: want it within %v of the delivery %v later (asked for %v; the machine stalled up to %v)", r.Delivery, r.RTT, tt.maxDelay, took, delay, stalled)
			}
			imapHasPhases(t, r, "connect", "greeting", "auth", "select", "sweep", "junk_folder",
				"smtp_connect", "smtp_mail", "smtp_rcpt", "smtp_data", "wait", "fetch", "delete", "quit")
			cmds := rig.imap.Commands()
			for _, c := range tt.cmds {
				if !slices.Contains(cmds, c) {
					t.Errorf("no %s in %v", c, cmds)
				}
			}
			if !tt.idle && slices.Contains(cmds, "IDLE") {
				t.Errorf("IDLE sent: %v", cmds)
			}
			if r.Details["idle"] != tt.idle {
				t.Errorf("detail idle = %v", r.Details["idle"])
			}
			if left := imapStamped(rig.imap.Snapshot(t, imapBox, "INBOX")); len(left) > 0 {
				t.Errorf("the probe is still there: %q", left[0].Raw)
			}
			if cmds[len(cmds)-1] != "LOGOUT" {
				t.Errorf("the session did not end with LOGOUT: %v", cmds)
			}
			noSecrets(t, r, imapBoxPass, imapSMTPPass)
			if t.Failed() {
				t.Log(dump(r))
			}
		})
	}
}

// imapUnrelated is the i-th ordinary message of a mailbox under test.
func imapUnrelated(i int) string {
	switch i % 5 {
	case 1: // mentions the probe header in its body: a header search must not match it
		return fmt.Sprintf("From: a%d@example.net\r\nSubject: about %s\r\n\r\n%s: v1 %032d 1 00\r\n", i, Header, Header, i)
	case 2: // 8-bit, no final line break
		return fmt.Sprintf("From: b%d@example.net\r\nSubject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ngrüße %d", i, i)
	case 3: // a look-alike subject
		return fmt.Sprintf("From: c%d@example.net\r\nSubject: mailmon probe imap fake %032x\r\n\r\nhi\r\n", i, i)
	}
	return fmt.Sprintf("From: d%d@example.net\r\nTo: %s\r\nSubject: message %d\r\nMessage-ID: <%d@example.net>\r\n\r\n%s\r\n", i, imapBox, i, i, strings.Repeat("line\r\n", i))
}

// imapForged is a probe of this installation with its HMAC replaced.
func imapForged(t *testing.T, created time.Time) []byte {
	t.Helper()
	p, err := NewProbe(testKey, "imap fake", imapSender, imapBox, created)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(p.Raw)
	i := strings.Index(raw, Header+": ")
	end := i + strings.Index(raw[i:], "\r\n")
	f := strings.Fields(raw[i:end])
	return []byte(raw[:i] + Header + ": " + strings.Join(f[1:4], " ") + " " + strings.Repeat("0", 64) + raw[end:])
}

// TestIMAPMailboxSafety: a mailbox of 100 ordinary messages (some flagged,
// one flagged \Deleted by its owner), probes of another installation, a
// forged probe, a fresh probe of a concurrent run and a stale probe of this
// installation. After the round trip only this run's probe and the stale
// one are gone (or, without UIDPLUS and with another message flagged
// \Deleted, flagged and kept); everything else is byte for byte as it was,
// flags included; only the probe's header fields were read.
func TestIMAPMailboxSafety(t *testing.T) {
	tests := []struct {
		name       string
		caps       []goimap.Cap
		preDeleted bool
		expunged   bool
	}{
		{name: "UIDPLUS", caps: []goimap.Cap{goimap.CapUIDPlus}, preDeleted: true, expunged: true},
		{name: "no UIDPLUS, nothing else flagged \\Deleted", expunged: true},
		{name: "no UIDPLUS, another message flagged \\Deleted", preDeleted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			rig := imapFakes(t, imapRigOpts{imap: fakeimap.Options{Caps: tt.caps}, delay: 50 * time.Millisecond})
			add := func(raw []byte, flags ...string) {
				t.Helper()
				if err := rig.imap.Append(imapBox, "INBOX", raw, flags...); err != nil {
					t.Fatal(err)
				}
			}
			now := time.Now()
			for i := range 100 {
				var flags []string
				switch {
				case i%7 == 0:
					flags = []string{`\Seen`, `\Flagged`}
				case i%11 == 0:
					flags = []string{`\Answered`, "$Label1"}
				case i == 50 && tt.preDeleted:
					flags = []string{`\Deleted`, `\Seen`}
				}
				add([]byte(imapUnrelated(i)), flags...)
			}
			for _, created := range []time.Time{now, now.Add(-2 * time.Hour), now.Add(-30 * 24 * time.Hour)} {
				theirs, _ := NewProbe(otherKey, "imap fake", imapSender, imapBox, created)
				add(theirs.Raw)
			}
			add(imapForged(t, now.Add(-3*time.Hour)))
			concurrent, _ := NewProbe(testKey, "another monitor", imapSender, imapBox, now.Add(-time.Minute))
			add(concurrent.Raw, `\Seen`)
			stale, _ := NewProbe(testKey, "imap fake", imapSender, imapBox, now.Add(-2*time.Hour))
			add(stale.Raw)
			before := rig.imap.Snapshot(t, imapBox, "INBOX")
			staleUID := before[len(before)-1].UID

			r := rig.run()
			imapWantUp(t, r)
			after := rig.imap.Snapshot(t, imapBox, "INBOX")

			byUID := map[uint32]fakeimap.Message{}
			for _, m := range after {
				byUID[m.UID] = m
			}
			for _, m := range before {
				got, ok := byUID[m.UID]
				delete(byUID, m.UID)
				switch {
				case m.UID == staleUID && tt.expunged:
					if ok {
						t.Error("the stale probe is still there")
					}
				case m.UID == staleUID:
					if !ok || !slices.Contains(got.Flags, `\Deleted`) {
						t.Errorf("the stale probe: %v, flags %v; want it kept, flagged \\Deleted", ok, got.Flags)
					}
				case !ok:
					t.Errorf("message %d is gone: %q", m.UID, m.Raw)
				case !bytes.Equal(got.Raw, m.Raw) || !slices.Equal(got.Flags, m.Flags):
					t.Errorf("message %d changed: flags %v → %v, %q → %q", m.UID, m.Flags, got.Flags, m.Raw, got.Raw)
				}
			}
			// The one message that arrived during the run is this run's
			// probe, with the next UID; it is gone or, kept, flagged.
			probeUID := staleUID + 1
			for uid, m := range byUID {
				if tt.expunged || uid != probeUID || !slices.Contains(m.Flags, `\Deleted`) {
					t.Errorf("new message %d (flags %v) is left: %q", uid, m.Flags, m.Raw)
				}
			}
			swept := 0
			if tt.expunged {
				swept = 1
			} else if r.Details["left_flagged_deleted"] != 2 {
				t.Errorf("left_flagged_deleted = %v, want 2", r.Details["left_flagged_deleted"])
			}
			if r.Details["swept"] != swept {
				t.Errorf("swept = %v, want %d", r.Details["swept"], swept)
			}
			imapTouchedOnly(t, rig.imap.ClientLines(), staleUID, probeUID, tt.expunged)
			noSecrets(t, r, imapBoxPass, imapSMTPPass)
		})
	}
}

// imapTouchedOnly checks what the client sent: FETCH of header fields only,
// STORE and UID EXPUNGE of the stale probe and this run's probe only, and
// plain EXPUNGE only when it was safe.
func imapTouchedOnly(t *testing.T, lines []string, staleUID, probeUID uint32, expungeOK bool) {
	t.Helper()
	allowed := []uint32{staleUID, probeUID}
	within := func(set string) bool {
		uids, err := imap.ParseSet(set, nil, 100)
		return err == nil && !slices.ContainsFunc(uids, func(u uint32) bool { return !slices.Contains(allowed, u) })
	}
	for _, l := range lines {
		f := strings.Fields(strings.ToUpper(l))
		if len(f) < 2 {
			continue
		}
		cmd := f[1:]
		if cmd[0] == "UID" && len(cmd) > 1 {
			cmd = cmd[1:]
		}
		switch cmd[0] {
		case "FETCH":
			if !strings.Contains(l, "(UID BODY.PEEK[HEADER.FIELDS (Subject X-Mailmon-Probe Authentication-Results)])") {
				t.Errorf("the client sent %q: only the probe's header fields may be read", l)
			}
		case "STORE":
			if f[1] != "UID" || !within(f[3]) || f[4] != "+FLAGS.SILENT" || f[5] != `(\DELETED)` {
				t.Errorf("the client sent %q", l)
			}
		case "EXPUNGE":
			if f[1] == "UID" && !within(f[3]) || f[1] != "UID" && !expungeOK {
				t.Errorf("the client sent %q", l)
			}
		case "COPY", "MOVE", "APPEND", "DELETE", "RENAME":
			t.Errorf("the client sent %q", l)
		}
	}
}

func TestIMAPLateArrival(t *testing.T) {
	tests := []struct {
		name   string
		o      imapRigOpts
		prober probe.Prober
		cmd    string
	}{
		{"after the sprint, IDLE", imapRigOpts{delay: 2 * time.Second}, nil, "IDLE"},
		{"polling", imapRigOpts{delay: 1200 * time.Millisecond}, imapPollOnly, "NOOP"},
		{"IDLE not offered, after the sprint", imapRigOpts{delay: 2 * time.Second, imap: fakeimap.Options{HideCaps: []string{"IDLE"}}}, nil, "NOOP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			rig := imapFakes(t, tt.o)
			rig.prober = tt.prober
			r := rig.run()
			imapWantUp(t, r)
			if n := attempts(t, r); n < 3 {
				t.Errorf("%d attempts: the probe was found on a later look", n)
			}
			if r.Delivery < tt.o.delay-imapEarly || r.Delivery > tt.o.delay+rig.cfg.PollInterval+100*time.Millisecond {
				t.Errorf("delivery %v for a delivery %v late", r.Delivery, tt.o.delay)
			}
			if !slices.Contains(rig.imap.Commands(), tt.cmd) {
				t.Errorf("no %s in %v", tt.cmd, rig.imap.Commands())
			}
			noSecrets(t, r, imapBoxPass, imapSMTPPass)
		})
	}
}

// A probe that never arrives is not_delivered within the timeout + 100 ms,
// and the session still ends with DONE and LOGOUT.
func TestIMAPNotDelivered(t *testing.T) {
	tests := []struct {
		name   string
		o      imapRigOpts
		prober probe.Prober
		idle   bool
		looks  int // full looks at least: the sprint's 1.5 s leaves room for fewer in 2 s
	}{
		{"sprint, then IDLE", imapRigOpts{drop: true}, nil, true, 2},
		{"IDLE", imapRigOpts{drop: true}, imapIdleOnly, true, 3},
		{"polling", imapRigOpts{drop: true, imap: fakeimap.Options{HideCaps: []string{"IDLE"}}}, nil, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			rig := imapFakes(t, tt.o)
			rig.prober = tt.prober
			rig.cfg.Timeout, rig.cfg.PollInterval = 2*time.Second, 500*time.Millisecond
			start := time.Now()
			r := rig.run()
			if took := time.Since(start); took > rig.cfg.Timeout+100*time.Millisecond {
				t.Errorf("took %v with a timeout of %v", took, rig.cfg.Timeout)
			}
			imapWantCode(t, r, probe.StatusDown, probe.NotDelivered, "wait")
			cmds := rig.imap.Commands()
			if cmds[len(cmds)-1] != "LOGOUT" || slices.Contains(cmds, "IDLE") != tt.idle {
				t.Errorf("commands %v", cmds)
			}
			if tt.idle && !slices.Contains(rig.imap.ClientLines(), "DONE") {
				t.Error("IDLE was not left with DONE")
			}
			if n := attempts(t, r); n < tt.looks {
				t.Errorf("%d attempts, want %d at least", n, tt.looks)
			}
			noSecrets(t, r, imapBoxPass, imapSMTPPass)
		})
	}
}

func TestIMAPSendRejected(t *testing.T) {
	imapRefusal := &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox here"}
	tests := []struct {
		name  string
		smtp  fakesmtp.Options
		phase string
	}{
		{"RCPT", fakesmtp.Options{FailRcpt: imapRefusal}, "smtp_rcpt"},
		{"DATA", fakesmtp.Options{FailData: imapRefusal}, "smtp_data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			rig := imapFakes(t, imapRigOpts{smtp: tt.smtp})
			r := rig.run()
			imapWantCode(t, r, probe.StatusDown, probe.SendRejected, tt.phase)
			if !strings.Contains(r.Error.Reply, "550") || !strings.Contains(r.Error.Reply, "no such mailbox here") {
				t.Errorf("reply %q", r.Error.Reply)
			}
			if cmds := rig.imap.Commands(); cmds[len(cmds)-1] != "LOGOUT" || slices.Contains(cmds, "IDLE") {
				t.Errorf("commands %v", cmds)
			}
			noSecrets(t, r, imapBoxPass, imapSMTPPass)
		})
	}
}

// A wrong mailbox password fails before any probe is sent.
func TestIMAPWrongPassword(t *testing.T) {
	leak.Check(t)
	rig := imapFakes(t, imapRigOpts{})
	rig.cfg.Password = "not-the-imap-password"
	r := rig.run()
	imapWantCode(t, r, probe.StatusDown, probe.AuthFailed, "auth")
	if len(rig.smtp.Messages()) != 0 || len(rig.smtp.Commands()) != 0 {
		t.Errorf("the SMTP leg ran: %v", rig.smtp.Commands())
	}
	for _, p := range phaseNames(r) {
		if strings.HasPrefix(p, "smtp_") {
			t.Errorf("phase %s", p)
		}
	}
	noSecrets(t, r, imapBoxPass, imapSMTPPass, "not-the-imap-password")
}

// A probe delivered to the junk folder is found there, deleted there, and
// reported as delivered_to_junk (a Warn); the other junk stays, and the
// session looked into the junk folder read-only until the probe was there.
func TestIMAPJunk(t *testing.T) {
	spam := "From: spammer@example.net\r\nSubject: cheap\r\n\r\nbuy\r\n"
	tests := []struct {
		name   string
		o      imapRigOpts
		prober probe.Prober
		folder string
	}{
		{"\\Junk with LIST-EXTENDED", imapRigOpts{imap: fakeimap.Options{Caps: []goimap.Cap{goimap.CapListExtended},
			SpecialUse: map[string]goimap.MailboxAttr{"Bulk Mail": goimap.MailboxAttrJunk}}}, imapIdleOnly, "Bulk Mail"},
		{"\\Junk in a plain LIST", imapRigOpts{imap: fakeimap.Options{
			SpecialUse: map[string]goimap.MailboxAttr{"Unwanted": goimap.MailboxAttrJunk}}}, imapIdleOnly, "Unwanted"},
		{"by name", imapRigOpts{}, imapIdleOnly, "Junk"},
		{"by name, under INBOX, after the sprint", imapRigOpts{}, nil, "INBOX/Spam"},
		{"by name, polling", imapRigOpts{imap: fakeimap.Options{HideCaps: []string{"IDLE"}}}, imapPollOnly, "Spam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			tt.o.mail = map[string][]string{tt.folder: {spam}, "Archive": {spam}, "INBOX": {imapUnrelated(4)}}
			tt.o.folder, tt.o.delay = tt.folder, 200*time.Millisecond
			rig := imapFakes(t, tt.o)
			rig.prober = tt.prober
			r := rig.run()
			imapWantCode(t, r, probe.StatusWarn, probe.DeliveredToJunk, "")
			if r.Details["folder"] != tt.folder || r.Details["junk_folder"] != tt.folder {
				t.Errorf("folder %v, junk_folder %v", r.Details["folder"], r.Details["junk_folder"])
			}
			if r.Delivery < tt.o.delay-imapEarly || r.Delivery >= r.RTT {
				t.Errorf("delivery %v, rtt %v", r.Delivery, r.RTT)
			}
			junk := rig.imap.Snapshot(t, imapBox, tt.folder)
			if len(junk) != 1 || string(junk[0].Raw) != spam || len(junk[0].Flags) != 0 {
				t.Errorf("the junk folder holds %+v", junk)
			}
			if inbox := rig.imap.Snapshot(t, imapBox, "INBOX"); len(inbox) != 1 || string(inbox[0].Raw) != imapUnrelated(4) {
				t.Errorf("INBOX holds %+v", inbox)
			}
			var examined, selected int
			for _, l := range rig.imap.ClientLines() {
				switch {
				case strings.Contains(l, " EXAMINE "):
					examined++
				case strings.Contains(l, " SELECT ") && !strings.HasSuffix(l, `"INBOX"`):
					selected++
				}
			}
			if examined == 0 || selected != 1 {
				t.Errorf("junk folder examined %d times, selected %d times:\n%s", examined, selected, strings.Join(rig.imap.ClientLines(), "\n"))
			}
			noSecrets(t, r, imapBoxPass, imapSMTPPass)
		})
	}
}

func TestIMAPArrivals(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	resp := func(s string) *imap.Response { return &imap.Response{Tag: "*", Lines: []string{"* " + s}} }
	var a imapArrivals
	a.reset(3, at(0))
	steps := []struct {
		news string
		grew bool
	}{
		{"4 EXISTS", true},  // at 1: message 4
		{"4 EXISTS", false}, // at 2: nothing new
		{"1 RECENT", false},
		{"6 EXISTS", true},   // at 4: messages 5 and 6
		{"2 EXPUNGE", false}, // at 5: 4, 5, 6 are now 3, 4, 5
		{"OK still here", false},
	}
	for i, s := range steps {
		if got := a.observe(resp(s.news), at(i+1)); got != s.grew {
			t.Errorf("%s: grew %v", s.news, got)
		}
	}
	for seq, want := range map[uint32]int{1: 0, 2: 0, 3: 1, 4: 4, 5: 4} {
		if got, ok := a.shown(seq); !ok || !got.Equal(at(want)) {
			t.Errorf("shown(%d) = %v, %v; want %v", seq, got, ok, at(want))
		}
	}
	if _, ok := a.shown(6); ok {
		t.Error("message 6 was never counted")
	}
	for i := range 2 * imapMaxArrivals {
		a.observe(resp(strconv.Itoa(6+i)+" EXISTS"), at(100+i))
	}
	if len(a.log) > imapMaxArrivals {
		t.Errorf("the log holds %d entries", len(a.log))
	}
	if got, _ := a.shown(1); !got.Equal(at(0)) {
		t.Errorf("the baseline is gone: %v", got)
	}
}

func TestIMAPPickJunk(t *testing.T) {
	item := func(name, delim string, attrs ...string) imap.ListItem {
		return imap.ListItem{Name: name, Delim: delim, Attrs: attrs}
	}
	tests := []struct {
		name   string
		items  []imap.ListItem
		byName bool
		want   string
	}{
		{"\\Junk wins over names", []imap.ListItem{item("Junk", "/"), item("Quarantäne", "/", `\HasNoChildren`, `\Junk`)}, true, "Quarantäne"},
		{"\\Junk only when asked for special use", []imap.ListItem{item("Junk", "/")}, false, ""},
		{"names in order", []imap.ListItem{item("Spam", "."), item("Junk", ".")}, true, "Junk"},
		{"case", []imap.ListItem{item("JUNK E-MAIL", "/")}, true, "JUNK E-MAIL"},
		{"under INBOX with dots", []imap.ListItem{item("INBOX", "."), item("INBOX.Spam", ".")}, true, "INBOX.Spam"},
		{"Gmail", []imap.ListItem{item("[Gmail]", "/", `\Noselect`), item("[Gmail]/Spam", "/")}, true, "[Gmail]/Spam"},
		{"not selectable", []imap.ListItem{item("Junk", "/", `\Noselect`), item("Spam", "/", `\NonExistent`, `\Junk`)}, true, ""},
		{"never INBOX", []imap.ListItem{item("INBOX", "/", `\Junk`)}, true, ""},
		{"none", []imap.ListItem{item("INBOX", "/"), item("Archive", "/")}, true, ""},
	}
	for _, tt := range tests {
		if got := imapPickJunk(tt.items, tt.byName); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestIMAPSweepNotCrowdedOut: a mailbox holding more stale probes of
// another installation than the sweep looks at still gets this
// installation's stale probe swept, and theirs all stay.
func TestIMAPSweepNotCrowdedOut(t *testing.T) {
	leak.Check(t)
	rig := imapFakes(t, imapRigOpts{imap: fakeimap.Options{Caps: []goimap.Cap{goimap.CapUIDPlus}}, delay: 20 * time.Millisecond})
	old := time.Now().Add(-48 * time.Hour)
	for range imapSweepMax + 20 {
		theirs, _ := NewProbe(otherKey, "elsewhere", imapSender, imapBox, old)
		if err := rig.imap.Append(imapBox, "INBOX", theirs.Raw); err != nil {
			t.Fatal(err)
		}
	}
	mine, _ := NewProbe(testKey, "left behind", imapSender, imapBox, old)
	if err := rig.imap.Append(imapBox, "INBOX", mine.Raw); err != nil {
		t.Fatal(err)
	}
	r := rig.run()
	imapWantUp(t, r)
	if r.Details["swept"] != 1 {
		t.Errorf("swept %v, want 1", r.Details["swept"])
	}
	left := imapStamped(rig.imap.Snapshot(t, imapBox, "INBOX"))
	if len(left) != imapSweepMax+20 {
		t.Errorf("%d stamped messages left, want the other installation's %d", len(left), imapSweepMax+20)
	}
	for _, m := range left {
		if strings.Contains(string(m.Raw), mine.Nonce) {
			t.Error("this installation's stale probe is still there")
		}
	}
}

// TestIMAPSprintEndsMidLook: the sprint ends while a look's SEARCH is on
// the wire, so the wait goes from that look straight into IDLE. IDLE reads
// on a goroutine of its own (here news that is no delivery) while DONE is
// written when PollInterval ends it: the transcript must be loud again by
// then (IDLE and DONE on record), and under -race the connection's count
// of left-out lines must not be shared unguarded.
func TestIMAPSprintEndsMidLook(t *testing.T) {
	leak.Check(t)
	const search = 100 * time.Millisecond
	// The probe lands after the first IDLE ended by its timer.
	rig := imapFakes(t, imapRigOpts{imap: fakeimap.Options{SearchDelay: search, IdleNews: true}, delay: 8 * search})
	rig.prober = imapProber(func(m *imapMailbox) { m.sprint = search / 3 })
	r := rig.run()
	imapWantUp(t, r)
	if !slices.Contains(rig.imap.Commands(), "IDLE") || !slices.Contains(rig.imap.ClientLines(), "DONE") {
		t.Fatalf("the wait did not idle: %v", rig.imap.Commands())
	}
	var idle, done bool
	for _, l := range r.Transcript {
		idle = idle || strings.HasPrefix(l, "C: ") && strings.HasSuffix(l, " IDLE")
		done = done || l == "C: DONE"
	}
	if !idle || !done {
		t.Errorf("IDLE (%v) and DONE (%v) not in the transcript:\n%s", idle, done, strings.Join(r.Transcript, "\n"))
	}
}
