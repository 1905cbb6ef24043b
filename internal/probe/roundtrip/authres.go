package roundtrip

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-msgauth/authres"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// AuthResults is what the Authentication-Results header (RFC 8601) that
// counts says of the probe: the receiving server's.
type AuthResults struct {
	ServID string // the authserv-id of the header read
	// Results is method (spf, dkim, dmarc, …) → result (pass, fail, …),
	// the first result of each method; nil when the header holds none.
	Results map[string]string
	// Judged is method → the domain or address that result is about
	// (header.from, header.d, smtp.mailfrom …), where the header says.
	Judged map[string]string
	// Unparseable is the header, sanitised and cut short, when it could
	// not be read: recorded, never a failure of the round trip.
	Unparseable string
}

// Caps on what a server's header can make the result carry.
const (
	maxAuthHeaders = 16      // Authentication-Results headers kept from one message
	maxAuthHeader  = 8 << 10 // bytes of one header read
	maxAuthMethods = 16      // methods recorded from the header read
	maxAuthValue   = 32      // bytes of a method or result name
	maxAuthJudged  = 128     // bytes of a judged domain or address
	maxAuthShown   = 256     // bytes of an unparseable header shown
)

// ReadAuthResults finds the receiving server's header among values (the
// Authentication-Results headers, top first: the last added first) and
// reads it. id names the receiving server's authserv-id: the first header
// carrying it counts, any other is ignored, since anyone on the way, the
// sender too, can add a header further down. id "" takes the first header,
// which is the receiving server's only if it adds one to every message.
// nil: no header counts.
func ReadAuthResults(values []string, id string) *AuthResults {
	for _, v := range values {
		if len(v) > maxAuthHeader {
			v = v[:maxAuthHeader]
		}
		clean := stripCFWS(v)
		if id != "" && !strings.EqualFold(servID(clean), id) {
			continue
		}
		return parseAuthResults(v, clean)
	}
	return nil
}

// parseAuthResults reads one header with go-msgauth's authres, after
// stripCFWS has taken out what that parser does not handle: comments, and
// spaces or semicolons inside quoted strings.
func parseAuthResults(raw, clean string) *AuthResults {
	id, results, err := authres.Parse(clean)
	ar := &AuthResults{ServID: wire.Truncate(wire.Sanitize(id), maxAuthJudged)}
	if err != nil {
		ar.ServID = wire.Truncate(wire.Sanitize(servID(clean)), maxAuthJudged)
		ar.Unparseable = wire.Truncate(wire.Sanitize(strings.Join(strings.Fields(raw), " ")), maxAuthShown)
		return ar
	}
	for _, r := range results {
		method, value, judged := resultOf(r)
		method = wire.Truncate(wire.Sanitize(method), maxAuthValue)
		if method == "" || value == "" {
			continue
		}
		value = strings.ToLower(value)
		if prev, seen := ar.Results[method]; seen {
			// A method may have several results (dkim: one a signature):
			// the first counts, unless a later one passes (one valid
			// signature authenticates the message).
			if prev == "pass" || value != "pass" {
				continue
			}
		} else if len(ar.Results) >= maxAuthMethods {
			continue
		}
		if ar.Results == nil {
			ar.Results, ar.Judged = map[string]string{}, map[string]string{}
		}
		ar.Results[method] = wire.Truncate(wire.Sanitize(value), maxAuthValue)
		delete(ar.Judged, method)
		if judged != "" {
			ar.Judged[method] = wire.Truncate(wire.Sanitize(judged), maxAuthJudged)
		}
	}
	return ar
}

// resultOf is a result's method, value and the identity it judged.
func resultOf(r authres.Result) (method, value, judged string) {
	switch r := r.(type) {
	case *authres.SPFResult:
		judged = r.From
		if judged == "" {
			judged = r.Helo
		}
		return "spf", string(r.Value), judged
	case *authres.DKIMResult:
		judged = r.Domain
		if judged == "" {
			judged = strings.TrimPrefix(r.Identifier, "@")
		}
		return "dkim", string(r.Value), judged
	case *authres.DMARCResult:
		return "dmarc", string(r.Value), r.From
	case *authres.ARCResult:
		return "arc", string(r.Value), ""
	case *authres.AuthResult:
		return "auth", string(r.Value), ""
	case *authres.IPRevResult:
		return "iprev", string(r.Value), r.IP
	case *authres.SenderIDResult:
		return "sender-id", string(r.Value), r.HeaderKey
	case *authres.DomainKeysResult:
		return "domainkeys", string(r.Value), r.Domain
	case *authres.GenericResult:
		// An unknown method, or a known one with a version (dkim/1).
		m, _, _ := strings.Cut(r.Method, "/")
		return m, string(r.Value), ""
	}
	return "", "", ""
}

// servID is the authserv-id of a header stripCFWS has cleaned: what comes
// before the first semicolon, without the version.
func servID(clean string) string {
	head, _, _ := strings.Cut(clean, ";")
	f := strings.Fields(head)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// stripCFWS rewrites an RFC 8601 header value for authres.Parse, which
// splits at every semicolon and space and knows no comments: comments go
// (nested ones too, with their quoted pairs), spaces around "=", "." and
// "/" go (RFC 8601 allows CFWS there), and a quoted string loses its
// quotes, its spaces and semicolons becoming "_" (they matter only in
// free text such as reason=, which the verdict does not use).
func stripCFWS(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	depth, quoted, escaped := 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
			if depth > 0 {
				continue
			}
			b.WriteByte(quotedByte(c))
		case c == '\\' && (quoted || depth > 0):
			escaped = true
		case quoted:
			if c == '"' {
				quoted = false
			} else {
				b.WriteByte(quotedByte(c))
			}
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
		case depth > 0:
		case c == '"':
			quoted = true
		case c == '\r' || c == '\n' || c == '\t':
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return tightenOperators(b.String())
}

func quotedByte(c byte) byte {
	switch c {
	case ' ', '\t', '\r', '\n', ';', '=':
		return '_'
	}
	return c
}

// tightenOperators removes the spaces around "=", "." and "/", and
// makes runs of spaces one.
func tightenOperators(s string) string {
	const ops = "=./"
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			b = append(b, s[i])
			continue
		}
		j := i
		for j < len(s) && s[j] == ' ' {
			j++
		}
		next := j < len(s) && strings.IndexByte(ops, s[j]) >= 0
		prev := len(b) > 0 && strings.IndexByte(ops, b[len(b)-1]) >= 0
		if !next && !prev {
			b = append(b, ' ')
		}
		i = j - 1
	}
	return string(b)
}

// What a verdict other than pass does to the round trip (auth_results).
const (
	AuthWarn   = "warn" // the default
	AuthIgnore = "ignore"
	AuthDown   = "down"
)

// AuthPolicies lists auth_results' values.
func AuthPolicies() []string { return []string{AuthWarn, AuthIgnore, AuthDown} }

// DefaultAuthMethods are the methods judged when auth_results_methods is
// not given.
func DefaultAuthMethods() []string { return []string{"dkim", "spf", "dmarc"} }

// judgeAuth is the round trip's verdict on the header that counts: nil
// when every judged method passed (or the header does not name it), else
// an auth_results Warning, or a failure under auth_results: down.
func judgeAuth(cfg *probe.Config, ar *AuthResults) error {
	if ar == nil || cfg.AuthResults == AuthIgnore {
		return nil
	}
	methods := cfg.AuthResultsMethods
	if len(methods) == 0 {
		methods = DefaultAuthMethods()
	}
	var bad []string
	for _, m := range methods {
		m = strings.ToLower(m)
		if v, ok := ar.Results[m]; ok && v != "pass" {
			bad = append(bad, authSentence(m, v, ar, cfg.From))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	err := errors.New(strings.Join(bad, "; "))
	if cfg.AuthResults == AuthDown {
		return &probe.CodeError{Code: probe.AuthResultsFailed, Err: err}
	}
	return &probe.Warning{Code: probe.AuthResultsFailed, Err: err}
}

// authSentence says what a method's verdict means and what to fix.
func authSentence(method, verdict string, ar *AuthResults, from string) string {
	domain := ar.Judged[method]
	if _, d, ok := strings.Cut(domain, "@"); ok {
		domain = d
	}
	if domain == "" {
		if _, d, ok := strings.Cut(from, "@"); ok {
			domain = d
		}
	}
	at := ar.ServID
	if at == "" {
		at = "the receiving server"
	}
	head := fmt.Sprintf("%s %s at %s", strings.ToUpper(method), verdict, at)
	switch method {
	case "dmarc":
		return fmt.Sprintf("%s: the probe's From domain is not aligned with a passing SPF or DKIM - fix SPF or DKIM for %s", head, domain)
	case "spf":
		return fmt.Sprintf("%s: the sending server is not authorised by the SPF record of %s - add its address to that record", head, domain)
	case "dkim":
		return fmt.Sprintf("%s: the probe carries no valid DKIM signature of %s - sign outgoing mail, or publish the signing key", head, domain)
	}
	return head
}

// checkAuth validates auth_results, auth_results_id and
// auth_results_methods.
func checkAuth(c *probe.Config, bad func(field, format string, args ...any)) {
	if c.AuthResults == "" {
		c.AuthResults = AuthWarn
	}
	if !slices.Contains(AuthPolicies(), c.AuthResults) {
		bad("auth_results", "%q is not one of warn, ignore, down%s", c.AuthResults, probe.DidYouMean(c.AuthResults, AuthPolicies()))
	}
	if len(c.AuthResultsID) > 255 || !authToken(c.AuthResultsID, ".-_") {
		bad("auth_results_id", "%q is not an authserv-id: the receiving server's name as its Authentication-Results header starts, like mx.example.com", c.AuthResultsID)
	}
	for _, m := range c.AuthResultsMethods {
		if m == "" || len(m) > maxAuthValue || !authToken(m, "-_") {
			bad("auth_results_methods", "%q is not an authentication method: use names such as dkim, spf, dmarc, arc", m)
		}
	}
}

// authToken reports whether s holds only letters, digits and extra.
func authToken(s, extra string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(extra, r)) {
			return false
		}
	}
	return true
}
