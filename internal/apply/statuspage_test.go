package apply

import (
	"context"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// TestStatusPages: a page's monitors and devices may be in the file or
// already stored; one in neither is named with the nearest name, before
// anything is written; a page is stored by name, audited, and exported.
func TestStatusPages(t *testing.T) {
	ctx := context.Background()
	s, v := setup(t)
	const devices = `devices:
  - name: mail1
    address: 192.0.2.1
    monitors:
      - {name: SMTP, type: smtp}
      - {name: IMAP, type: imap}
`
	if _, err := Apply(ctx, s, v, parseString(t, devices), Env{}); err != nil {
		t.Fatal(err)
	}
	// mail1 is only in the store now; mail2 only in the file.
	bad := `devices:
  - {name: mail2, address: 192.0.2.2, monitors: [{name: POP3, type: pop3}]}
status_pages:
  - name: mail
    title: Mail
    monitors: [mail1/SMPT, mail2/POP, mail3/SMTP, mail1/IMAP, mail2/POP3]
    devices: [mial1, mail2]
`
	_, err := Apply(ctx, s, v, parseString(t, bad), Env{})
	for _, want := range []string{
		`status_pages[0].monitors[0]: device "mail1" has no monitor named "SMPT"; did you mean "SMTP"?`,
		`status_pages[0].monitors[1]: device "mail2" has no monitor named "POP"; did you mean "POP3"?`,
		`status_pages[0].monitors[2]: no device is named "mail3"; did you mean "mail1"?`,
		`status_pages[0].devices[0]: no device is named "mial1"; did you mean "mail1"?`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in\n%v", want, err)
		}
	}
	if err != nil && (strings.Contains(err.Error(), "monitors[3]") || strings.Contains(err.Error(), "monitors[4]") || strings.Contains(err.Error(), "devices[1]")) {
		t.Errorf("a monitor or device that exists is refused:\n%v", err)
	}
	if d, _ := s.DeviceByName(ctx, "mail2"); d != nil {
		t.Errorf("a file with problems wrote its device")
	}

	good := `status_pages:
  - {name: mail, title: Mail, monitors: [mail1/SMTP], public: true}
`
	for i, want := range []string{"created", "unchanged"} {
		rep, err := Apply(ctx, s, v, parseString(t, good), Env{Operator: "alice"})
		if err != nil || len(rep) != 1 || rep[0].Kind != "status_page" || rep[0].Action != want {
			t.Fatalf("apply %d: %+v, %v", i, rep, err)
		}
	}
	if _, err := Apply(ctx, s, v, parseString(t, strings.Replace(good, "public: true", "public: false", 1)), Env{Operator: "alice"}); err != nil {
		t.Fatal(err)
	}
	es, _, err := s.Audit(ctx, store.AuditFilter{Kind: "status_page"})
	if err != nil || len(es) != 2 || es[0].Action != "updated" || es[0].Actor != "alice" || len(es[0].Changes) != 1 ||
		es[0].Changes[0].Field != "public" || es[0].Changes[0].Before != "true" || es[0].Changes[0].After != "false" || es[1].Action != "created" {
		t.Errorf("audit = %+v, %v", es, err)
	}
	if out := export(t, s); !strings.Contains(out, "status_pages:\n  - name: mail\n    title: Mail\n    monitors:\n      - mail1/SMTP\n") || strings.Contains(out, "public: true") {
		t.Errorf("export:\n%s", out)
	}
}
