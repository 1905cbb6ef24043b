package catalog

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Role is what a web UI login may do (docs/teams.md): a viewer reads, an
// editor also changes devices, monitors and alerts (and acknowledges), an
// admin also credentials, users and tokens.
type Role string

const (
	Viewer Role = "viewer"
	Editor Role = "editor"
	Admin  Role = "admin"
)

// Roles are the roles, weakest first.
var Roles = []Role{Viewer, Editor, Admin}

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("%q is not a role: use viewer, editor or admin", s)
	}
	return r, nil
}

// Allows says whether a login of role r may do what needs role need. An
// unknown role (a row written by hand) may do nothing.
func (r Role) Allows(need Role) bool {
	have, want := slices.Index(Roles, r), slices.Index(Roles, need)
	return have >= 0 && want >= 0 && have >= want
}

// Scope is one thing an API token may do.
type Scope uint8

const (
	ScopeRead    Scope = 1 << iota // GET the API's records, reports, the audit log
	ScopeWrite                     // change devices, monitors, alerts, credentials
	ScopeProbe                     // /probe and "test now"
	ScopeMetrics                   // /metrics
)

// Scopes is a set of scopes.
type Scopes = Scope

// AllScopes is every scope: a token made without --scope, and every token
// from before scopes.
const AllScopes = ScopeRead | ScopeWrite | ScopeProbe | ScopeMetrics

var scopeNames = []struct {
	s    Scope
	name string
}{{ScopeRead, "read"}, {ScopeWrite, "write"}, {ScopeProbe, "probe"}, {ScopeMetrics, "metrics"}}

// ParseScopes reads scopes' names (as stored, or comma-separated on the
// command line); none is an error.
func ParseScopes(names []string) (Scopes, error) {
	var out Scopes
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		known := false
		for _, x := range scopeNames {
			if x.name == n {
				out, known = out|x.s, true
			}
		}
		if !known {
			return 0, fmt.Errorf("%q is not a scope: use read, write, probe or metrics, comma-separated", n)
		}
	}
	if out == 0 {
		return 0, fmt.Errorf("no scope: give one or more of read, write, probe, metrics")
	}
	return out, nil
}

// Has says whether every scope of want is in s.
func (s Scope) Has(want Scope) bool { return s&want == want }

// Names lists the scopes' names, in a fixed order.
func (s Scope) Names() []string {
	var out []string
	for _, x := range scopeNames {
		if s.Has(x.s) {
			out = append(out, x.name)
		}
	}
	return out
}

func (s Scope) String() string { return strings.Join(s.Names(), ",") }

// Actor is who makes a change: a user of the web UI, an API token, or the
// operator on the host. It is what the audit log names.
type Actor struct {
	Kind    string // "user", "token", "operator"
	Name    string
	Role    Role   // a user's
	Scopes  Scopes // a token's
	Address string // where the request came from ("" on the host)
	// link is a signed link's grant (ack.go): only that acknowledgement.
	link *linkGrant
}

// User is the actor of a web UI login; addr is the request's remote
// address (its port is dropped).
func User(name string, role Role, addr string) Actor {
	return Actor{Kind: "user", Name: name, Role: role, Address: hostOf(addr)}
}

// Token is the actor of an API token; addr as User's.
func Token(name string, scopes Scopes, addr string) Actor {
	return Actor{Kind: "token", Name: name, Scopes: scopes, Address: hostOf(addr)}
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// Forbidden is a change refused for who asks: the API and the web UI answer
// 403.
type Forbidden struct{ Msg string }

func (e Forbidden) Error() string { return e.Msg }

// NeedFor is the role a user needs to change a record of kind: an admin for
// credentials (they open servers), an editor for the rest.
func NeedFor(kind string) Role {
	if kind == "credential" {
		return Admin
	}
	return Editor
}

// mayWrite says whether a may change a record of kind. A caller over the
// network that no front door named may change nothing.
func (a Actor) mayWrite(kind string) error {
	switch a.Kind {
	case "operator":
		return nil
	case "user":
		if need := NeedFor(kind); !a.Role.Allows(need) {
			return Forbidden{fmt.Sprintf("changing a %s needs the %s role; %s is %s", kind, need, a.Name, a.Role)}
		}
		return nil
	case "token":
		if !a.Scopes.Has(ScopeWrite) {
			return Forbidden{fmt.Sprintf("changing a %s needs a token with the write scope; %s has %s", kind, a.Name, a.Scopes)}
		}
		return nil
	}
	return Forbidden{"a change over the network needs a login or a token"}
}

// ParseLifetime reads how long a token lives: a Go duration (12h, 90m) or
// whole days (90d).
func ParseLifetime(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a number of days: say 90d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a lifetime: say 90d or 12h", s)
	}
	return d, nil
}
