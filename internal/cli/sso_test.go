package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeTeamsFlags: the flags of roles, single sign-on and the
// trusted-header mode are refused, naming the flag and the fix, when
// they cannot work.
func TestServeTeamsFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--auth-header", "Remote-User"}, "--auth-header Remote-User needs --trusted-proxies"},
		{[]string{"--auth-header-role", "viewer"}, "--auth-header-role needs --auth-header"},
		{[]string{"--trusted-proxies", "127.0.0.1", "--auth-header", "Remote-User", "--auth-header-role", "boss"}, `--auth-header-role: "boss" is not a role`},
		{[]string{"--local-logins=false"}, "--local-logins=false needs single sign-on"},
		{[]string{"--oidc-issuer", "https://login.example.com"}, "--oidc-client-id is required"},
		{[]string{"--oidc-issuer", "https://login.example.com", "--oidc-client-id", "m"}, "--oidc-client-secret-file is required"},
		{[]string{"--require-2fa", "admin,root"}, `--require-2fa: "root" is not a role`},
		{[]string{"--audit-retention", "forever"}, "--audit-retention: \"forever\" is not a lifetime"},
	} {
		code, _, errOut := runCLI(t, nil, append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, c.args...)...)
		if code == ExitOK || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want %q", c.args, code, errOut, c.want)
		}
	}
}
