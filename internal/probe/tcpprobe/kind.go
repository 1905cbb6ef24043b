package tcpprobe

import "github.com/mailmon/mailmon/internal/probe"

// Name is the tcp monitor's type.
const Name = "tcp"

// Kind is the tcp monitor type.
func Kind() probe.Kind {
	return probe.Kind{
		Name: Name, Title: "TCP port", Seed: "Dependency monitor",
		Summary: "Connects to a port, optionally expects a banner.",
		HasPort: true, KnowsTLS: true, SmallTrace: true,
		Fields: []string{"expect"},
		Probe:  Probe,
	}
}
