package pop3probe

import "github.com/mailmon/mailmon/internal/probe"

// Name is the pop3 monitor's type.
const Name = "pop3"

// Kind is the pop3 monitor type.
func Kind() probe.Kind {
	return probe.Kind{
		Name: Name, Title: "POP3", Seed: "POP3 Monitor",
		Summary:  "Greeting +OK, CAPA, optional STLS and login, optional STAT, QUIT.",
		Protocol: "pop3", Ports: probe.Ports{Plain: 110, Implicit: 995},
		HasPort: true, KnowsTLS: true, LogsIn: true,
		Services: []probe.Service{{Name: "pop3", Port: 110}, {Name: "pop3s", Port: 995, Implicit: true}},
		Fields:   []string{"stat"},
		Probe:    Probe,
	}
}
