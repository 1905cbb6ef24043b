package pop3

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/testutil/scripted"
	"github.com/mailmon/mailmon/internal/wire"
)

// session runs the client against a scripted server (package scripted).
func session(t *testing.T, script ...string) (*Client, *wire.Transcript) {
	t.Helper()
	conn, tr := scripted.Conn(t, script...)
	return NewClient(conn), tr
}

// noSecrets fails when the transcript holds any of secrets.
func noSecrets(t *testing.T, tr *wire.Transcript, secrets ...string) {
	t.Helper()
	all := strings.Join(tr.Lines(), "\n")
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("transcript holds the secret %q:\n%s", s, all)
		}
	}
}

func hasLine(t *testing.T, tr *wire.Transcript, want string) {
	t.Helper()
	for _, l := range tr.Lines() {
		if l == want {
			return
		}
	}
	t.Errorf("transcript lacks %q:\n%s", want, strings.Join(tr.Lines(), "\n"))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestGreeting(t *testing.T) {
	t.Run("ok with timestamp", func(t *testing.T) {
		cl, _ := session(t, "S: +OK POP3 ready <1.2@host>")
		st, err := cl.Greeting()
		if err != nil || !st.OK {
			t.Fatalf("Greeting() = %+v, %v", st, err)
		}
		if cl.Timestamp() != "<1.2@host>" {
			t.Errorf("Timestamp() = %q", cl.Timestamp())
		}
	})
	t.Run("error greeting", func(t *testing.T) {
		cl, _ := session(t, "S: -ERR [SYS/TEMP] too many connections")
		_, err := cl.Greeting()
		var se *wire.ServerError
		if !errors.As(err, &se) || se.Reply != "-ERR [SYS/TEMP] too many connections" || !se.Temporary {
			t.Fatalf("Greeting() error = %#v", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		cl, _ := session(t, "S: 220 smtp.example.com ESMTP")
		_, err := cl.Greeting()
		var pe *wire.ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("Greeting() error = %v, want a protocol violation", err)
		}
	})
}

func TestCapa(t *testing.T) {
	t.Run("list", func(t *testing.T) {
		cl, _ := session(t,
			"C: CAPA", "S: +OK Capability list follows", "S: TOP", "S: user", "S: SASL plain CRAM-MD5 XOAUTH2",
			"S: STLS", "S: IMPLEMENTATION Some Server 1.0", "S: .")
		caps, err := cl.Capa()
		if err != nil {
			t.Fatal(err)
		}
		if len(caps) != 5 || !cl.CapaOK() {
			t.Errorf("Capa() = %q, CapaOK %v", caps, cl.CapaOK())
		}
		if _, ok := cl.Cap("USER"); !ok {
			t.Error("USER not seen (capability names are case-insensitive)")
		}
		if got := strings.Join(cl.SASL(), " "); got != "PLAIN CRAM-MD5 XOAUTH2" {
			t.Errorf("SASL() = %q", got)
		}
		if args, _ := cl.Cap("implementation"); strings.Join(args, " ") != "Some Server 1.0" {
			t.Errorf("Cap(IMPLEMENTATION) = %q", args)
		}
	})
	t.Run("-ERR means no capabilities", func(t *testing.T) {
		cl, _ := session(t, "C: CAPA", "S: -ERR unknown command")
		caps, err := cl.Capa()
		if err != nil || caps != nil || cl.CapaOK() {
			t.Fatalf("Capa() = %q, %v; CapaOK %v", caps, err, cl.CapaOK())
		}
		if _, ok := cl.Cap("STLS"); ok {
			t.Error("STLS seen without capabilities")
		}
	})
	t.Run("garbage status", func(t *testing.T) {
		cl, _ := session(t, "C: CAPA", "S: 250 OK")
		_, err := cl.Capa()
		var pe *wire.ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("Capa() error = %v, want a protocol violation", err)
		}
	})
}

func TestStartTLS(t *testing.T) {
	t.Run("accepted forgets capabilities", func(t *testing.T) {
		cl, _ := session(t, "C: CAPA", "S: +OK", "S: STLS", "S: .", "C: STLS", "S: +OK Begin TLS")
		if _, err := cl.Capa(); err != nil {
			t.Fatal(err)
		}
		if err := cl.StartTLS(); err != nil {
			t.Fatal(err)
		}
		if _, ok := cl.Cap("STLS"); ok || cl.CapaOK() {
			t.Error("capabilities from before TLS kept")
		}
	})
	t.Run("refused", func(t *testing.T) {
		cl, _ := session(t, "C: STLS", "S: -ERR [SYS/TEMP] not now")
		err := cl.StartTLS()
		var se *wire.ServerError
		if !errors.Is(err, wire.ErrTLSUnavailable) || !errors.As(err, &se) || se.Reply != "-ERR [SYS/TEMP] not now" {
			t.Fatalf("StartTLS() = %#v; want ServerError{Err: ErrTLSUnavailable}", err)
		}
	})
}

func TestUserPass(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		check func(t *testing.T, err error)
	}{
		{"ok", "+OK maildrop has 2 messages", func(t *testing.T, err error) {
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"wrong password", "-ERR [AUTH] invalid password", func(t *testing.T, err error) {
			var ae *wire.AuthError
			if !errors.As(err, &ae) || ae.Reply != "-ERR [AUTH] invalid password" {
				t.Fatalf("err = %#v, want AuthError", err)
			}
		}},
		{"wrong password without code", "-ERR nope", func(t *testing.T, err error) {
			var ae *wire.AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %#v, want AuthError", err)
			}
		}},
		{"system failure", "-ERR [SYS/TEMP] database down", func(t *testing.T, err error) {
			var se *wire.ServerError
			var ae *wire.AuthError
			if !errors.As(err, &se) || errors.As(err, &ae) || !se.Temporary {
				t.Fatalf("err = %#v, want a temporary ServerError", err)
			}
		}},
		{"maildrop locked", "-ERR [IN-USE] locked", func(t *testing.T, err error) {
			var se *wire.ServerError
			if !errors.As(err, &se) {
				t.Fatalf("err = %#v, want ServerError", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, tr := session(t, "C: USER alice", "S: +OK", "C: PASS s3cret-pw", "S: "+tt.reply)
			if err := cl.User("alice"); err != nil {
				t.Fatal(err)
			}
			tt.check(t, cl.Pass("s3cret-pw"))
			hasLine(t, tr, "C: PASS [redacted]")
			noSecrets(t, tr, "s3cret-pw")
		})
	}
	t.Run("user refused", func(t *testing.T) {
		cl, _ := session(t, "C: USER alice", "S: -ERR [AUTH] Plaintext authentication disallowed")
		var ae *wire.AuthError
		if err := cl.User("alice"); !errors.As(err, &ae) {
			t.Fatalf("User() = %#v, want AuthError", err)
		}
	})
	t.Run("user with white space", func(t *testing.T) {
		cl, _ := session(t)
		var ae *wire.AuthError
		if err := cl.User("alice\r\nDELE 1"); !errors.As(err, &ae) {
			t.Fatalf("User() = %#v, want AuthError and nothing sent", err)
		}
	})
}

func TestAPOP(t *testing.T) {
	const ts = "<1896.697170952@dbc.mtview.ca.us>"
	t.Run("ok", func(t *testing.T) {
		cl, tr := session(t, "S: +OK POP3 server ready "+ts,
			"C: APOP mrose c4c9334bac560ecc979e58001b3e22fb", "S: +OK maildrop has 1 message (369 octets)")
		if _, err := cl.Greeting(); err != nil {
			t.Fatal(err)
		}
		if err := cl.APOP("mrose", "tanstaaf"); err != nil {
			t.Fatal(err)
		}
		hasLine(t, tr, "C: APOP mrose [redacted]")
		noSecrets(t, tr, "tanstaaf", "c4c9334bac560ecc979e58001b3e22fb")
	})
	t.Run("no timestamp", func(t *testing.T) {
		cl, _ := session(t, "S: +OK POP3 server ready")
		if _, err := cl.Greeting(); err != nil {
			t.Fatal(err)
		}
		var ae *wire.AuthError
		if err := cl.APOP("mrose", "tanstaaf"); !errors.As(err, &ae) || !errors.Is(err, ErrNoTimestamp) {
			t.Fatalf("APOP() = %#v, want AuthError with ErrNoTimestamp", err)
		}
	})
	t.Run("rejected", func(t *testing.T) {
		cl, _ := session(t, "S: +OK ready "+ts, "C: APOP mrose c4c9334bac560ecc979e58001b3e22fb", "S: -ERR permission denied")
		if _, err := cl.Greeting(); err != nil {
			t.Fatal(err)
		}
		var ae *wire.AuthError
		if err := cl.APOP("mrose", "tanstaaf"); !errors.As(err, &ae) {
			t.Fatalf("APOP() = %#v, want AuthError", err)
		}
	})
}

func cram(user, password, chal string) string {
	m := hmac.New(md5.New, []byte(password))
	m.Write([]byte(chal))
	return user + " " + hex.EncodeToString(m.Sum(nil))
}

func TestAuth(t *testing.T) {
	cr := sasl.Credentials{User: "alice", Password: "pw-secret", Token: "tok-secret", Host: "mail.example", Port: 110}
	longTok := strings.Repeat("t", 400)
	xoauth := func(tok string) string { return b64("user=alice\x01auth=Bearer " + tok + "\x01\x01") }
	tests := []struct {
		name    string
		mech    string
		cr      sasl.Credentials
		script  []string
		shown   []string // transcript lines that must be there
		secrets []string
		check   func(t *testing.T, err error)
	}{
		{
			name: "PLAIN initial response", mech: "PLAIN",
			script:  []string{"C: AUTH PLAIN " + b64("\x00alice\x00pw-secret"), "S: +OK logged in"},
			shown:   []string{"C: AUTH PLAIN [redacted]"},
			secrets: []string{b64("\x00alice\x00pw-secret")},
		},
		{
			name: "LOGIN", mech: "LOGIN",
			script: []string{"C: AUTH LOGIN", "S: + " + b64("Username:"), "C: " + b64("alice"),
				"S: + " + b64("Password:"), "C: " + b64("pw-secret"), "S: +OK"},
			shown:   []string{"C: AUTH LOGIN", "C: [redacted]"},
			secrets: []string{b64("pw-secret")},
		},
		{
			name: "CRAM-MD5", mech: "CRAM-MD5",
			script: []string{"C: AUTH CRAM-MD5", "S: + " + b64("<1.2@host>"),
				"C: " + b64(cram("alice", "pw-secret", "<1.2@host>")), "S: +OK"},
			secrets: []string{b64(cram("alice", "pw-secret", "<1.2@host>"))},
		},
		{
			name: "bare + is an empty challenge", mech: "LOGIN",
			script: []string{"C: AUTH LOGIN", "S: +", "C: " + b64("alice"), "S: +", "C: " + b64("pw-secret"), "S: +OK"},
		},
		{
			name: "XOAUTH2 short token on the AUTH line", mech: "XOAUTH2",
			script:  []string{"C: AUTH XOAUTH2 " + xoauth("tok-secret"), "S: +OK"},
			secrets: []string{xoauth("tok-secret")},
		},
		{
			name: "XOAUTH2 long token after an empty challenge", mech: "XOAUTH2",
			cr:      sasl.Credentials{User: "alice", Token: longTok},
			script:  []string{"C: AUTH XOAUTH2", "S: + ", "C: " + xoauth(longTok), "S: +OK"},
			shown:   []string{"C: AUTH XOAUTH2", "C: [redacted]"},
			secrets: []string{xoauth(longTok), longTok},
		},
		{
			name: "XOAUTH2 rejected with a JSON challenge", mech: "XOAUTH2",
			script: []string{"C: AUTH XOAUTH2 " + xoauth("tok-secret"),
				"S: + " + b64(`{"status":"401","schemes":"bearer"}`), "C: ", "S: -ERR [AUTH] invalid token"},
			check: func(t *testing.T, err error) {
				var ae *wire.AuthError
				if !errors.As(err, &ae) || ae.Reply != "-ERR [AUTH] invalid token" {
					t.Fatalf("err = %#v, want AuthError", err)
				}
			},
		},
		{
			name: "OAUTHBEARER rejected: the client answers the error challenge with %x01 (RFC 7628)", mech: "OAUTHBEARER",
			script: []string{"C: AUTH OAUTHBEARER " + b64("n,a=alice,\x01host=mail.example\x01port=110\x01auth=Bearer tok-secret\x01\x01"),
				"S: + " + b64(`{"status":"invalid_token"}`), "C: " + b64("\x01"), "S: -ERR [AUTH] invalid token"},
			check: func(t *testing.T, err error) {
				var ae *wire.AuthError
				if !errors.As(err, &ae) || ae.Reply != "-ERR [AUTH] invalid token" {
					t.Fatalf("err = %#v, want AuthError", err)
				}
			},
		},
		{
			name: "rejected with [AUTH]", mech: "PLAIN",
			script: []string{"C: AUTH PLAIN " + b64("\x00alice\x00pw-secret"), "S: -ERR [AUTH] nope"},
			check: func(t *testing.T, err error) {
				var ae *wire.AuthError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %#v, want AuthError", err)
				}
			},
		},
		{
			name: "[SYS/TEMP] is the server's failure", mech: "PLAIN",
			script: []string{"C: AUTH PLAIN " + b64("\x00alice\x00pw-secret"), "S: -ERR [SYS/TEMP] backend down"},
			check: func(t *testing.T, err error) {
				var se *wire.ServerError
				var ae *wire.AuthError
				if !errors.As(err, &se) || errors.As(err, &ae) {
					t.Fatalf("err = %#v, want ServerError", err)
				}
			},
		},
		{
			name: "challenge not base64", mech: "LOGIN",
			script: []string{"C: AUTH LOGIN", "S: + !!!notbase64"},
			check:  wantViolation,
		},
		{
			name: "non-empty challenge before the initial response", mech: "XOAUTH2",
			cr:     sasl.Credentials{User: "alice", Token: longTok},
			script: []string{"C: AUTH XOAUTH2", "S: + " + b64("surprise")},
			check:  wantViolation,
		},
		{
			name: "garbage reply", mech: "PLAIN",
			script: []string{"C: AUTH PLAIN " + b64("\x00alice\x00pw-secret"), "S: 235 ok"},
			check:  wantViolation,
		},
		{
			name: "unexpected challenge: cancel", mech: "LOGIN",
			script: []string{"C: AUTH LOGIN", "S: + " + b64("Username:"), "C: " + b64("alice"),
				"S: + " + b64("Password:"), "C: " + b64("pw-secret"), "S: + " + b64("more?"),
				"C: *", "S: -ERR authentication cancelled"},
			check: func(t *testing.T, err error) {
				// LOGIN has no third answer: the client cancels with "*".
				var ae *wire.AuthError
				if !errors.As(err, &ae) || ae.Reply != "-ERR authentication cancelled" {
					t.Fatalf("err = %#v, want AuthError", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cr
			if c.User == "" {
				c = cr
			}
			m, err := sasl.New(tt.mech, c)
			if err != nil {
				t.Fatal(err)
			}
			cl, tr := session(t, tt.script...)
			err = cl.Auth(m)
			if tt.check != nil {
				tt.check(t, err)
			} else if err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.shown {
				hasLine(t, tr, l)
			}
			noSecrets(t, tr, append(tt.secrets, "pw-secret", "tok-secret")...)
		})
	}
}

func wantViolation(t *testing.T, err error) {
	t.Helper()
	var pe *wire.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %#v, want a protocol violation", err)
	}
}

// endless answers every response with another challenge.
type endless struct{}

func (endless) Start() (string, []byte, error) { return "X-ENDLESS", nil, nil }
func (endless) Next(c []byte) ([]byte, error)  { return []byte("again"), nil }

func TestAuthEndsAfterMaxSteps(t *testing.T) {
	script := []string{"C: AUTH X-ENDLESS"}
	for i := 0; i < maxAuthSteps; i++ {
		script = append(script, "S: + "+b64("more"), "C: "+b64("again"))
	}
	script = append(script, "S: + "+b64("more"))
	cl, _ := session(t, script...)
	wantViolation(t, cl.Auth(endless{}))
}

func TestMaildrop(t *testing.T) {
	cl, tr := session(t,
		"C: STAT", "S: +OK 2 320",
		"C: LIST", "S: +OK 2 messages", "S: 1 120", "S: 2 200", "S: .",
		"C: LIST 2", "S: +OK 2 200",
		"C: UIDL", "S: +OK", "S: 1 whqtswO00WBw418f9t5JxYwZ", "S: 2 QhdPYR:00WBw1Ph7x7", "S: .",
		"C: UIDL 1", "S: +OK 1 whqtswO00WBw418f9t5JxYwZ",
		"C: TOP 1 0", "S: +OK", "S: Subject: hi", "S: X-Probe: 1", "S: ", "S: .",
		"C: RETR 2", "S: +OK 200 octets", "S: Subject: x", "S: ", "S: ..leading dot", "S: body", "S: .",
		"C: DELE 2", "S: +OK message 2 deleted",
		"C: RSET", "S: +OK",
		"C: NOOP", "S: +OK",
		"C: DELE 9", "S: -ERR no such message",
		"C: QUIT", "S: +OK bye",
	)
	n, octets, err := cl.Stat()
	if err != nil || n != 2 || octets != 320 {
		t.Fatalf("Stat() = %d, %d, %v", n, octets, err)
	}
	list, err := cl.ListAll()
	if err != nil || len(list) != 2 || list[1] != (MessageInfo{ID: 2, Size: 200}) {
		t.Fatalf("ListAll() = %+v, %v", list, err)
	}
	if m, err := cl.List(2); err != nil || m != (MessageInfo{ID: 2, Size: 200}) {
		t.Fatalf("List(2) = %+v, %v", m, err)
	}
	uids, err := cl.UidlAll()
	if err != nil || len(uids) != 2 || uids[1] != (MessageInfo{ID: 2, UID: "QhdPYR:00WBw1Ph7x7"}) {
		t.Fatalf("UidlAll() = %+v, %v", uids, err)
	}
	if m, err := cl.Uidl(1); err != nil || m.UID != "whqtswO00WBw418f9t5JxYwZ" {
		t.Fatalf("Uidl(1) = %+v, %v", m, err)
	}
	top, err := cl.Top(1, 0)
	if err != nil || string(top) != "Subject: hi\r\nX-Probe: 1\r\n\r\n" {
		t.Fatalf("Top() = %q, %v", top, err)
	}
	msg, err := cl.Retr(2)
	if err != nil || string(msg) != "Subject: x\r\n\r\n.leading dot\r\nbody\r\n" {
		t.Fatalf("Retr() = %q, %v", msg, err)
	}
	for _, f := range []func() error{func() error { return cl.Dele(2) }, cl.Rset, cl.Noop} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	var se *wire.ServerError
	if err := cl.Dele(9); !errors.As(err, &se) || se.Reply != "-ERR no such message" {
		t.Fatalf("Dele(9) = %#v, want ServerError", err)
	}
	if err := cl.Quit(); err != nil {
		t.Fatal(err)
	}
	hasLine(t, tr, "C: QUIT")
}

// TestPipelined: with PIPELINING, TopEach and UidlEach send their commands
// ahead of the responses; without it, one at a time. A -ERR for one message
// goes to the callback and the next follows.
func TestPipelined(t *testing.T) {
	capa := func(pipelining bool) []string {
		s := []string{"C: CAPA", "S: +OK", "S: TOP", "S: UIDL"}
		if pipelining {
			s = append(s, "S: PIPELINING")
		}
		return append(s, "S: .")
	}
	top := func(id string) []string {
		return []string{"S: +OK", "S: Subject: " + id, "S: ..dot", "S: ", "S: ."}
	}
	tests := []struct {
		name   string
		script []string
	}{
		{"pipelined", slices.Concat(capa(true),
			[]string{"C: UIDL 3", "C: UIDL 2", "C: UIDL 1", "S: +OK 3 c", "S: -ERR no such message", "S: +OK 1 a"},
			[]string{"C: TOP 3 0", "C: TOP 2 0", "C: TOP 1 0"}, top("3"), []string{"S: -ERR gone"}, top("1"))},
		{"one at a time", slices.Concat(capa(false),
			[]string{"C: UIDL 3", "S: +OK 3 c", "C: UIDL 2", "S: -ERR no such message", "C: UIDL 1", "S: +OK 1 a"},
			[]string{"C: TOP 3 0"}, top("3"), []string{"C: TOP 2 0", "S: -ERR gone", "C: TOP 1 0"}, top("1"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, _ := session(t, tt.script...)
			if _, err := cl.Capa(); err != nil {
				t.Fatal(err)
			}
			var got []string
			err := cl.UidlEach([]int{3, 2, 1}, func(m MessageInfo, err error) {
				got = append(got, fmt.Sprintf("%d %s %v", m.ID, m.UID, err))
			})
			want := []string{"3 c <nil>", "2  server replied: -ERR no such message", "1 a <nil>"}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("UidlEach: %q, %v; want %q", got, err, want)
			}
			got = nil
			err = cl.TopEach([]int{3, 2, 1}, 0, func(id int, msg []byte, err error) {
				got = append(got, fmt.Sprintf("%d %q %v", id, msg, err))
			})
			want = []string{`3 "Subject: 3\r\n.dot\r\n\r\n" <nil>`, `2 "" server replied: -ERR gone`, `1 "Subject: 1\r\n.dot\r\n\r\n" <nil>`}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("TopEach: %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestMaildropMalformed(t *testing.T) {
	tests := []struct {
		name   string
		script []string
		call   func(cl *Client) error
	}{
		{"STAT without numbers", []string{"C: STAT", "S: +OK lots"}, func(cl *Client) error { _, _, err := cl.Stat(); return err }},
		{"STAT negative", []string{"C: STAT", "S: +OK -1 20"}, func(cl *Client) error { _, _, err := cl.Stat(); return err }},
		{"LIST of another message", []string{"C: LIST 2", "S: +OK 3 200"}, func(cl *Client) error { _, err := cl.List(2); return err }},
		{"LIST line malformed", []string{"C: LIST", "S: +OK", "S: one 200", "S: ."}, func(cl *Client) error { _, err := cl.ListAll(); return err }},
		{"UIDL too long", []string{"C: UIDL 1", "S: +OK 1 " + strings.Repeat("u", 71)}, func(cl *Client) error { _, err := cl.Uidl(1); return err }},
		{"UIDL missing uid", []string{"C: UIDL", "S: +OK", "S: 1", "S: ."}, func(cl *Client) error { _, err := cl.UidlAll(); return err }},
		{"UIDL n of another message", []string{"C: UIDL 1", "S: +OK 2 b"}, func(cl *Client) error {
			return cl.UidlEach([]int{1}, func(MessageInfo, error) { t.Error("a malformed reply reached the callback") })
		}},
		{"TOP answered without a status", []string{"C: TOP 1 0", "S: Subject: hi"}, func(cl *Client) error {
			return cl.TopEach([]int{1}, 0, func(int, []byte, error) { t.Error("a broken reply reached the callback") })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, _ := session(t, tt.script...)
			wantViolation(t, tt.call(cl))
		})
	}
}

func TestMessageLinesCap(t *testing.T) {
	script := []string{"C: RETR 1", "S: +OK"}
	for i := 0; i < 6; i++ {
		script = append(script, "S: line")
	}
	cl, _ := session(t, script...)
	cl.MessageLines = 5
	_, err := cl.Retr(1)
	wantViolation(t, err)
}
