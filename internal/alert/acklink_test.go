package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var ackKey = []byte("installation-secret-0123456789")

// TestAckLinkToken: a link's token says what it signs; a changed one, one
// signed under another key (or the installation key itself, not the key
// derived from it), or an expired one is refused.
func TestAckLinkToken(t *testing.T) {
	l, err := NewAckLinks("https://mailmon.example.com/", ackKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	since := now.Add(-5*time.Minute - 123*time.Millisecond)
	u := l.URL(42, since, 7, now)
	tok, ok := strings.CutPrefix(u, "https://mailmon.example.com/ack/")
	if !ok {
		t.Fatalf("URL %q", u)
	}
	g, err := l.Check(tok, now.Add(time.Hour))
	want := AckGrant{Monitor: 42, Since: since.UTC(), Alert: 7, Expires: now.Add(DefaultAckLinkTTL)}
	if err != nil || g != want {
		t.Fatalf("Check: %+v %v, want %+v", g, err, want)
	}
	if _, err := l.Check(tok, now.Add(DefaultAckLinkTTL)); !errors.Is(err, ErrAckLinkExpired) {
		t.Errorf("at expiry: %v", err)
	}
	// The raw installation key signs nothing of this purpose.
	msg := tok[:strings.LastIndexByte(tok, '.')]
	h := hmac.New(sha256.New, ackKey)
	h.Write([]byte(msg))
	raw := msg + "." + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
	other, _ := NewAckLinks("https://x", []byte("another-installation-secret"), 0)
	bad := []string{
		"", "abc", raw, other.Token(want),
		strings.Replace(tok, "42.", "43.", 1),                   // another monitor
		strings.Replace(tok, ".7.", ".8.", 1),                   // another alert
		tok[:len(tok)-1],                                        // cut short
		msg + ".!!!!",                                           // not base64
		"1.2.3." + tok[strings.LastIndexByte(tok, '.')+1:],      // too few fields
		"42.x.7.1.2." + tok[strings.LastIndexByte(tok, '.')+1:], // garbage
		strings.Repeat("1", 300),
	}
	for _, b := range bad {
		if _, err := l.Check(b, now); !errors.Is(err, ErrAckLinkInvalid) {
			t.Errorf("Check(%q): %v, want invalid", b, err)
		}
	}
	// The lifetime is the one given.
	short, _ := NewAckLinks("https://x", ackKey, time.Hour)
	tok2, _ := strings.CutPrefix(short.URL(1, since, 2, now), "https://x/ack/")
	if _, err := short.Check(tok2, now.Add(time.Hour+time.Second)); !errors.Is(err, ErrAckLinkExpired) {
		t.Errorf("a 1h link after 1h: %v", err)
	}
}

// TestAckURLInEveryChannel: an alert with an acknowledgement link carries
// it in each channel's own place; one without carries no empty link.
func TestAckURLInEveryChannel(t *testing.T) {
	const link = "https://mailmon.example.com/ack/1.2.3.4.sig"
	with := ev
	with.AckURL = link
	for _, c := range []struct {
		name string
		out  func(Event) string
	}{
		{"generic", func(e Event) string { b, _ := (&Webhook{}).Payload(e); return string(b) }},
		{"slack", func(e Event) string { b, _ := (&Webhook{Format: FormatSlack}).Payload(e); return string(b) }},
		{"teams", func(e Event) string { b, _ := (&Webhook{Format: FormatTeams}).Payload(e); return string(b) }},
		{"template", func(e Event) string {
			b, _ := (&Webhook{Body: `{"ack": {{json .AckURL}}}`}).Payload(e)
			return string(b)
		}},
		{"email", func(e Event) string { return string((&Email{From: "a@x", To: []string{"b@x"}}).Message(e, e.Time)) }},
		{"email {ack_link}", func(e Event) string {
			return string((&Email{From: "a@x", To: []string{"b@x"}, Body: "ack: {ack_link}"}).Message(e, e.Time))
		}},
		{"pagerduty", func(e Event) string { b, _ := json.Marshal((&PagerDuty{}).Event(e)); return string(b) }},
		{"opsgenie", func(e Event) string { _, v := (&Opsgenie{}).Request(e); b, _ := json.Marshal(v); return string(b) }},
		{"alertmanager", func(e Event) string { b, _ := json.Marshal((&Alertmanager{}).Alert(e)); return string(b) }},
	} {
		if got := c.out(with); !strings.Contains(got, link) {
			t.Errorf("%s with a link:\n%s", c.name, got)
		}
		if got := c.out(ev); strings.Contains(got, "/ack/") || strings.Contains(got, AckLinkText) || strings.Contains(got, "ack_url") {
			t.Errorf("%s without a link mentions one:\n%s", c.name, got)
		}
	}
	var p GenericPayload
	b, _ := (&Webhook{}).Payload(with)
	if err := json.Unmarshal(b, &p); err != nil || p.AckURL != link || !strings.Contains(string(b), `"ack_url":`) {
		t.Errorf("generic payload %s", b)
	}
	if m := string((&Email{From: "a@x", To: []string{"b@x"}, Body: "ack: {ack_link}"}).Message(with, with.Time)); strings.Count(m, link) != 1 {
		t.Errorf("a body with {ack_link} gets the link once:\n%s", m)
	}
}

// TestNotificationsCarryEachActionsLink: each action's notification has
// the link made for that action.
func TestNotificationsCarryEachActionsLink(t *testing.T) {
	ns := Notifications(ev, ev.Time, 1, []int64{3, 4}, func(a int64) string { return "L" + string(rune('0'+a)) })
	for i, want := range []string{"L3", "L4"} {
		var e Event
		if err := json.Unmarshal(ns[i].Payload, &e); err != nil || e.AckURL != want {
			t.Errorf("notification %d: %+v %v", i, e.AckURL, err)
		}
	}
}
