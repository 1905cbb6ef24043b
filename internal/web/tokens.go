package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// The tokens page: an admin lists the API's tokens (scopes, last use,
// expiry), makes one (shown once) and revokes one.

type tokensData struct {
	Tokens      []store.Token
	Scopes      []string
	Name, Error string
	// Made is the token just made, shown this once.
	Made string
}

func (s *Server) tokens(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderTokens(w, r, c, http.StatusOK, tokensData{})
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, c *call, status int, d tokensData) error {
	ts, err := s.Store.Tokens(r.Context())
	if err != nil {
		return err
	}
	d.Tokens, d.Scopes = ts, catalog.AllScopes.Names()
	s.render(w, c, status, "tokens", "API tokens", d)
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := r.ParseForm(); err != nil {
		return httpError{http.StatusBadRequest, "the form is not readable"}
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	fail := func(msg string) error {
		return s.renderTokens(w, r, c, http.StatusBadRequest, tokensData{Name: name, Error: msg})
	}
	scopes, err := catalog.ParseScopes(r.PostForm["scope"])
	if err != nil {
		return fail("Scopes: " + err.Error())
	}
	var expires time.Time
	if v := r.PostFormValue("expires"); v != "" && v != "never" {
		d, err := catalog.ParseLifetime(v)
		if err != nil {
			return fail("Expires: " + err.Error())
		}
		expires = s.Now().Add(d)
	}
	tok, _, err := s.Catalog.CreateToken(r.Context(), c.origin, name, scopes, expires)
	if fe, ok := catalog.Fields(err); ok {
		return fail(fe[0].Path + ": " + fe[0].Msg)
	}
	if err != nil {
		return err
	}
	return s.renderTokens(w, r, c, http.StatusOK, tokensData{Made: tok})
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Catalog.DeleteToken(r.Context(), c.origin, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	return nil
}
