package pingprobe

import "github.com/mailmon/mailmon/internal/probe"

// Name is the ping monitor's type.
const Name = "ping"

// Kind is the ping monitor type: a host, no port, no TLS, no login.
func Kind() probe.Kind {
	return probe.Kind{
		Name: Name, Title: "Ping", Seed: "PING monitor",
		Summary: "ICMP echo: loss and round-trip time (a parent for the mail monitors).",
		Probe:   Probe,
	}
}
