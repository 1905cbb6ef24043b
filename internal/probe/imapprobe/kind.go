package imapprobe

import "github.com/mailmon/mailmon/internal/probe"

// Name is the imap monitor's type.
const Name = "imap"

// Kind is the imap monitor type.
func Kind() probe.Kind {
	return probe.Kind{
		Name: Name, Title: "IMAP4", Seed: "IMAP4 monitor",
		Summary:  "Greeting * OK, CAPABILITY, optional STARTTLS and login, optional SELECT of a mailbox, LOGOUT.",
		Protocol: "imap", Ports: probe.Ports{Plain: 143, Implicit: 993},
		HasPort: true, KnowsTLS: true, LogsIn: true,
		Services: []probe.Service{{Name: "imap", Port: 143}, {Name: "imaps", Port: 993, Implicit: true}},
		Fields:   []string{"mailbox"},
		Check:    check,
		Probe:    Probe,
	}
}

// check fills the mailbox check: a mailbox given is looked at with STATUS
// unless the configuration says otherwise.
func check(c *probe.Config, _ func(field, format string, args ...any)) {
	if c.Mailbox != "" && c.MailboxCheck == "" {
		c.MailboxCheck = "status"
	}
}
