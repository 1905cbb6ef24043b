package cli

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakeimap"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/nosecret"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

// The accounts of the echoing fakes: the mailbox and the round trip's SMTP
// leg, each with a password and a token.
const (
	echoBox     = "box@example.test"
	echoBoxPW   = "mailbox-Pa55-word-4321"
	echoBoxTok  = "ya29.mailbox-token-9876"
	echoSender  = "sender@example.test"
	echoSendPW  = "smtp-leg-Pa55-1357"
	echoWrongPW = "wrong-Pa55-word-8642"
	echoWrongTk = "ya29.wrong-token-5555"
	echoKey     = "cli-echo-installation-secret-0123"
)

// cramDigests are the CRAM-MD5 digests of pw for the fakes' fixed
// challenges: what the client sends, and a server may echo.
func cramDigests(pw string) []string {
	var out []string
	for _, chal := range []string{"<1896.697170952@fake.example>", "<1896.697170952@fakeimap.test>"} {
		m := hmac.New(md5.New, []byte(pw))
		m.Write([]byte(chal))
		out = append(out, hex.EncodeToString(m.Sum(nil)))
	}
	return out
}

// TestEchoedSecretsNeverLeave: servers that echo the credentials every way
// they can (decoded, as the command line, at each SASL step, in refusals,
// in greetings and capabilities after login) never get a secret, nor any
// encoding of it, into the output of mailmon check, in any format, for
// SMTP, POP3 and IMAP and both legs of the round trips.
func TestEchoedSecretsNeverLeave(t *testing.T) {
	ca := certs.NewCA(t)
	tlsCfg := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	caFile := ca.File(t)
	secrets := map[string]string{"box": echoBoxPW, "token": echoBoxTok, "send": echoSendPW, "wrong": echoWrongPW,
		"wrongtoken": echoWrongTk, "secret": echoKey}
	dir := t.TempDir()
	for name, v := range secrets {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := func(name string) string { return filepath.Join(dir, name) }
	boxAccounts := saslsrv.Accounts{Passwords: map[string]string{echoBox: echoBoxPW}, Tokens: map[string]string{echoBox: echoBoxTok}}
	sendAccounts := saslsrv.Accounts{Passwords: map[string]string{echoSender: echoSendPW}}
	boxUser := fakepop3.User{Name: echoBox, Password: echoBoxPW, Token: echoBoxTok}
	imapUser := fakeimap.User{Name: echoBox, Password: echoBoxPW, Token: echoBoxTok}

	smtp := func(t *testing.T, accounts saslsrv.Accounts, onData func(fakesmtp.Message)) []string {
		s := fakesmtp.Start(t, fakesmtp.Options{TLS: tlsCfg, Accounts: accounts, Echo: true, OnData: onData})
		return []string{"--host", s.Host, "--port", strconv.Itoa(s.Port), "--tls", "starttls", "--ca", caFile}
	}
	var pops []*fakepop3.Server
	pop3 := func(t *testing.T) (*fakepop3.Server, []string) {
		s := fakepop3.Start(t, fakepop3.Options{Implicit: true, TLS: tlsCfg, APOP: true, Echo: true, Users: []fakepop3.User{boxUser},
			SASL: []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"}})
		pops = append(pops, s)
		return s, []string{"--host", s.Host, "--port", strconv.Itoa(s.Port), "--tls", "implicit", "--ca", caFile}
	}
	imap := func(t *testing.T) (*fakeimap.Server, []string) {
		s := fakeimap.Start(t, fakeimap.Options{TLSConfig: tlsCfg, Implicit: true, Echo: true, Users: []fakeimap.User{imapUser},
			Mechanisms: []string{"PLAIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"}})
		return s, []string{"--host", s.Host, "--port", strconv.Itoa(s.Port), "--tls", "implicit", "--ca", caFile}
	}
	// login is the flags of a login as echoBox with the secret in the file
	// named; it adds the secret's forms to the case's.
	login := func(c *[]string, auth, secret string) []string {
		if auth == "XOAUTH2" || auth == "OAUTHBEARER" {
			tok := map[string]string{"box": "token", "wrong": "wrongtoken"}[secret]
			*c = append(*c, nosecret.Forms(echoBox, secrets[tok])...)
			return []string{"--user", echoBox, "--auth", auth, "--oauth-token-file", file(tok)}
		}
		*c = append(*c, nosecret.Forms(echoBox, secrets[secret])...)
		*c = append(*c, cramDigests(secrets[secret])...)
		return []string{"--user", echoBox, "--auth", auth, "--password-file", file(secret)}
	}
	// roundTrip is the flags of a round trip whose SMTP leg logs in with
	// the password in the file named into an echoing SMTP fake that
	// delivers into deliver.
	roundTrip := func(t *testing.T, c *[]string, secret string, deliver func(fakesmtp.Message)) []string {
		leg := smtp(t, sendAccounts, deliver)
		*c = append(*c, nosecret.Forms(echoSender, secrets[secret])...)
		return []string{"--smtp-host", leg[1], "--smtp-port", leg[3], "--smtp-tls", "starttls", "--smtp-user", echoSender,
			"--smtp-password-file", file(secret), "--smtp-auth", "PLAIN", "--from", echoSender, "--to", echoBox,
			"--secret-file", file("secret"), "--timeout", "5s", "--poll-interval", "200ms"}
	}

	// A case returns the arguments of mailmon check and adds the forms of
	// the secrets it gives the check: a server that echoes a secret the
	// check was not given (the account's password, to a wrong one) shows
	// what it likes.
	type echoCase struct {
		name string
		args func(t *testing.T, c *[]string) []string
	}
	var cases []echoCase
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"} {
		for _, pw := range []string{"box", "wrong"} {
			cases = append(cases, echoCase{"smtp " + mech + " " + pw, func(t *testing.T, c *[]string) []string {
				return append(append([]string{"smtp"}, smtp(t, boxAccounts, nil)...), login(c, mech, pw)...)
			}})
		}
	}
	for _, mech := range []string{"USER", "APOP", "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"} {
		for _, pw := range []string{"box", "wrong"} {
			cases = append(cases, echoCase{"pop3 " + mech + " " + pw, func(t *testing.T, c *[]string) []string {
				_, args := pop3(t)
				return append(append(append([]string{"pop3"}, args...), login(c, mech, pw)...), "--stat")
			}})
		}
	}
	for _, mech := range []string{"LOGIN", "PLAIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"} {
		for _, pw := range []string{"box", "wrong"} {
			cases = append(cases, echoCase{"imap " + mech + " " + pw, func(t *testing.T, c *[]string) []string {
				_, args := imap(t)
				return append(append(append([]string{"imap"}, args...), login(c, mech, pw)...), "--mailbox", "INBOX")
			}})
		}
	}
	for _, legs := range [][2]string{{"box", "send"}, {"box", "wrong"}, {"wrong", "send"}} {
		cases = append(cases, echoCase{"pop3-roundtrip mailbox " + legs[0] + ", smtp " + legs[1], func(t *testing.T, c *[]string) []string {
			s, args := pop3(t)
			args = append(append([]string{"pop3-roundtrip"}, args...), login(c, "USER", legs[0])...)
			return append(args, roundTrip(t, c, legs[1], func(m fakesmtp.Message) { s.Deliver(echoBox, m.Data) })...)
		}}, echoCase{"imap-roundtrip mailbox " + legs[0] + ", smtp " + legs[1], func(t *testing.T, c *[]string) []string {
			s, args := imap(t)
			args = append(append([]string{"imap-roundtrip"}, args...), login(c, "PLAIN", legs[0])...)
			return append(args, roundTrip(t, c, legs[1], func(m fakesmtp.Message) {
				if err := s.Append(echoBox, "INBOX", m.Data); err != nil {
					t.Errorf("delivery: %v", err)
				}
			})...)
		}})
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pops = nil
			forms := []string{echoKey}
			args := tc.args(t, &forms)
			echoed := false
			for _, output := range []string{"nagios", "json", "text"} {
				_, out, errOut := runCLI(t, nil, append(append([]string{"check"}, args...), "--output", output)...)
				all := out + errOut
				// An APOP digest depends on the greeting's timestamp.
				more := forms
				for _, s := range pops {
					for _, c := range s.Commands() {
						if f := strings.Fields(c.Line); c.Secret && len(f) > 1 {
							more = append(more, f[len(f)-1])
						}
					}
				}
				nosecret.Check(t, "mailmon check --output "+output, all, more)
				if output == "json" && os.Getenv("ECHODEBUG") != "" {
					t.Log(all)
				}
				if output == "json" {
					echoed = strings.Contains(all, "you sent") || strings.Contains(all, "you said") ||
						strings.Contains(all, "knows") || strings.Contains(all, "X-ECHO")
				}
			}
			if !echoed {
				t.Errorf("the server echoed nothing: the case proves nothing")
			}
		})
	}
}
