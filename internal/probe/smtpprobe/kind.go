package smtpprobe

import "github.com/mailmon/mailmon/internal/probe"

// Name is the smtp monitor's type.
const Name = "smtp"

// Kind is the smtp monitor type.
func Kind() probe.Kind {
	return probe.Kind{
		Name: Name, Title: "SMTP", Seed: "SMTP monitor",
		Summary:  "Greeting 220, EHLO, optional STARTTLS and AUTH, QUIT.",
		Protocol: "smtp", Ports: probe.Ports{Plain: 25, Implicit: 465},
		HasPort: true, KnowsTLS: true, LogsIn: true,
		Services: []probe.Service{{Name: "smtp", Port: 25}, {Name: "smtps", Port: 465, Implicit: true}, {Name: "submission", Port: 587}},
		Fields:   []string{"ehlo"},
		Probe:    Probe,
	}
}
