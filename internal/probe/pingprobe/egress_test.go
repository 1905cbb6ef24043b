package pingprobe

import (
	"context"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/probe"
)

// TestEgressRefused: a ping of a target set over the network is held to
// the policy: loopback and the metadata service are refused before a
// socket is opened (no echo request is sent).
func TestEgressRefused(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "169.254.169.254", "::1"} {
		r := probe.Run(context.Background(), Kind(), probe.Config{Type: "ping", Host: host, Egress: egress.Default()})
		if r.Error == nil || r.Error.Code != probe.ConnectFailed || !strings.Contains(r.Error.Detail, egress.Flag) || r.Details["sent"] != nil {
			t.Errorf("ping %s: %s %+v %v, want connect_failed naming %s and nothing sent", host, r.Status, r.Error, r.Details, egress.Flag)
		}
	}
}
