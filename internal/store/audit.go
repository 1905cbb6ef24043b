package store

import "time"

// AuditEntry is one change of the configuration, users or tokens: who
// (a user, a token, the operator on the host), from where, what (a
// record and an action) and how (settings before and after; a secret is
// only said to have changed).
type AuditEntry struct {
	ID        int64
	Time      time.Time
	ActorKind string // user, token, operator
	Actor     string
	Address   string
	Kind      string // device, monitor, alert, credential, user, token
	ObjectID  int64
	Name      string
	Action    string // created, updated, deleted
	Changes   []AuditChange
}

// AuditChange is one setting's change. A secret's Before and After are
// never its value: After is "changed".
type AuditChange struct {
	Field  string `json:"field"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// AuditFilter selects audit entries; a zero field selects all.
type AuditFilter struct {
	Page
	Actor    string
	Kind     string
	ObjectID int64
	From, To time.Time // [From, To)
}
