package smtp

import (
	"encoding/base64"
	"errors"
	"slices"
	"testing"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/testutil/scripted"
	"github.com/mailmon/mailmon/internal/wire"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// emptyIR is a mechanism whose initial response is empty, then answers a
// challenge empty.
type emptyIR struct{}

func (emptyIR) Start() (string, []byte, error) { return "X-EMPTY", []byte{}, nil }
func (emptyIR) Next([]byte) ([]byte, error)    { return []byte{}, nil }

// TestAuthEmptyResponses: "=" stands for an empty initial response only; an
// empty continuation response is an empty line (RFC 4954 §4).
func TestAuthEmptyResponses(t *testing.T) {
	xo, _ := sasl.New(sasl.XOAuth2, sasl.Credentials{User: "u@example.com", Token: "tok-123"})
	conn, tr := scripted.Conn(t,
		"C: AUTH XOAUTH2 "+b64("user=u@example.com\x01auth=Bearer tok-123\x01\x01"),
		"S: 334 "+b64(`{"status":"401","schemes":"bearer"}`),
		"C: ",
		"S: 535 5.7.8 Username and Password not accepted",
		"C: AUTH X-EMPTY =",
		"S: 334 ",
		"C: ",
		"S: 235 2.7.0 Accepted",
	)
	cl := NewClient(conn)
	var ae *wire.AuthError
	if err := cl.Auth(xo); !errors.As(err, &ae) {
		t.Fatalf("XOAUTH2 refused: %v, want an AuthError", err)
	}
	if err := cl.Auth(emptyIR{}); err != nil {
		t.Fatalf("empty exchange: %v", err)
	}
	want := []string{"C: AUTH XOAUTH2 [redacted]", "C: [redacted]", "C: AUTH X-EMPTY [redacted]", "C: [redacted]"}
	var got []string
	for _, l := range tr.Lines() {
		if l[:3] == "C: " {
			got = append(got, l)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("client lines %q, want %q", got, want)
	}
}

// TestAuthReplies: only a refusal of the credentials is auth_failed.
func TestAuthReplies(t *testing.T) {
	tests := []struct {
		reply     string
		auth      bool // an *wire.AuthError
		temporary bool
	}{
		{"535 5.7.8 Authentication credentials invalid", true, false},
		{"534 5.7.9 Authentication mechanism is too weak", true, false},
		{"538 5.7.11 Encryption required for requested authentication mechanism", true, false},
		{"500 5.5.2 Syntax error, command unrecognized", false, false},
		{"501 5.5.2 Cannot decode response", false, false},
		{"504 5.5.4 Unrecognized authentication type", false, false},
		{"530 5.7.0 Must issue a STARTTLS command first", false, false},
		{"454 4.7.0 Temporary authentication failure", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.reply[:3], func(t *testing.T) {
			conn, _ := scripted.Conn(t, "C: AUTH PLAIN "+b64("\x00u\x00p"), "S: "+tc.reply)
			m, _ := sasl.New(sasl.Plain, sasl.Credentials{User: "u", Password: "p"})
			err := NewClient(conn).Auth(m)
			var ae *wire.AuthError
			var se *wire.ServerError
			switch {
			case tc.auth && !errors.As(err, &ae):
				t.Errorf("%v (%T), want an AuthError", err, err)
			case !tc.auth && (errors.As(err, &ae) || !errors.As(err, &se)):
				t.Errorf("%v (%T), want a ServerError, not an AuthError", err, err)
			case !tc.auth && (se.Reply != tc.reply || se.Temporary != tc.temporary):
				t.Errorf("server error %+v, want the reply %q, temporary %v", se, tc.reply, tc.temporary)
			}
		})
	}
}

// TestExtensionsInTheServersOrder: the keywords come in the order the
// server advertised them, each once (the pre-standard AUTH= folded into
// AUTH), every time: they are stored with each result.
func TestExtensionsInTheServersOrder(t *testing.T) {
	for range 5 {
		conn, _ := scripted.Conn(t,
			"C: EHLO probe.example",
			"S: 250-mx.example",
			"S: 250-PIPELINING",
			"S: 250-SIZE 10240000",
			"S: 250-VRFY",
			"S: 250-ETRN",
			"S: 250-STARTTLS",
			"S: 250-AUTH PLAIN LOGIN",
			"S: 250-AUTH=PLAIN LOGIN",
			"S: 250-ENHANCEDSTATUSCODES",
			"S: 250-8BITMIME",
			"S: 250-DSN",
			"S: 250-SMTPUTF8",
			"S: 250 CHUNKING",
		)
		cl := NewClient(conn)
		if _, err := cl.Hello("probe.example"); err != nil {
			t.Fatal(err)
		}
		want := []string{"PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "AUTH", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"}
		if got := cl.Extensions(); !slices.Equal(got, want) {
			t.Fatalf("extensions %q, want %q", got, want)
		}
		if v, ok := cl.Ext("auth"); !ok || v != "PLAIN LOGIN PLAIN LOGIN" {
			t.Fatalf("Ext(auth) = %q, %v, want both AUTH lines' mechanisms", v, ok)
		}
		if n := cl.Size(); n != 10240000 {
			t.Fatalf("size %d, want 10240000", n)
		}
	}
}

// TestStartTLSForgetsExtensions: what the server advertised before
// STARTTLS is void once it accepted (RFC 3207 §4.2): no keyword is left,
// not even in the list stored with a result, until the next EHLO.
func TestStartTLSForgetsExtensions(t *testing.T) {
	conn, _ := scripted.Conn(t,
		"C: EHLO probe.example",
		"S: 250-mx.example",
		"S: 250-STARTTLS",
		"S: 250 SIZE 1000",
		"C: STARTTLS",
		"S: 220 2.0.0 Ready to start TLS",
	)
	cl := NewClient(conn)
	if _, err := cl.Hello("probe.example"); err != nil {
		t.Fatal(err)
	}
	if err := cl.StartTLS(); err != nil {
		t.Fatal(err)
	}
	if got := cl.Extensions(); len(got) != 0 {
		t.Errorf("extensions %q after STARTTLS, want none", got)
	}
	if _, ok := cl.Ext("STARTTLS"); ok || cl.Size() != 0 {
		t.Errorf("STARTTLS or SIZE still known after STARTTLS")
	}
}
