package web

import (
	"net/http"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

type usersData struct {
	Users       []store.User
	Roles       []catalog.Role
	Name, Error string
}

func (s *Server) users(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderUsers(w, r, c, http.StatusOK, usersData{})
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, c *call, status int, d usersData) error {
	us, err := s.Store.Users(r.Context())
	if err != nil {
		return err
	}
	d.Users, d.Roles = us, catalog.Roles
	s.render(w, c, status, "users", "Users", d)
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c *call) error {
	name, pw := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	if pw != r.PostFormValue("again") {
		return s.renderUsers(w, r, c, http.StatusBadRequest, usersData{Name: name, Error: "The passwords differ."})
	}
	role := catalog.Viewer // the least, unless the form says
	if v := r.PostFormValue("role"); v != "" {
		var err error
		if role, err = catalog.ParseRole(v); err != nil {
			return s.renderUsers(w, r, c, http.StatusBadRequest, usersData{Name: name, Error: "Role: " + err.Error()})
		}
	}
	if _, err := AddUser(r.Context(), s.Catalog, c.origin, name, pw, role, s.BcryptCost); err != nil {
		return s.renderUsers(w, r, c, http.StatusBadRequest, usersData{Name: name, Error: err.Error()})
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}

// setRole gives a user another role; an admin cannot take their own away
// (someone must be left to manage the others).
func (s *Server) setRole(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	role, err := catalog.ParseRole(r.PostFormValue("role"))
	if err != nil {
		return s.renderUsers(w, r, c, http.StatusBadRequest, usersData{Error: "Role: " + err.Error()})
	}
	if id == c.user.ID && role != catalog.Admin {
		return s.renderUsers(w, r, c, http.StatusBadRequest, usersData{Error: "You cannot take away your own admin role: another admin can."})
	}
	u, err := s.Store.User(r.Context(), id)
	if err != nil {
		return err
	}
	u.Role = string(role)
	if err := s.Catalog.PutUser(r.Context(), c.origin, u); err != nil {
		return err
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if id == c.user.ID {
		return s.renderUsers(w, r, c, http.StatusBadRequest, usersData{Error: "You cannot delete yourself while logged in."})
	}
	if err := s.Catalog.DeleteUser(r.Context(), c.origin, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}
