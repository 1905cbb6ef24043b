package sasl

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	tests := []struct {
		want      string
		adv       []string
		token, tl bool
		got       string
		err       bool
	}{
		{"", []string{"LOGIN", "PLAIN"}, false, true, "PLAIN", false},
		{"auto", []string{"login", "cram-md5"}, false, true, "LOGIN", false},
		{"", []string{"PLAIN", "CRAM-MD5"}, false, false, "CRAM-MD5", false},
		{"", []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}, true, true, "OAUTHBEARER", false},
		{"", []string{"PLAIN", "XOAUTH2"}, true, true, "XOAUTH2", false},
		{"", []string{"PLAIN"}, true, true, "", true},
		{"login", []string{"PLAIN", "LOGIN"}, false, true, "LOGIN", false},
		{"CRAM-MD5", []string{"PLAIN"}, false, true, "", true},
		{"", nil, false, true, "", true},
	}
	for _, tc := range tests {
		got, err := Choose(tc.want, tc.adv, tc.token, tc.tl)
		if got != tc.got || (err != nil) != tc.err {
			t.Errorf("Choose(%q, %v, %v, %v) = %q, %v", tc.want, tc.adv, tc.token, tc.tl, got, err)
		}
		if err != nil && !errors.Is(err, ErrNoMechanism) {
			t.Errorf("error does not wrap ErrNoMechanism: %v", err)
		}
	}
}

func TestCRAMMD5(t *testing.T) {
	// RFC 2195's example.
	c, _ := New(CRAMMD5, Credentials{User: "tim", Password: "tanstaaftanstaaf"})
	c.Start()
	resp, err := c.Next([]byte("<1896.697170952@postoffice.reston.mci.net>"))
	if err != nil || string(resp) != "tim b913a602c7eda7a495b4e6e7334d3890" {
		t.Fatalf("CRAM-MD5 response %q, %v", resp, err)
	}
}

func TestXOAUTH2AndLOGIN(t *testing.T) {
	x, _ := New(XOAuth2, Credentials{User: "u@example.com", Token: "tok"})
	mech, ir, _ := x.Start()
	if mech != "XOAUTH2" || string(ir) != "user=u@example.com\x01auth=Bearer tok\x01\x01" {
		t.Fatalf("XOAUTH2 start %s %q", mech, ir)
	}
	if r, err := x.Next([]byte(`{"status":"401"}`)); err != nil || len(r) != 0 {
		t.Fatalf("XOAUTH2 must answer an error challenge empty: %q %v", r, err)
	}
	l, _ := New(Login, Credentials{User: "u", Password: "p"})
	l.Start()
	a, _ := l.Next([]byte("Username:"))
	b, _ := l.Next([]byte("Password:"))
	if string(a) != "u" || string(b) != "p" {
		t.Fatalf("LOGIN answered %q %q", a, b)
	}
	if _, err := l.Next(nil); err == nil {
		t.Fatal("LOGIN accepted a third challenge")
	}
}

func TestWatchSeesEveryResponse(t *testing.T) {
	c, _ := New(Login, Credentials{User: "u", Password: "p"})
	var sent []string
	w := Watch(c, func(r []byte) { sent = append(sent, string(r)) })
	w.Start() // LOGIN has no initial response: nothing to see
	a, _ := w.Next([]byte("Username:"))
	b, _ := w.Next([]byte("Password:"))
	if !slices.Equal(sent, []string{string(a), string(b)}) || !slices.Equal(sent, []string{"u", "p"}) {
		t.Errorf("watched %q", sent)
	}
	x, _ := New(XOAuth2, Credentials{User: "u", Token: "t"})
	sent = nil
	_, ir, _ := Watch(x, func(r []byte) { sent = append(sent, string(r)) }).Start()
	if !slices.Equal(sent, []string{string(ir)}) {
		t.Errorf("the initial response was not seen: %q", sent)
	}
}

func TestUnsupportedError(t *testing.T) {
	err := error(&UnsupportedError{Want: "PLAIN", Offered: []string{"CRAM-MD5", "LOGIN"}})
	if !errors.Is(err, ErrNoMechanism) || err.Error() != "the server does not offer PLAIN (offered: CRAM-MD5 LOGIN)" {
		t.Errorf("%v", err)
	}
	if got := (&UnsupportedError{Why: "LOGINDISABLED"}).Error(); got != "the server offers no mechanism mailmon can use: LOGINDISABLED (offered: none)" {
		t.Errorf("%q", got)
	}
	for mech, want := range map[string]Exposure{"plain": RevealsSecret, "LOGIN": RevealsSecret, "USER": RevealsSecret,
		"XOAUTH2": RevealsSecret, "cram-md5": RevealsDigest, "APOP": RevealsDigest, "": RevealsSecret} {
		if got := ExposureOf(mech); got != want {
			t.Errorf("ExposureOf(%q) = %d, want %d", mech, got, want)
		}
	}
}

// TestOAuthErrorChallenge: the JSON error a server sends as the challenge
// of a failed XOAUTH2 or OAUTHBEARER login (RFC 7628 §3.2.2) is decoded
// and kept, through Watch, and said in words.
func TestOAuthErrorChallenge(t *testing.T) {
	challenge := []byte(`{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}`)
	for _, mech := range []string{XOAuth2, OAuthBearer} {
		c, _ := New(mech, Credentials{User: "u@example.com", Token: "tok", Host: "h", Port: 993})
		w := Watch(c, func([]byte) {})
		w.Start()
		if _, ok := OAuthFailure(w); ok {
			t.Errorf("%s: a failure before any challenge", mech)
		}
		if _, err := w.Next(challenge); err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
		ch, ok := OAuthFailure(w)
		if !ok || ch.Status != "401" || ch.Scope != "https://mail.google.com/" {
			t.Fatalf("%s: %+v %v", mech, ch, ok)
		}
		if got := ch.String(); !strings.Contains(got, "status 401 (the token expired") || !strings.Contains(got, "scope https://mail.google.com/") {
			t.Errorf("%s: %q", mech, got)
		}
	}
	for _, bad := range []string{``, `not json`, `{"schemes":"bearer"}`, `[1]`} {
		if _, ok := ParseOAuthChallenge([]byte(bad)); ok {
			t.Errorf("ParseOAuthChallenge(%q) took it", bad)
		}
	}
	if _, ok := OAuthFailure(&loginClient{}); ok {
		t.Error("LOGIN has an OAuth failure")
	}
}
