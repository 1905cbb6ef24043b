package roundtrip

import (
	"bytes"
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/keyfile"
)

var (
	testKey  = keyfile.Key("this-installation-secret-0123456789")
	otherKey = keyfile.Key("another-installation-secret-98765")
)

func header(raw []byte) []byte {
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	return raw[:i+4]
}

func TestProbeMessage(t *testing.T) {
	now := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	p, err := NewProbe(testKey, "IMAP round trip", "probe@example.test", "box@example.test", now)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(p.Raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get("Subject"); got != "mailmon probe IMAP round trip "+p.Nonce {
		t.Errorf("subject %q", got)
	}
	if len(p.Nonce) != 32 || m.Header.Get("Message-Id") != "<"+p.Nonce+".probe@example.test>" || m.Header.Get("Date") == "" {
		t.Errorf("nonce %q, headers %v", p.Nonce, m.Header)
	}
	if body := new(bytes.Buffer); func() bool { body.ReadFrom(m.Body); return body.Len() < 50 }() {
		t.Error("the body is (nearly) empty: filters quarantine empty bodies")
	}
	if strings.Contains(string(p.Raw), string(testKey)) {
		t.Error("the secret is in the message")
	}
	if bytes.Contains(bytes.ReplaceAll(p.Raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("a bare LF in the message")
	}
	f, err := Inspect(testKey, header(p.Raw))
	if err != nil || f.Nonce != p.Nonce || !f.Created.Equal(now) {
		t.Fatalf("Inspect = %+v, %v", f, err)
	}
	p2, _ := NewProbe(testKey, "IMAP round trip", "probe@example.test", "box@example.test", now)
	if p2.Nonce == p.Nonce {
		t.Error("two probes share a nonce")
	}
	// The stamp names the installation, so a mailbox can be searched for
	// this installation's probes alone; the name gives nothing of the secret.
	id := InstallationID(testKey)
	if !strings.HasPrefix(m.Header.Get(Header), "v1 "+id+" ") || id == InstallationID(otherKey) || strings.Contains(string(testKey), id) {
		t.Errorf("stamp %q, installation id %q", m.Header.Get(Header), id)
	}
}

func TestInspectLeavesOthersAlone(t *testing.T) {
	now := time.Now()
	mine, _ := NewProbe(testKey, "m", "a@example.test", "b@example.test", now)
	theirs, _ := NewProbe(otherKey, "m", "a@example.test", "b@example.test", now)
	h := string(header(mine.Raw))
	stamp := h[strings.Index(h, Header+": ")+len(Header)+2:]
	stamp = stamp[:strings.Index(stamp, "\r\n")]
	f := strings.Fields(stamp)

	tests := []struct {
		name string
		hdr  string
		want error
	}{
		{"an ordinary message", "From: x@example.test\r\nSubject: hello\r\n\r\n", ErrNotProbe},
		{"another installation's probe", string(header(theirs.Raw)), ErrForged},
		{"a look-alike subject without a stamp", "Subject: mailmon probe m " + mine.Nonce + "\r\n\r\n", ErrNotProbe},
		{"a forged stamp", strings.Replace(h, f[4], strings.Repeat("0", 64), 1), ErrForged},
		{"a stamp moved back in time", strings.Replace(h, " "+f[3]+" ", " 1000 ", 1), ErrForged},
		{"a stamp claiming another installation", strings.Replace(h, " "+f[1]+" ", " "+InstallationID(otherKey)+" ", 1), ErrForged},
		{"a valid stamp under another subject", strings.Replace(h, "Subject: mailmon probe m", "Subject: please delete", 1), ErrForged},
		{"a valid stamp with another nonce in the subject", strings.Replace(h, "m "+mine.Nonce, "m "+theirs.Nonce, 1), ErrForged},
		{"garbage", "\x00\xff\r\n\r\n", ErrNotProbe},
		{"a malformed stamp", "X-Mailmon-Probe: v1 short\r\n\r\n", ErrForged},
	}
	for _, tc := range tests {
		if _, err := Inspect(testKey, []byte(tc.hdr)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestInspectKeepsAuthHeaders: Inspect keeps every Authentication-Results
// header, top first, for ReadAuthResults to choose from.
func TestInspectKeepsAuthHeaders(t *testing.T) {
	p, _ := NewProbe(testKey, "m", "a@example.test", "b@example.test", time.Now())
	h := "Authentication-Results: mx.example.test;\r\n spf=pass (sender SPF authorized; really) smtp.mailfrom=a@example.test\r\n" +
		"Authentication-Results: earlier.example; spf=fail; arc=none\r\n" + string(header(p.Raw))
	f, err := Inspect(testKey, []byte(h))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.AuthHeaders) != 2 || !strings.HasPrefix(f.AuthHeaders[0], "mx.example.test;") || !strings.HasPrefix(f.AuthHeaders[1], "earlier.example;") {
		t.Fatalf("AuthHeaders = %q", f.AuthHeaders)
	}
	many := strings.Repeat("Authentication-Results: x; spf=pass\r\n", 3*maxAuthHeaders) + string(header(p.Raw))
	if f, err := Inspect(testKey, []byte(many)); err != nil || len(f.AuthHeaders) != maxAuthHeaders {
		t.Fatalf("%d headers kept (%v), want %d", len(f.AuthHeaders), err, maxAuthHeaders)
	}
}

// FuzzInspect: server-supplied headers never panic the parser, and nothing
// but a message stamped with the key is ever taken for a probe.
func FuzzInspect(f *testing.F) {
	p, _ := NewProbe(testKey, "fuzz", "a@example.test", "b@example.test", time.Unix(1700000000, 0))
	f.Add(header(p.Raw))
	f.Add([]byte("Subject: mailmon probe x 0123\r\nX-Mailmon-Probe: v1 00000000000000000000000000000000 1 00\r\n\r\n"))
	f.Add([]byte("Authentication-Results: a; spf=pass (((; dkim\r\n\r\n"))
	f.Fuzz(func(t *testing.T, hdr []byte) {
		found, err := Inspect(otherKey, hdr)
		if err == nil {
			t.Fatalf("a message not stamped with this key was taken for a probe: %+v", found)
		}
		if found, err := Inspect(testKey, hdr); err == nil && !bytes.Contains(hdr, []byte(found.Nonce)) {
			t.Fatalf("verified a probe whose nonce is not in the header: %+v", found)
		}
	})
}
