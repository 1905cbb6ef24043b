package imap

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/sasl"
	scriptedconn "github.com/mailmon/mailmon/internal/testutil/scripted"
	"github.com/mailmon/mailmon/internal/wire"
)

// scripted runs a client against a server script (package scripted).
func scripted(t *testing.T, script ...string) (*Client, *wire.Transcript) {
	t.Helper()
	conn, tr := scriptedconn.Conn(t, script...)
	return NewClient(conn, Options{}), tr
}

func greeted(t *testing.T, caps string, script ...string) (*Client, *wire.Transcript) {
	t.Helper()
	cl, tr := scripted(t, append([]string{"S: * OK [CAPABILITY " + caps + "] ready"}, script...)...)
	if _, err := cl.Greeting(); err != nil {
		t.Fatalf("greeting: %v", err)
	}
	return cl, tr
}

func wantViolation(t *testing.T, err error) {
	t.Helper()
	if !isViolation(err) {
		t.Fatalf("err = %v (%T), want a protocol violation", err, err)
	}
}

func wantServerError(t *testing.T, err error, reply string) *wire.ServerError {
	t.Helper()
	var se *wire.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want a *wire.ServerError", err, err)
	}
	if se.Reply != reply {
		t.Errorf("reply = %q, want %q", se.Reply, reply)
	}
	return se
}

func wantAuthError(t *testing.T, err error) *wire.AuthError {
	t.Helper()
	var ae *wire.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want a *wire.AuthError", err, err)
	}
	return ae
}

func transcriptHas(t *testing.T, tr *wire.Transcript, line string) {
	t.Helper()
	if !slices.Contains(tr.Lines(), line) {
		t.Errorf("transcript lacks %q:\n%s", line, strings.Join(tr.Lines(), "\n"))
	}
}

func transcriptLacks(t *testing.T, tr *wire.Transcript, secrets ...string) {
	t.Helper()
	all := strings.Join(tr.Lines(), "\n")
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("transcript holds secret %q:\n%s", s, all)
		}
	}
}

func TestGreeting(t *testing.T) {
	tests := []struct {
		line    string
		typ     string
		caps    bool
		refusal bool // a *wire.ServerError; else a violation when typ is ""
	}{
		{line: "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready", typ: OK, caps: true},
		{line: "* OK IMAP4rev1 server ready", typ: OK},
		{line: "* PREAUTH [CAPABILITY IMAP4rev2] logged in", typ: PREAUTH, caps: true},
		{line: "* BYE too many connections from your IP", typ: BYE, refusal: true},
		{line: "* NO not now"},
		{line: "* CAPABILITY IMAP4rev1"},
		{line: "a1 OK hello"},
		{line: "+ hello"},
		{line: "220 smtp.example.com ESMTP"},
		{line: "+OK POP3 ready"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			cl, _ := scripted(t, "S: "+tt.line)
			st, err := cl.Greeting()
			switch {
			case tt.refusal:
				wantServerError(t, err, tt.line)
				if cl.Bye() == nil {
					t.Error("BYE not kept")
				}
			case tt.typ == "":
				wantViolation(t, err)
			case err != nil:
				t.Fatal(err)
			case st.Type != tt.typ:
				t.Errorf("type %q, want %q", st.Type, tt.typ)
			}
			if cl.HasCaps() != tt.caps {
				t.Errorf("HasCaps() = %v, want %v", cl.HasCaps(), tt.caps)
			}
		})
	}
}

func TestCapability(t *testing.T) {
	cl, _ := scripted(t,
		"S: * OK hi",
		"C: a1 CAPABILITY",
		"S: * CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN auth=xoauth2 LOGINDISABLED",
		"S: a1 OK done")
	if _, err := cl.Greeting(); err != nil {
		t.Fatal(err)
	}
	caps, err := cl.Capability()
	if err != nil {
		t.Fatal(err)
	}
	if len(caps) != 5 || !cl.Has("starttls") || !cl.Has("LOGINDISABLED") {
		t.Errorf("caps %v", caps)
	}
	if got := cl.AuthMechanisms(); !slices.Equal(got, []string{"PLAIN", "XOAUTH2"}) {
		t.Errorf("AuthMechanisms() = %v", got)
	}
}

func TestCapabilityViolations(t *testing.T) {
	tests := map[string][]string{
		"no list":          {"C: a1 CAPABILITY", "S: a1 OK done"},
		"no IMAP4rev1":     {"C: a1 CAPABILITY", "S: * CAPABILITY POP3 SMTP", "S: a1 OK done"},
		"foreign tag":      {"C: a1 CAPABILITY", "S: * CAPABILITY IMAP4rev1", "S: a7 OK done"},
		"continuation":     {"C: a1 CAPABILITY", "S: + more?"},
		"literal cap":      {"C: a1 CAPABILITY", "S: * CAPABILITY {8}", "S: IMAP4rev1", "S: a1 OK"},
		"tagged PREAUTH":   {"C: a1 CAPABILITY", "S: * CAPABILITY IMAP4rev1", "S: a1 PREAUTH x"},
		"garbage complete": {"C: a1 CAPABILITY", "S: * CAPABILITY IMAP4rev1", "S: a1 MAYBE"},
	}
	for name, script := range tests {
		t.Run(name, func(t *testing.T) {
			cl, _ := scripted(t, append([]string{"S: * OK hi"}, script...)...)
			if _, err := cl.Greeting(); err != nil {
				t.Fatal(err)
			}
			_, err := cl.Capability()
			wantViolation(t, err)
		})
	}
}

// An endless untagged reply fails at the reply-lines cap.
func TestEndlessUntagged(t *testing.T) {
	script := []string{"S: * OK hi", "C: a1 CAPABILITY", "S: * CAPABILITY IMAP4rev1"}
	for range wire.DefaultLimits().MaxReplyLines + 5 {
		script = append(script, "S: * OK x")
	}
	cl, _ := scripted(t, script...)
	if _, err := cl.Greeting(); err != nil {
		t.Fatal(err)
	}
	_, err := cl.Capability()
	wantViolation(t, err)
}

func TestByeMidSession(t *testing.T) {
	cl, tr := greeted(t, "IMAP4rev1",
		"C: a1 NOOP",
		"S: * BYE server shutting down")
	err := cl.Noop()
	wantServerError(t, err, "* BYE server shutting down")
	if cl.Bye() == nil {
		t.Fatal("BYE not kept")
	}
	n := len(tr.Lines())
	if err := cl.Logout(); err != nil {
		t.Fatalf("Logout after BYE: %v", err)
	}
	if len(tr.Lines()) != n {
		t.Errorf("LOGOUT sent after BYE: %v", tr.Lines()[n:])
	}
}

func TestStartTLSRefused(t *testing.T) {
	cl, _ := greeted(t, "IMAP4rev1 STARTTLS",
		"C: a1 STARTTLS",
		"S: a1 NO [UNAVAILABLE] TLS is broken today")
	err := cl.StartTLS()
	se := wantServerError(t, err, "a1 NO [UNAVAILABLE] TLS is broken today")
	if !errors.Is(err, wire.ErrTLSUnavailable) || !se.Temporary {
		t.Errorf("err = %#v", err)
	}
}

func TestStartTLSForgetsCaps(t *testing.T) {
	cl, _ := greeted(t, "IMAP4rev1 STARTTLS AUTH=PLAIN",
		"C: a1 STARTTLS",
		"S: a1 OK begin TLS")
	if err := cl.StartTLS(); err != nil {
		t.Fatal(err)
	}
	if cl.HasCaps() || cl.Has("AUTH=PLAIN") {
		t.Error("capabilities from before TLS kept")
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name     string
		caps     string
		user     string
		password string
		script   []string
		shown    []string
	}{
		{
			name: "quoted", caps: "IMAP4rev1", user: "probe@example.com", password: "s3cret",
			script: []string{`C: a1 LOGIN "probe@example.com" "s3cret"`, "S: a1 OK [CAPABILITY IMAP4rev1 IDLE] logged in"},
			shown:  []string{`C: a1 LOGIN "probe@example.com" [redacted]`},
		},
		{
			name: "escaped", caps: "IMAP4rev1", user: `we"ird\user`, password: `pa"ss\word`,
			script: []string{`C: a1 LOGIN "we\"ird\\user" "pa\"ss\\word"`, "S: a1 OK [CAPABILITY IMAP4rev1 IDLE] logged in"},
			shown:  []string{`C: a1 LOGIN "we\"ird\\user" [redacted]`},
		},
		{
			name: "synchronizing literal", caps: "IMAP4rev1", user: "user", password: "pässwörd",
			script: []string{`C: a1 LOGIN "user" {10}`, "S: + go ahead", "C: pässwörd", "S: a1 OK [CAPABILITY IMAP4rev1 IDLE] logged in"},
			shown:  []string{`C: a1 LOGIN "user" [redacted]`, "C: [redacted]"},
		},
		{
			name: "literal user too", caps: "IMAP4rev1", user: "jürgen", password: "pässwörd",
			script: []string{`C: a1 LOGIN {7}`, "S: + go ahead", `C: jürgen {10}`, "S: + go on", "C: pässwörd", "S: a1 OK [CAPABILITY IMAP4rev1 IDLE] logged in"},
			shown:  []string{`C: a1 LOGIN {7}`, "C: jürgen [redacted]", "C: [redacted]"},
		},
		{
			name: "LITERAL+", caps: "IMAP4rev1 LITERAL+", user: "user", password: "pässwörd",
			script: []string{`C: a1 LOGIN "user" {10+}`, "C: pässwörd", "S: a1 OK [CAPABILITY IMAP4rev1 IDLE] logged in"},
			shown:  []string{`C: a1 LOGIN "user" [redacted]`, "C: [redacted]"},
		},
		{
			name: "untagged before continuation", caps: "IMAP4rev1", user: "user", password: "pässwörd",
			script: []string{`C: a1 LOGIN "user" {10}`, "S: * OK [ALERT] system going down soon", "S: + go ahead", "C: pässwörd", "S: a1 OK [CAPABILITY IMAP4rev1 IDLE] logged in"},
			shown:  []string{`C: a1 LOGIN "user" [redacted]`, "C: [redacted]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, tr := greeted(t, tt.caps, tt.script...)
			if err := cl.Login(tt.user, tt.password); err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.shown {
				transcriptHas(t, tr, l)
			}
			transcriptLacks(t, tr, tt.password, "{10}")
			if !cl.Has("IDLE") {
				t.Error("capabilities of the LOGIN completion not kept")
			}
		})
	}
}

func TestLoginRefused(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		auth  bool
		temp  bool
	}{
		{"NO", "a1 NO [AUTHENTICATIONFAILED] Authentication failed.", true, false},
		{"NO plain", "a1 NO LOGIN failed", true, false},
		{"UNAVAILABLE", "a1 NO [UNAVAILABLE] user database down", false, true},
		{"SERVERBUG", "a1 NO [SERVERBUG] oops", false, true},
		{"BAD", "a1 BAD syntax error", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, tr := greeted(t, "IMAP4rev1", `C: a1 LOGIN "user" "pw-secret"`, "S: "+tt.reply)
			err := cl.Login("user", "pw-secret")
			if tt.auth {
				if ae := wantAuthError(t, err); ae.Reply != tt.reply {
					t.Errorf("reply %q", ae.Reply)
				}
			} else {
				se := wantServerError(t, err, tt.reply)
				if se.Temporary != tt.temp {
					t.Errorf("Temporary = %v", se.Temporary)
				}
			}
			transcriptLacks(t, tr, "pw-secret")
		})
	}
}

// A server that refuses a command instead of asking for its literal ends
// it: the literal is never sent.
func TestLiteralRefused(t *testing.T) {
	cl, _ := greeted(t, "IMAP4rev1", `C: a1 LOGIN "user" {10}`, "S: a1 NO [AUTHENTICATIONFAILED] no literals for you", "C: a2 NOOP", "S: a2 OK")
	wantAuthError(t, cl.Login("user", "pässwörd"))
	if err := cl.Noop(); err != nil {
		t.Fatalf("session out of step after a refused literal: %v", err)
	}
}

func TestNULRefused(t *testing.T) {
	cl, tr := greeted(t, "IMAP4rev1")
	if err := cl.Login("user", "a\x00b"); !errors.Is(err, errUnsendable) {
		t.Fatalf("err = %v", err)
	}
	if n := len(tr.Lines()); n != 1 {
		t.Errorf("sent something: %v", tr.Lines())
	}
	if _, err := cl.Do(nil, "UID FETCH", Atom("1\r\nA1 DELETE INBOX")); !errors.Is(err, errUnsendable) {
		t.Fatalf("err = %v", err)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestAuthenticate(t *testing.T) {
	plain := b64("\x00user\x00pw-secret")
	xo := b64("user=user\x01auth=Bearer tok-secret\x01\x01")
	tests := []struct {
		name   string
		caps   string
		mech   string
		script []string
		shown  []string
		err    string // "", "auth", "violation"
	}{
		{
			name: "PLAIN with SASL-IR", caps: "IMAP4rev1 SASL-IR AUTH=PLAIN", mech: sasl.Plain,
			script: []string{"C: a1 AUTHENTICATE PLAIN " + plain, "S: a1 OK done"},
			shown:  []string{"C: a1 AUTHENTICATE PLAIN [redacted]"},
		},
		{
			name: "PLAIN IMAP4rev2 implies SASL-IR", caps: "IMAP4rev2 AUTH=PLAIN", mech: sasl.Plain,
			script: []string{"C: a1 AUTHENTICATE PLAIN " + plain, "S: a1 OK done"},
			shown:  []string{"C: a1 AUTHENTICATE PLAIN [redacted]"},
		},
		{
			name: "PLAIN without SASL-IR", caps: "IMAP4rev1 AUTH=PLAIN", mech: sasl.Plain,
			script: []string{"C: a1 AUTHENTICATE PLAIN", "S: + ", "C: " + plain, "S: a1 OK done"},
			shown:  []string{"C: a1 AUTHENTICATE PLAIN", "S: + ", "C: [redacted]"},
		},
		{
			name: "PLAIN bare continuation", caps: "IMAP4rev1 AUTH=PLAIN", mech: sasl.Plain,
			script: []string{"C: a1 AUTHENTICATE PLAIN", "S: +", "C: " + plain, "S: a1 OK done"},
		},
		{
			name: "PLAIN pad continuation", caps: "IMAP4rev1 AUTH=PLAIN", mech: sasl.Plain,
			script: []string{"C: a1 AUTHENTICATE PLAIN", "S: + =", "C: " + plain, "S: a1 OK done"},
		},
		{
			name: "PLAIN rejected", caps: "IMAP4rev1 SASL-IR AUTH=PLAIN", mech: sasl.Plain,
			script: []string{"C: a1 AUTHENTICATE PLAIN " + plain, "S: a1 NO [AUTHENTICATIONFAILED] Authentication failed"},
			err:    "auth",
		},
		{
			name: "LOGIN mechanism", caps: "IMAP4rev1 AUTH=LOGIN", mech: sasl.Login,
			script: []string{"C: a1 AUTHENTICATE LOGIN", "S: + " + b64("Username:"), "C: " + b64("user"), "S: + " + b64("Password:"), "C: " + b64("pw-secret"), "S: a1 OK done"},
			shown:  []string{"C: a1 AUTHENTICATE LOGIN", "C: [redacted]"},
		},
		{
			name: "mechanism gives up: cancel", caps: "IMAP4rev1 AUTH=LOGIN", mech: sasl.Login,
			script: []string{"C: a1 AUTHENTICATE LOGIN", "S: + " + b64("Username:"), "C: " + b64("user"), "S: + " + b64("Password:"), "C: " + b64("pw-secret"), "S: + " + b64("Again?"), "C: *", "S: a1 BAD cancelled"},
			err:    "auth",
		},
		{
			name: "XOAUTH2 error challenge", caps: "IMAP4rev1 SASL-IR AUTH=XOAUTH2", mech: sasl.XOAuth2,
			script: []string{"C: a1 AUTHENTICATE XOAUTH2 " + xo, "S: + " + b64(`{"status":"401","schemes":"bearer"}`), "C: ", "S: a1 NO [AUTHENTICATIONFAILED] invalid credentials"},
			shown:  []string{"C: a1 AUTHENTICATE XOAUTH2 [redacted]", "C: [redacted]"},
			err:    "auth",
		},
		{
			name: "XOAUTH2 without SASL-IR", caps: "IMAP4rev1 AUTH=XOAUTH2", mech: sasl.XOAuth2,
			script: []string{"C: a1 AUTHENTICATE XOAUTH2", "S: + ", "C: " + xo, "S: a1 OK [CAPABILITY IMAP4rev1] done"},
		},
		{
			name: "challenge not base64", caps: "IMAP4rev1 AUTH=PLAIN", mech: sasl.Plain,
			script: []string{"C: a1 AUTHENTICATE PLAIN", "S: + ", "C: " + plain, "S: + !!not base64!!", "C: *", "S: a1 BAD cancelled"},
			err:    "violation",
		},
		{
			name: "endless challenges", caps: "IMAP4rev1 AUTH=XOAUTH2", mech: sasl.XOAuth2,
			script: []string{"C: a1 AUTHENTICATE XOAUTH2", "S: + ", "C: " + xo, "S: + e30=", "C: ", "S: + e30=", "C: *", "S: a1 BAD cancelled"},
			err:    "auth",
		},
		{
			name: "untagged during exchange", caps: "IMAP4rev1 SASL-IR AUTH=PLAIN", mech: sasl.Plain,
			script: []string{"C: a1 AUTHENTICATE PLAIN " + plain, "S: * CAPABILITY IMAP4rev1 IDLE", "S: a1 OK done"},
		},
		{
			name: "BYE during exchange", caps: "IMAP4rev1 SASL-IR AUTH=PLAIN", mech: sasl.Plain,
			script: []string{"C: a1 AUTHENTICATE PLAIN " + plain, "S: * BYE go away"},
			err:    "bye",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, tr := greeted(t, tt.caps, tt.script...)
			m, err := sasl.New(tt.mech, sasl.Credentials{User: "user", Password: "pw-secret", Token: "tok-secret"})
			if err != nil {
				t.Fatal(err)
			}
			err = cl.Authenticate(m)
			switch tt.err {
			case "":
				if err != nil {
					t.Fatal(err)
				}
			case "auth":
				wantAuthError(t, err)
			case "violation":
				wantViolation(t, err)
			case "bye":
				wantServerError(t, err, "* BYE go away")
			}
			for _, l := range tt.shown {
				transcriptHas(t, tr, l)
			}
			transcriptLacks(t, tr, "pw-secret", "tok-secret", plain, xo)
		})
	}
}

func TestSelect(t *testing.T) {
	cl, _ := greeted(t, "IMAP4rev1",
		`C: a1 SELECT "INBOX"`,
		"S: * 172 EXISTS",
		"S: * 1 RECENT",
		"S: * OK [UNSEEN 12] Message 12 is first unseen",
		"S: * OK [UIDVALIDITY 3857529045] UIDs valid",
		"S: * OK [UIDNEXT 4392] Predicted next UID",
		`S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
		`S: * OK [PERMANENTFLAGS (\Deleted \Seen \*)] Limited`,
		"S: a1 OK [READ-WRITE] SELECT completed")
	mb, err := cl.Select("inbox")
	if err != nil {
		t.Fatal(err)
	}
	want := MailboxInfo{Name: "inbox", Exists: 172, UIDValidity: 3857529045, UIDNext: 4392}
	if *mb != want {
		t.Errorf("got %+v, want %+v", *mb, want)
	}
}

func TestExamine(t *testing.T) {
	cl, _ := greeted(t, "IMAP4rev1",
		`C: a1 EXAMINE "Entw&APw-rfe"`,
		"S: * 0 EXISTS",
		"S: * OK [UIDVALIDITY 1] UIDs valid",
		"S: a1 OK [READ-ONLY] EXAMINE completed",
		`C: a2 EXAMINE "Nope"`,
		"S: a2 NO [NONEXISTENT] Mailbox doesn't exist: Nope")
	mb, err := cl.Examine("Entwürfe")
	if err != nil {
		t.Fatal(err)
	}
	if !mb.ReadOnly || mb.Exists != 0 || mb.UIDValidity != 1 {
		t.Errorf("got %+v", mb)
	}
	_, err = cl.Examine("Nope")
	wantServerError(t, err, "a2 NO [NONEXISTENT] Mailbox doesn't exist: Nope")
}

func TestSelectViolations(t *testing.T) {
	tests := map[string][]string{
		"no EXISTS":       {`C: a1 SELECT "INBOX"`, "S: a1 OK done"},
		"bad EXISTS":      {`C: a1 SELECT "INBOX"`, "S: * 99999999999 EXISTS", "S: a1 OK done"},
		"bad UIDVALIDITY": {`C: a1 SELECT "INBOX"`, "S: * 1 EXISTS", "S: * OK [UIDVALIDITY x] hm", "S: a1 OK done"},
	}
	for name, script := range tests {
		t.Run(name, func(t *testing.T) {
			cl, _ := greeted(t, "IMAP4rev1", script...)
			_, err := cl.Select("INBOX")
			wantViolation(t, err)
		})
	}
}

func TestStatusCommand(t *testing.T) {
	tests := []struct {
		name   string
		script []string
		want   MailboxStatus
	}{
		{
			name:   "atom name",
			script: []string{`C: a1 STATUS "blurdybloop" (MESSAGES UIDNEXT UNSEEN)`, "S: * STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 UNSEEN 3)", "S: a1 OK STATUS completed"},
			want:   MailboxStatus{Name: "blurdybloop", Messages: 231, UIDNext: 44292, Unseen: 3},
		},
		{
			name:   "literal name, items in another order",
			script: []string{`C: a1 STATUS "blurdybloop" (MESSAGES UIDNEXT UNSEEN)`, "S: * STATUS {11}", "R: blurdybloop (UNSEEN 1 MESSAGES 2 UIDNEXT 3)\r\n", "S: a1 OK STATUS completed"},
			want:   MailboxStatus{Name: "blurdybloop", Messages: 2, UIDNext: 3, Unseen: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, _ := greeted(t, "IMAP4rev1", tt.script...)
			ms, err := cl.Status("blurdybloop")
			if err != nil {
				t.Fatal(err)
			}
			if *ms != tt.want {
				t.Errorf("got %+v, want %+v", *ms, tt.want)
			}
		})
	}
}

func TestStatusViolations(t *testing.T) {
	tests := map[string][]string{
		"no STATUS":    {`C: a1 STATUS "INBOX" (MESSAGES UIDNEXT UNSEEN)`, "S: a1 OK done"},
		"no MESSAGES":  {`C: a1 STATUS "INBOX" (MESSAGES UIDNEXT UNSEEN)`, "S: * STATUS INBOX (UIDNEXT 4)", "S: a1 OK done"},
		"odd list":     {`C: a1 STATUS "INBOX" (MESSAGES UIDNEXT UNSEEN)`, "S: * STATUS INBOX (MESSAGES)", "S: a1 OK done"},
		"not a number": {`C: a1 STATUS "INBOX" (MESSAGES UIDNEXT UNSEEN)`, "S: * STATUS INBOX (MESSAGES many)", "S: a1 OK done"},
		"no list":      {`C: a1 STATUS "INBOX" (MESSAGES UIDNEXT UNSEEN)`, "S: * STATUS INBOX MESSAGES 2", "S: a1 OK done"},
	}
	for name, script := range tests {
		t.Run(name, func(t *testing.T) {
			cl, _ := greeted(t, "IMAP4rev1", script...)
			_, err := cl.Status("INBOX")
			wantViolation(t, err)
		})
	}
}

func TestLogout(t *testing.T) {
	t.Run("BYE and OK", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1", "C: a1 LOGOUT", "S: * BYE logging out", "S: a1 OK LOGOUT completed")
		if err := cl.Logout(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("BYE then close", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1", "C: a1 LOGOUT", "S: * BYE logging out")
		if err := cl.Logout(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no BYE", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1", "C: a1 LOGOUT", "S: a1 OK LOGOUT completed")
		wantViolation(t, cl.Logout())
	})
	t.Run("NO", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1", "C: a1 LOGOUT", "S: a1 NO not you")
		wantServerError(t, cl.Logout(), "a1 NO not you")
	})
}

// The tags count up, and the generic primitive serves commands the client
// has no method for.
func TestDoGeneric(t *testing.T) {
	cl, tr := greeted(t, "IMAP4rev1",
		"C: a1 NOOP",
		"S: * 3 EXISTS",
		"S: a1 OK done",
		`C: a2 UID SEARCH HEADER "X-Mailmon-Probe" "abc"`,
		"S: * SEARCH 4 9",
		"S: a2 OK done")
	var seen []string
	handle := func(r *Response) error {
		seen = append(seen, r.Name())
		return nil
	}
	if _, err := cl.Do(handle, "NOOP"); err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	_, err := cl.Do(func(r *Response) error {
		if r.Name() != "SEARCH" {
			return nil
		}
		fs, err := r.Fields()
		if err != nil {
			return err
		}
		for _, f := range fs[1:] {
			n, _ := f.Number()
			uids = append(uids, n)
		}
		return nil
	}, "UID SEARCH", Atom("HEADER"), String("X-Mailmon-Probe"), String("abc"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []string{"EXISTS"}) || !slices.Equal(uids, []uint32{4, 9}) {
		t.Errorf("seen %v, uids %v", seen, uids)
	}
	transcriptHas(t, tr, `C: a2 UID SEARCH HEADER "X-Mailmon-Probe" "abc"`)
}

// IDLE as the round-trip monitor will run it: Start, Next until the
// continuation, Continue with DONE, Wait.
func TestIdleShape(t *testing.T) {
	cl, _ := greeted(t, "IMAP4rev1 IDLE",
		"C: a1 IDLE",
		"S: + idling",
		"S: * 4 EXISTS",
		"C: DONE",
		"S: a1 OK IDLE terminated")
	p, err := cl.Start("IDLE")
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Next()
	if err != nil || !r.Continuation() {
		t.Fatalf("Next() = %v, %v", r, err)
	}
	r, err = p.Next()
	if n, ok := r.Number(); err != nil || r.Name() != "EXISTS" || !ok || n != 4 {
		t.Fatalf("Next() = %v, %v", r, err)
	}
	if err := p.Continue("DONE", "DONE"); err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait(nil)
	if err != nil || st.Type != OK {
		t.Fatalf("Wait() = %v, %v", st, err)
	}
	if _, err := p.Next(); !isViolation(err) {
		t.Errorf("Next() after completion: %v", err)
	}
}

// A large FETCH literal within the cap is read; the transcript holds the
// lines around it, not the literal.
func TestFetchLiteral(t *testing.T) {
	body := strings.Repeat("Subject: hello\r\n", 100)
	cl, tr := greeted(t, "IMAP4rev1",
		"C: a1 UID FETCH 5 (BODY.PEEK[HEADER])",
		"S: * 1 FETCH (UID 5 BODY[HEADER] {1600}",
		"R: "+body+")\r\n",
		"S: a1 OK done")
	var got string
	_, err := cl.Do(func(r *Response) error {
		fs, err := r.Fields()
		if err != nil {
			return err
		}
		items := fs[2].List
		got = items[3].Text
		return nil
	}, "UID FETCH", Atom("5"), Atom("(BODY.PEEK[HEADER])"))
	if err != nil {
		t.Fatal(err)
	}
	if got != body {
		t.Errorf("literal of %d bytes, want %d", len(got), len(body))
	}
	if strings.Contains(strings.Join(tr.Lines(), "\n"), "Subject: hello") {
		t.Error("literal in the transcript")
	}
}
