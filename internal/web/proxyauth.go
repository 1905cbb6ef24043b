package web

import (
	"errors"
	"net/http"
	"net/netip"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// The trusted-header mode: an authenticating proxy in front of mailmon
// (oauth2-proxy, Authelia, a web server's own login) names the user in a
// header (UserHeader: Remote-User, X-Forwarded-User). The header is
// believed only from a peer of --trusted-proxies (proxy.go); from any
// other it is ignored, as anyone can send it. The user it names is found
// by name and gets a session (its forms' CSRF token); one mailmon does
// not know is made with UserHeaderRole, or refused when that is "".

// proxyUser is the user a trusted proxy names in r, "" for none.
func (s *Server) proxyUser(r *http.Request) string {
	if s.UserHeader == "" {
		return ""
	}
	peer, err := netip.ParseAddr(peerAddr(r.RemoteAddr))
	if err != nil || !s.Proxies.trusts(peer) {
		return ""
	}
	return r.Header.Get(s.UserHeader)
}

// proxySession gives the browser a session of the user the proxy names.
func (s *Server) proxySession(w http.ResponseWriter, r *http.Request, name string) (*store.User, *store.Session, error) {
	ctx := r.Context()
	u, err := s.Store.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		if s.UserHeaderRole == "" {
			return nil, nil, httpError{http.StatusForbidden, "the proxy's user has no login here: an admin adds it (mailmon user add), or serve --auth-header-role gives new ones a role"}
		}
		u = &store.User{Name: name, Role: string(s.UserHeaderRole), External: "proxy"}
		err = s.Catalog.PutUser(ctx, catalog.Operator.As(catalog.Actor{Name: "authenticating proxy", Address: s.Proxies.Client(r).Addr}), u)
	}
	if err != nil {
		return nil, nil, err
	}
	se, err := s.newSession(w, r, u)
	return u, se, err
}
