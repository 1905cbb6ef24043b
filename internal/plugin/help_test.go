package plugin

import (
	"context"
	"strings"
	"testing"
)

// TestHelpNamesMailmonCheck: "mailmon check --help" (and so "mailmon help
// check" and the man page) points to mailmon-check; mailmon-check's own
// help names itself.
func TestHelpNamesMailmonCheck(t *testing.T) {
	const pointer = `"mailmon-check TYPE [options]" is the same check`
	for _, tc := range []struct {
		prog string
		want bool
	}{{"mailmon check", true}, {"mailmon-check", false}} {
		var out, errOut strings.Builder
		code := Check(context.Background(), []string{"--help"}, Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }, Prog: tc.prog})
		if code != Unknown {
			t.Errorf("%s --help: exit %d, want %d", tc.prog, code, Unknown)
		}
		if got := strings.Contains(out.String(), pointer); got != tc.want {
			t.Errorf("%s --help says %q: %v, want %v\n%s", tc.prog, pointer, got, tc.want, out.String())
		}
		if !strings.HasPrefix(out.String(), "Usage: "+tc.prog+" TYPE") {
			t.Errorf("%s --help begins %.60q", tc.prog, out.String())
		}
	}
}
