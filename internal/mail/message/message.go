// Package message builds the messages mailmon sends: an alert e-mail and a
// round trip's probe. Both are one plain-text UTF-8 part, marked as sent by
// a machine, with the same header fields written the same way; only the
// round trip adds a field of its own (its stamp).
//
// It is written by hand rather than with go-message's writer, which folds
// every field longer than 76 characters and writes fields in reverse order:
// the probe's stamp is ~130 characters on one line, which the round trip
// finds by searching the mailbox for that field, so its bytes stay as they
// always were.
package message

import (
	"bytes"
	"mime"
	"strings"
	"time"
)

// Message is a plain-text message.
type Message struct {
	From      string    // an address, without a display name
	To        []string  // addresses
	Subject   string    // any text: encoded (RFC 2047) where it is not plain ASCII, newlines made spaces
	Date      time.Time // written in UTC
	MessageID string    // without the angle brackets; "" for none
	// Fields are further header fields, written after Message-ID in
	// their order (the round trip's stamp). Newlines in a value become
	// spaces.
	Fields []Field
	Body   string // LF or CRLF line endings; sent with CRLF
}

// Field is one header field.
type Field struct{ Name, Value string }

// Bytes is the message with CRLF line endings, ready for SMTP's DATA.
func (m *Message) Bytes() []byte {
	var b bytes.Buffer
	h := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	h("From", "<"+m.From+">")
	h("To", "<"+strings.Join(m.To, ">, <")+">")
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	h("Date", m.Date.UTC().Format(time.RFC1123Z))
	if m.MessageID != "" {
		h("Message-ID", "<"+m.MessageID+">")
	}
	for _, f := range m.Fields {
		h(f.Name, oneLine(f.Value))
	}
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	h("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n"))
	return b.Bytes()
}

// oneLine keeps a header value on its line: a CR or LF in it would start
// a field of the sender's choosing.
func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
