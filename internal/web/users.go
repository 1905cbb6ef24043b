package web

import (
	"net/http"
	"strings"

	"github.com/mailmon/mailmon/internal/store"
)

type usersData struct {
	Users       []store.User
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
	d.Users = us
	s.render(w, c, status, "users", "Users", d)
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c *call) error {
	name, pw := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	if pw != r.PostFormValue("again") {
		return s.renderUsers(w, r, c, http.StatusBadRequest, usersData{Name: name, Error: "The passwords differ."})
	}
	if _, err := AddUser(r.Context(), s.Store, name, pw, s.BcryptCost); err != nil {
		return s.renderUsers(w, r, c, http.StatusBadRequest, usersData{Name: name, Error: err.Error()})
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
	if err := s.Store.DeleteUser(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}
