package plugin

import (
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/probe/kinds"
)

// TestInterruptible: the round trips end through their context on a
// signal, every other check by the signal's default action.
func TestInterruptible(t *testing.T) {
	trips := 0
	for _, k := range kinds.All() {
		if got := Interruptible([]string{k.Name, "-H", "mail.example"}); got != k.RoundTrip {
			t.Errorf("Interruptible(%s) = %v, want %v", k.Name, got, k.RoundTrip)
		}
		if got := Interruptible([]string{strings.ToUpper(k.Name)}); got != k.RoundTrip {
			t.Errorf("Interruptible(%s) = %v, want %v", strings.ToUpper(k.Name), got, k.RoundTrip)
		}
		if k.RoundTrip {
			trips++
		}
	}
	if trips == 0 {
		t.Error("no round-trip type")
	}
	for _, args := range [][]string{nil, {}, {"-V"}, {"--help"}, {"no-such-type"}} {
		if Interruptible(args) {
			t.Errorf("Interruptible(%q) = true", args)
		}
	}
}
