package smtpprobe

import "github.com/mailmon/mailmon/internal/probe"

// Name is the smtp monitor's type.
const Name = "smtp"

// Kind is the smtp monitor type.
func Kind() probe.Kind {
	k := probe.SMTPKind()
	k.Seed = "SMTP monitor"
	k.Summary = "Greeting 220, EHLO, optional STARTTLS and AUTH, QUIT."
	k.Services = []probe.Service{{Name: "smtp", Port: 25}, {Name: "smtps", Port: 465, Implicit: true}, {Name: "submission", Port: 587}}
	k.Fields = []string{"ehlo"}
	k.Probe = Probe
	return k
}
