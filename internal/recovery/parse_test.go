package recovery

import (
	"strings"
	"testing"
)

func TestSSHTarget(t *testing.T) {
	for _, tc := range []struct{ in, user, addr, err string }{
		{"mail1.example", "", "mail1.example:22", ""},
		{"ops@mail1.example:2222", "ops", "mail1.example:2222", ""},
		{"10.0.0.1", "", "10.0.0.1:22", ""},
		{"2001:db8::1", "", "[2001:db8::1]:22", ""},
		{"[2001:db8::1]", "", "[2001:db8::1]:22", ""},
		{"root@[2001:db8::1]:2222", "root", "[2001:db8::1]:2222", ""},
		{"@h", "", "", "the user before @ is empty"},
		{"h:0", "", "", "not between 1 and 65535"},
		{"h:ssh", "", "", "not between 1 and 65535"},
		{"", "", "", "is not [user@]host[:port]"},
		{"a b", "", "", "is not [user@]host[:port]"},
		{"2001:db8::1:x", "", "", "is not [user@]host[:port]"},
	} {
		user, addr, err := SSHTarget(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("SSHTarget(%q) = %q, %q, %v; want an error with %q", tc.in, user, addr, err, tc.err)
			}
			continue
		}
		if err != nil || user != tc.user || addr != tc.addr {
			t.Errorf("SSHTarget(%q) = %q, %q, %v; want %q, %q", tc.in, user, addr, err, tc.user, tc.addr)
		}
	}
}
