package message

import (
	"bytes"
	"net/mail"
	"testing"
	"time"
)

// TestBytes: the fields in their order, each on one line, the subject
// encoded where it is not ASCII, the date in UTC, and CRLF everywhere.
func TestBytes(t *testing.T) {
	m := Message{
		From: "alerts@example.test", To: []string{"a@example.test", "b@example.test"},
		Subject: "Ünïcode down\r\nBcc: victim@example.test", Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600)),
		MessageID: "12-alert-1.alert@mailmon.invalid",
		Fields:    []Field{{"X-Mailmon-Probe", "v1 inst nonce 1767319445 hmac"}, {"X-Two", "a\nb"}},
		Body:      "line1\nline2\r\n.dot\n",
	}
	want := "From: <alerts@example.test>\r\n" +
		"To: <a@example.test>, <b@example.test>\r\n" +
		"Subject: =?utf-8?q?=C3=9Cn=C3=AFcode_down__Bcc:_victim@example.test?=\r\n" +
		"Date: Fri, 02 Jan 2026 02:04:05 +0000\r\n" +
		"Message-ID: <12-alert-1.alert@mailmon.invalid>\r\n" +
		"X-Mailmon-Probe: v1 inst nonce 1767319445 hmac\r\n" +
		"X-Two: a b\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"Auto-Submitted: auto-generated\r\n" +
		"\r\n" +
		"line1\r\nline2\r\n.dot\r\n"
	if got := string(m.Bytes()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(m.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header.Get("Bcc") != "" || len(parsed.Header) != 11 {
		t.Errorf("a newline in a value made a field: %v", parsed.Header)
	}
}

// TestPlainASCII: an ASCII subject is written as it is, and no Message-ID
// is written without an id.
func TestPlainASCII(t *testing.T) {
	m := Message{From: "p@example.test", To: []string{"box@example.test"}, Subject: "mailmon probe check 0123", Date: time.Unix(0, 0)}
	got := string(m.Bytes())
	want := "From: <p@example.test>\r\nTo: <box@example.test>\r\nSubject: mailmon probe check 0123\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
	if got[:len(want)] != want {
		t.Errorf("got\n%s\nwant it to start with\n%s", got, want)
	}
}
