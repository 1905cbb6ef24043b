package fakepop3_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/mail/pop3"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/leak"
	"github.com/mailmon/mailmon/internal/wire"
)

var bob = fakepop3.User{Name: "bob", Password: "bob-password"}

// login connects with the pop3 client and logs in as bob.
func login(t *testing.T, srv *fakepop3.Server) *pop3.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	raw, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c := wire.NewConn(ctx, raw, wire.DefaultLimits(), &wire.Transcript{})
	t.Cleanup(func() { c.Close() })
	cl := pop3.NewClient(c)
	if _, err := cl.Greeting(); err != nil {
		t.Fatal(err)
	}
	if err := cl.User(bob.Name); err != nil {
		t.Fatal(err)
	}
	if err := cl.Pass(bob.Password); err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestMaildrop walks the commands a round trip uses: UIDL, TOP, RETR, DELE,
// RSET, and QUIT removing only the deleted message.
func TestMaildrop(t *testing.T) {
	leak.Check(t)
	srv := fakepop3.Start(t, fakepop3.Options{Users: []fakepop3.User{bob}})
	keep := srv.Deliver("bob", []byte("Subject: keep\n\n.dotted\nbody\n"))
	probe := srv.Deliver("bob", []byte("Subject: probe\nX-Probe: 1\n\nline 1\nline 2\n"))

	cl := login(t, srv)
	uids, err := cl.UidlAll()
	if err != nil || len(uids) != 2 || uids[0].UID != keep || uids[1].UID != probe {
		t.Fatalf("UidlAll() = %+v, %v", uids, err)
	}
	top, err := cl.Top(2, 1)
	if err != nil || string(top) != "Subject: probe\r\nX-Probe: 1\r\n\r\nline 1\r\n" {
		t.Fatalf("Top(2, 1) = %q, %v", top, err)
	}
	msg, err := cl.Retr(1)
	if err != nil || string(msg) != "Subject: keep\r\n\r\n.dotted\r\nbody\r\n" {
		t.Fatalf("Retr(1) = %q, %v", msg, err)
	}
	if err := cl.Dele(1); err != nil {
		t.Fatal(err)
	}
	if err := cl.Rset(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Dele(2); err != nil {
		t.Fatal(err)
	}
	var se *wire.ServerError
	if _, err := cl.Retr(2); !errors.As(err, &se) {
		t.Fatalf("Retr of a deleted message = %v, want -ERR", err)
	}
	if n, _, err := cl.Stat(); err != nil || n != 1 {
		t.Fatalf("Stat() = %d, %v; want 1 message", n, err)
	}
	if left := srv.Messages("bob"); len(left) != 2 {
		t.Fatalf("%d messages before QUIT, want 2: DELE takes effect at QUIT", len(left))
	}
	if err := cl.Quit(); err != nil {
		t.Fatal(err)
	}
	left := srv.Messages("bob")
	if len(left) != 1 || left[0].UID != keep {
		t.Fatalf("after QUIT: %+v, want only %s", left, keep)
	}
	want := []fakepop3.Read{{Conn: 1, Verb: "TOP", UID: probe, Lines: 1}, {Conn: 1, Verb: "RETR", UID: keep, Lines: -1}}
	if got := srv.Reads(); !slices.Equal(got, want) {
		t.Errorf("Reads() = %+v, want %+v (the failed RETR of a deleted message is no read)", got, want)
	}
}

func TestMaildropLocked(t *testing.T) {
	leak.Check(t)
	srv := fakepop3.Start(t, fakepop3.Options{Users: []fakepop3.User{bob}})
	login(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c := wire.NewConn(ctx, raw, wire.DefaultLimits(), &wire.Transcript{})
	defer c.Close()
	cl := pop3.NewClient(c)
	if _, err := cl.Greeting(); err != nil {
		t.Fatal(err)
	}
	if err := cl.User("bob"); err != nil {
		t.Fatal(err)
	}
	var se *wire.ServerError
	if err := cl.Pass(bob.Password); !errors.As(err, &se) || !se.Temporary {
		t.Fatalf("second login = %#v, want a temporary ServerError ([IN-USE])", err)
	}
}

func TestOverrideAndRecording(t *testing.T) {
	leak.Check(t)
	srv := fakepop3.Start(t, fakepop3.Options{
		Users: []fakepop3.User{bob},
		Override: func(c fakepop3.Command) ([]string, bool) {
			if strings.HasPrefix(c.Line, "NOOP") {
				return []string{"-ERR [LOGIN-DELAY] overridden"}, true
			}
			return nil, false
		},
	})
	cl := login(t, srv)
	var se *wire.ServerError
	if err := cl.Noop(); !errors.As(err, &se) || se.Reply != "-ERR [LOGIN-DELAY] overridden" {
		t.Fatalf("Noop() = %#v", err)
	}
	want := []string{"USER bob", "PASS bob-password", "NOOP"}
	if got := srv.Lines(); !slices.Equal(got, want) {
		t.Errorf("Lines() = %q, want %q", got, want)
	}
	cmds := srv.Commands()
	if !cmds[1].Secret || cmds[0].Secret || cmds[0].Conn != 1 {
		t.Errorf("Commands() = %+v", cmds)
	}
}
