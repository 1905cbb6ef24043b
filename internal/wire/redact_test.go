package wire

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/nosecret"
)

const (
	testUser = "alice@example.test"
	testPW   = `pa"ss\word-42`
	testTok  = "ya29.a0AfH6SMC-token_value"
)

// secretsOfATest registers what a test holds and sends: the password, a
// token, and the SASL payloads made of them.
func secretsOfATest() *Secrets {
	s := &Secrets{}
	s.Add(testPW)
	s.Add(testTok)
	s.AddPayload([]byte("\x00" + testUser + "\x00" + testPW))
	s.AddPayload([]byte("user=" + testUser + "\x01auth=Bearer " + testTok + "\x01\x01"))
	s.AddPayload([]byte(testPW)) // LOGIN's second step
	s.AddEncoded("0123456789abcdef0123456789abcdef")
	return s
}

func b64(enc *base64.Encoding, s string) string { return enc.EncodeToString([]byte(s)) }

func TestRedactEchoes(t *testing.T) {
	s := secretsOfATest()
	plain := "\x00" + testUser + "\x00" + testPW
	xoauth := "user=" + testUser + "\x01auth=Bearer " + testTok + "\x01\x01"
	tests := map[string]string{
		"decoded PLAIN, NULs and all":        "535 5.7.8 bad credentials: " + plain,
		"the raw command line":               "500 5.5.1 unrecognized: AUTH PLAIN " + b64(base64.StdEncoding, plain),
		"PLAIN in URL base64":                "NO [ALERT] you sent " + b64(base64.URLEncoding, plain),
		"PLAIN in unpadded base64":           "-ERR " + b64(base64.RawStdEncoding, plain) + " is wrong",
		"XOAUTH2 blob":                       "334 " + b64(base64.StdEncoding, xoauth),
		"XOAUTH2 decoded":                    "535 " + xoauth,
		"token inside a blob of its own":     b64(base64.StdEncoding, `{"token":"`+testTok+`","x":1}`),
		"password in another blob, shift 1":  b64(base64.StdEncoding, "x"+testPW+"yz"),
		"password in another blob, shift 2":  b64(base64.URLEncoding, "xy"+testPW),
		"IMAP quoted string":                 `a1 NO LOGIN "alice" "` + imapQuoted(testPW) + `" rejected`,
		"Go-quoted in an error":              fmt.Sprintf("unexpected reply %q", "bad "+testPW),
		"cut off by Truncate":                Truncate("550 "+testPW, 10),
		"APOP digest":                        "-ERR digest 0123456789abcdef0123456789abcdef is wrong",
		"LOGIN password step, base64 padded": "334 " + b64(base64.StdEncoding, testPW),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			out := s.Redact(in)
			if !strings.Contains(out, Redacted) {
				t.Fatalf("nothing redacted in %q", out)
			}
			for _, f := range []string{testPW, testTok, b64(base64.StdEncoding, plain), b64(base64.StdEncoding, testPW),
				"0123456789abcdef", testPW[:4] + "…"} {
				if strings.Contains(out, f) {
					t.Errorf("%q survives in %q", f, out)
				}
			}
			assertNoNeedle(t, s.Needles(), out)
		})
	}
}

func TestRedactLeavesOtherTextAlone(t *testing.T) {
	s := secretsOfATest()
	for _, in := range []string{
		"+OK alice@example.test has 3 messages",
		"334 VXNlcm5hbWU6",
		"a2 LOGIN \"alice@example.test\" [redacted]",
		"250-fake.example Hello x",
		"ünïcödé…",
	} {
		if got := s.Redact(in); got != in {
			t.Errorf("Redact(%q) = %q", in, got)
		}
	}
	if got := s.Redact("bell\x07 \x00"); got != Sanitize("bell\x07 \x00") {
		t.Errorf("text without secrets is only sanitized: %q", got)
	}
	var none *Secrets
	if got := none.Redact("x\x00y"); got != "xy" {
		t.Errorf("nil Secrets: %q", got)
	}
}

func TestRedactMarkerInsideSecret(t *testing.T) {
	// "dac" is in the marker itself: redacting again must not grow the text.
	s := &Secrets{}
	s.Add("dac")
	s.Add("d]x")
	once := s.Redact("a dac b d]x c [redacted] d")
	if twice := s.Redact(once); twice != once {
		t.Errorf("not idempotent: %q then %q", once, twice)
	}
	if strings.Count(once, "dac") != strings.Count(once, Redacted) {
		t.Errorf("a secret survives outside the markers: %q", once)
	}
	// Replacing "dac" joins the marker's "d]" and "x" into "d]x": caught.
	if out := s.Redact("dacx"); out != Redacted {
		t.Errorf("Redact(dacx) = %q, want one marker", out)
	}
}

func TestTranscriptForkSharesSecrets(t *testing.T) {
	var tr Transcript
	look := tr.Fork()
	look.AddSecret("token-from-a-look")
	tr.Server("echo token-from-a-look")
	if got := tr.Lines()[0]; got != "S: echo "+Redacted {
		t.Errorf("the fork's secret is not redacted from the parent: %q", got)
	}
}

func TestErrorRedacted(t *testing.T) {
	s := secretsOfATest()
	inner := &AuthError{Reply: "535 bad " + testPW}
	err := s.Error(fmt.Errorf("relay: %w", errors.Join(inner, errors.New("second"))))
	if strings.Contains(err.Error(), testPW) || !strings.Contains(err.Error(), "; second") {
		t.Errorf("error text %q", err.Error())
	}
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Errorf("errors.As no longer finds the cause")
	}
}

func TestOneLine(t *testing.T) {
	if got := OneLine("a\nb\r\nc"); got != "a; b; c" {
		t.Errorf("OneLine = %q", got)
	}
}

// assertNoNeedle fails when a needle shows in out outside a marker.
func assertNoNeedle(t *testing.T, needles []string, out string) {
	t.Helper()
	for _, piece := range strings.Split(out, Redacted) {
		for _, n := range needles {
			if strings.Contains(piece, n) {
				t.Fatalf("%q survives in %q", n, out)
			}
		}
	}
}

// FuzzRedact: a random secret, registered with the payloads a test makes of
// it, echoed by a server in one of its encodings inside random text. No
// registered secret, nor any encoding of it, survives outside a marker;
// text without secrets comes back only sanitized; redacting is idempotent.
func FuzzRedact(f *testing.F) {
	f.Add("s3cr3t-Pa55", "alice", uint8(0), []byte{}, []byte{}, "535 bad ", " here", "innocent text")
	f.Add("dac", "u", uint8(5), []byte{1}, []byte{2, 3}, "[redacted", "]", "[redacted]")
	f.Add(`q"\"`, "bob", uint8(3), []byte{0xff, 0}, []byte{}, "a1 NO ", "", "x…")
	f.Add("tok\x00en\x01", "", uint8(7), []byte("ab"), []byte("c"), "", "…", "")
	f.Fuzz(func(t *testing.T, secret, user string, form uint8, before, after []byte, left, right, clean string) {
		s := &Secrets{}
		s.Add(secret)
		payloads := []string{"\x00" + user + "\x00" + secret, "user=" + user + "\x01auth=Bearer " + secret + "\x01\x01", secret}
		for _, p := range payloads {
			s.AddPayload([]byte(p))
		}
		encs := []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding}
		enc := encs[int(form/8)%len(encs)]
		blob := enc.EncodeToString(append(append(append([]byte(nil), before...), secret...), after...))
		echoes := []string{
			secret, imapQuoted(secret), strconv.Quote(secret), blob,
			enc.EncodeToString([]byte(payloads[0])), enc.EncodeToString([]byte(payloads[1])),
			"\x00" + user + "\x00" + secret, Truncate(left+secret, len(left)+len(secret)/2+MinSecret),
		}
		echo := echoes[int(form)%len(echoes)]
		out := s.Redact(left + echo + right)

		if len(secret) >= MinSecret {
			forbidden := []string{Sanitize(secret), imapQuoted(Sanitize(secret))}
			if c := nosecret.Core(enc, before, []byte(secret)); len(c) >= MinSecret {
				forbidden = append(forbidden, c)
			}
			for _, p := range payloads {
				for _, e := range encs {
					forbidden = append(forbidden, e.EncodeToString([]byte(p)))
				}
			}
			var long []string
			for _, f := range forbidden {
				if len(f) >= MinSecret {
					long = append(long, f)
				}
			}
			assertNoNeedle(t, long, out)
		}
		assertNoNeedle(t, s.Needles(), out)
		if again := s.Redact(out); again != out {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}

		sc := Sanitize(clean)
		if !holdsSecret(sc, s.Needles()) {
			if got := s.Redact(clean); got != sc {
				t.Fatalf("text without secrets changed: %q became %q", sc, got)
			}
		}
	})
}

// holdsSecret reports whether text has a needle, or a prefix of one cut
// by Truncate.
func holdsSecret(text string, needles []string) bool {
	for _, n := range needles {
		if strings.Contains(text, n) {
			return true
		}
		for k := MinSecret; k < len(n); k++ {
			if strings.Contains(text, n[:k]+ellipsis) {
				return true
			}
		}
	}
	return false
}
