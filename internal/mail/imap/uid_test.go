package imap

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/wire"
)

func TestUIDSearch(t *testing.T) {
	tests := []struct {
		name   string
		caps   string
		answer []string
		want   []uint32
	}{
		{"SEARCH", "IMAP4rev1", []string{"S: * SEARCH 4 9", "S: a1 OK done"}, []uint32{4, 9}},
		{"nothing found", "IMAP4rev1", []string{"S: * SEARCH", "S: a1 OK done"}, nil},
		{"news on the way", "IMAP4rev1", []string{"S: * 12 EXISTS", "S: * SEARCH 12", "S: a1 OK done"}, []uint32{12}},
		{"ESEARCH", "IMAP4rev2", []string{`S: * ESEARCH (TAG "a1") UID ALL 4,7:9`, "S: a1 OK done"}, []uint32{4, 7, 8, 9}},
		{"ESEARCH with MIN and COUNT", "IMAP4rev2", []string{`S: * ESEARCH (TAG "a1") UID MIN 4 ALL 4 COUNT 1`, "S: a1 OK done"}, []uint32{4}},
		{"ESEARCH, nothing found", "IMAP4rev2", []string{`S: * ESEARCH (TAG "a1") UID`, "S: a1 OK done"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := append([]string{`C: a1 UID SEARCH HEADER "X-Mailmon-Probe" "v1"`}, tt.answer...)
			cl, _ := greeted(t, tt.caps, script...)
			var watched []string
			cl.Watch(func(r *Response) { watched = append(watched, r.Name()) })
			got, err := cl.UIDSearch(Atom("HEADER"), String("X-Mailmon-Probe"), String("v1"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("UIDs %v, want %v", got, tt.want)
			}
			if len(watched) != len(tt.answer)-1 {
				t.Errorf("Watch saw %v", watched)
			}
		})
	}
}

func TestUIDSearchViolations(t *testing.T) {
	for _, line := range []string{
		"S: * SEARCH 4 x",
		"S: * SEARCH 0",
		`S: * ESEARCH (TAG "a1") UID ALL 1:4294967295`,
		`S: * ESEARCH (TAG "a1") UID ALL 3,*`,
		`S: * ESEARCH (TAG "a1") UID ALL`,
	} {
		t.Run(line, func(t *testing.T) {
			cl, _ := greeted(t, "IMAP4rev1", `C: a1 UID SEARCH ALL`, line, "S: a1 OK done")
			_, err := cl.UIDSearch(Atom("ALL"))
			wantViolation(t, err)
		})
	}
	t.Run("refused", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1", `C: a1 UID SEARCH ALL`, "S: a1 NO [UNAVAILABLE] try later")
		_, err := cl.UIDSearch(Atom("ALL"))
		wantServerError(t, err, "a1 NO [UNAVAILABLE] try later")
	})
}

func TestSets(t *testing.T) {
	for _, tt := range []struct {
		nums []uint32
		set  string
	}{
		{[]uint32{7}, "7"},
		{[]uint32{1, 2, 3, 7}, "1:3,7"},
		{[]uint32{9, 3, 2, 3, 10}, "2:3,9:10"},
		{[]uint32{4294967295}, "4294967295"},
	} {
		if got := FormatSet(tt.nums); got != tt.set {
			t.Errorf("FormatSet(%v) = %q, want %q", tt.nums, got, tt.set)
		}
		back, err := ParseSet(tt.set, nil, 10)
		want := slices.Compact(slices.Sorted(slices.Values(tt.nums)))
		if err != nil || !slices.Equal(back, want) {
			t.Errorf("ParseSet(%q) = %v, %v", tt.set, back, err)
		}
	}
	if _, err := ParseSet("1:11", nil, 10); !isViolation(err) {
		t.Errorf("a set over the cap: %v", err)
	}
	if got, err := ParseSet("5:3", nil, 10); err != nil || !slices.Equal(got, []uint32{3, 4, 5}) {
		t.Errorf("a reversed range: %v, %v", got, err)
	}
}

// The header is fetched with PEEK and only the fields asked for; a flag
// change of another message on the way is no header, and a message not
// asked for is left out.
func TestUIDFetchHeader(t *testing.T) {
	hdr := "Subject: hi\r\nX-Mailmon-Probe: v1 x\r\n\r\n"
	cl, tr := greeted(t, "IMAP4rev1",
		"C: a1 UID FETCH 5,8:9 (UID BODY.PEEK[HEADER.FIELDS (Subject X-Mailmon-Probe)])",
		"S: * 2 FETCH (FLAGS (\\Seen) UID 3)",
		"S: * 3 FETCH (UID 5 BODY[HEADER.FIELDS (SUBJECT X-MAILMON-PROBE)] {"+strconv.Itoa(len(hdr))+"}",
		"R: "+hdr+")\r\n",
		`S: * 4 FETCH (UID 8 BODY[HEADER.FIELDS (SUBJECT X-MAILMON-PROBE)] "")`,
		"S: * 5 FETCH (UID 9 BODY[HEADER.FIELDS (SUBJECT X-MAILMON-PROBE)] NIL FLAGS ())",
		"S: * 6 FETCH (UID 77 BODY[HEADER.FIELDS (SUBJECT X-MAILMON-PROBE)] NIL)",
		"S: a1 OK done")
	got, err := cl.UIDFetchHeader([]uint32{9, 5, 8}, "Subject", "X-Mailmon-Probe")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Seq != 3 || got[0].UID != 5 || string(got[0].Raw) != hdr ||
		got[1].UID != 8 || got[1].Raw == nil || len(got[1].Raw) != 0 || got[2].UID != 9 || got[2].Raw != nil {
		t.Errorf("headers %+v", got)
	}
	transcriptHas(t, tr, "S: * 3 FETCH (UID 5 BODY[HEADER.FIELDS (SUBJECT X-MAILMON-PROBE)] {38}")
}

func TestUIDFetchHeaderWhole(t *testing.T) {
	cl, _ := greeted(t, "IMAP4rev1",
		"C: a1 UID FETCH 5 (UID BODY.PEEK[HEADER])",
		`S: * 1 FETCH (UID 5 BODY[HEADER] "Subject: x")`,
		"S: a1 OK done")
	got, err := cl.UIDFetchHeader([]uint32{5})
	if err != nil || len(got) != 1 || string(got[0].Raw) != "Subject: x" {
		t.Fatalf("%+v, %v", got, err)
	}
}

func TestUIDFetchHeaderViolations(t *testing.T) {
	for _, line := range []string{
		"S: * 1 FETCH (UID x BODY[HEADER] NIL)",
		"S: * 1 FETCH (UID 5 BODY[HEADER] (a))",
		"S: * 1 FETCH (UID 5 BODY[HEADER])",
		"S: * 1 FETCH UID 5",
	} {
		t.Run(line, func(t *testing.T) {
			cl, _ := greeted(t, "IMAP4rev1", "C: a1 UID FETCH 5 (UID BODY.PEEK[HEADER])", line, "S: a1 OK done")
			_, err := cl.UIDFetchHeader([]uint32{5})
			wantViolation(t, err)
		})
	}
	cl, _ := greeted(t, "IMAP4rev1")
	for _, f := range []string{"Sub ject", "X)", "a:b", ""} {
		if _, err := cl.UIDFetchHeader([]uint32{1}, f); err == nil {
			t.Errorf("field %q sent", f)
		}
	}
}

func TestStoreAndExpunge(t *testing.T) {
	cl, tr := greeted(t, "IMAP4rev1 UIDPLUS",
		`C: a1 UID STORE 4,6 +FLAGS.SILENT (\Deleted)`,
		"S: a1 OK done",
		"C: a2 UID EXPUNGE 4,6",
		"S: * 3 EXPUNGE",
		"S: * 2 EXPUNGE",
		"S: a2 OK done",
		"C: a3 EXPUNGE",
		"S: a3 NO [CANNOT] not now")
	var expunged []uint32
	cl.Watch(func(r *Response) {
		if n, ok := r.Number(); ok && r.Name() == "EXPUNGE" {
			expunged = append(expunged, n)
		}
	})
	if err := cl.UIDStore([]uint32{6, 4}, "+FLAGS.SILENT", `\Deleted`); err != nil {
		t.Fatal(err)
	}
	if err := cl.UIDExpunge([]uint32{4, 6}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(expunged, []uint32{3, 2}) {
		t.Errorf("Watch saw EXPUNGE %v", expunged)
	}
	wantServerError(t, cl.Expunge(), "a3 NO [CANNOT] not now")
	if cl.UIDStore(nil, "+FLAGS", `\Deleted`) != nil || cl.UIDExpunge(nil) != nil {
		t.Error("an empty set sent a command")
	}
	transcriptHas(t, tr, `C: a1 UID STORE 4,6 +FLAGS.SILENT (\Deleted)`)
}

func TestList(t *testing.T) {
	cl, _ := greeted(t, "IMAP4rev1 SPECIAL-USE LIST-EXTENDED",
		`C: a1 LIST (SPECIAL-USE) "" "*"`,
		`S: * LIST (\HasNoChildren \Junk) "." Spam`,
		`S: * LIST (\Sent) "." "Gesendete Objekte"`,
		`S: * LIST (\Trash) NIL "&AMQ-nderungen"`,
		"S: a1 OK done",
		`C: a2 LIST "" "*" RETURN (SPECIAL-USE)`,
		`S: * LIST () "/" {5}`,
		"R: INBOX\r\n",
		"S: a2 OK done")
	got, err := cl.List("", "*", []string{"SPECIAL-USE"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Name != "Spam" || got[0].Delim != "." || !got[0].HasAttr(`\junk`) ||
		got[1].Name != "Gesendete Objekte" || got[2].Name != "Änderungen" || got[2].Delim != "" {
		t.Errorf("%+v", got)
	}
	got, err = cl.List("", "*", nil, []string{"SPECIAL-USE"})
	if err != nil || len(got) != 1 || got[0].Name != "INBOX" || got[0].Delim != "/" || len(got[0].Attrs) != 0 {
		t.Errorf("%+v, %v", got, err)
	}
}

func TestListViolations(t *testing.T) {
	for _, line := range []string{
		`S: * LIST \Junk "." Spam`,
		`S: * LIST (\Junk) "."`,
		`S: * LIST ((x)) "." Spam`,
		`S: * LIST (\Junk) (x) Spam`,
		`S: * LIST (\Junk) "." NIL`,
	} {
		t.Run(line, func(t *testing.T) {
			cl, _ := greeted(t, "IMAP4rev1", `C: a1 LIST "" "*"`, line, "S: a1 OK done")
			_, err := cl.List("", "*", nil, nil)
			wantViolation(t, err)
		})
	}
}

func TestIdle(t *testing.T) {
	exists := func(r *Response) bool { return r.Name() == "EXISTS" }
	t.Run("news ends the wait", func(t *testing.T) {
		cl, tr := greeted(t, "IMAP4rev1 IDLE",
			"C: a1 IDLE",
			"S: + idling",
			"S: * OK still here",
			"S: * 1 RECENT",
			"S: * 4 EXISTS",
			"C: DONE",
			"S: a1 OK IDLE terminated")
		var watched []string
		cl.Watch(func(r *Response) { watched = append(watched, r.Name()) })
		start := time.Now()
		if err := cl.Idle(5*time.Second, exists); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > 2*time.Second {
			t.Error("the wait did not end at the news")
		}
		if !slices.Equal(watched, []string{"OK", "RECENT", "EXISTS"}) {
			t.Errorf("Watch saw %v", watched)
		}
		transcriptHas(t, tr, "C: DONE")
	})
	t.Run("the time runs out", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1 IDLE",
			"C: a1 IDLE",
			"S: + idling",
			"C: DONE",
			"S: * 5 EXISTS",
			"S: a1 OK IDLE terminated")
		start := time.Now()
		if err := cl.Idle(50*time.Millisecond, exists); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("left IDLE after %v", d)
		}
	})
	t.Run("news before the continuation", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1 IDLE",
			"C: a1 IDLE",
			"S: * 5 EXISTS",
			"S: + idling",
			"C: DONE",
			"S: a1 OK IDLE terminated")
		if err := cl.Idle(5*time.Second, exists); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1", "C: a1 IDLE", "S: a1 BAD unknown command")
		wantServerError(t, cl.Idle(time.Second, exists), "a1 BAD unknown command")
	})
	t.Run("the server ends it", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1 IDLE", "C: a1 IDLE", "S: + idling", "S: a1 OK enough")
		if err := cl.Idle(5*time.Second, exists); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the server leaves", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1 IDLE", "C: a1 IDLE", "S: + idling", "S: * BYE shutting down")
		err := cl.Idle(5*time.Second, exists)
		var se *wire.ServerError
		if !errors.As(err, &se) || !strings.Contains(se.Reply, "BYE") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a continuation inside IDLE", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1 IDLE", "C: a1 IDLE", "S: + idling", "S: + more?")
		wantViolation(t, cl.Idle(5*time.Second, exists))
	})
	t.Run("the next command follows", func(t *testing.T) {
		cl, _ := greeted(t, "IMAP4rev1 IDLE",
			"C: a1 IDLE", "S: + idling", "S: * 2 EXISTS", "C: DONE", "S: a1 OK done",
			"C: a2 NOOP", "S: a2 OK done")
		if err := cl.Idle(5*time.Second, exists); err != nil {
			t.Fatal(err)
		}
		if err := cl.Noop(); err != nil {
			t.Fatal(err)
		}
	})
}
