package catalog

// Origin is who asks for a write; it decides the rules the write is held
// to. The rules, each applied in one place:
//
//   - commands and local paths (config/operator.go): the operator sets
//     them; the network may send them back unchanged, as read (operator.go);
//   - secrets bound to their target (internal/secretbind): a change the
//     network makes of where a secret is sent drops it unless the same
//     request sends it again (unbind.go); the operator's keep theirs;
//   - targets and timing: the network's are held to serve's egress policy
//     and timing limits, and a target it sets is marked as the network's
//     (network_target), checked again on every dial (limits.go); the
//     operator's are theirs, and an apply makes them so again;
//   - roles and scopes (access.go): a user of the web UI needs the role,
//     a token the scope, for the record it changes; and every change is
//     written to the audit log, naming its Actor, in its own transaction
//     (audit.go).
//
// The operator's channel is trusted because it runs on the host with the
// database and the storage key: whoever holds both can open every secret
// anyway, so sending one elsewhere gives them nothing they could not take;
// and an exported file, which has no secrets, must apply back without
// losing them.
type Origin struct {
	operator bool
	// Actor is who asks: a user or a token over the network, the
	// operator's login on the host.
	Actor Actor
}

var (
	// Network is a caller over the network: the JSON API or the web UI,
	// which name who it is with As. Unnamed, it may change nothing.
	Network = Origin{}
	// Operator is the operator's "mailmon apply -f" on the host.
	Operator = Origin{operator: true, Actor: Actor{Kind: "operator", Name: "operator"}}
)

// As is o with who asks.
func (o Origin) As(a Actor) Origin {
	if o.operator {
		a.Kind = "operator"
	}
	o.Actor = a
	return o
}

func (o Origin) String() string {
	if o.operator {
		return "operator"
	}
	return "network"
}

// fromNetwork says whether the network's rules apply.
func (o Origin) fromNetwork() bool { return !o.operator }
