package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// Credentials are the named SSH logins of recovery actions.

type credentialRow struct {
	ID            int64
	Name, User    string
	KnownHost     string
	Password, Key bool // which secret is set
}

type credentialsData struct {
	Credentials []credentialRow
	V           map[string]string
	Errors      map[string]string
}

func (s *Server) credentials(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderCredentials(w, r, c, http.StatusOK, map[string]string{}, nil)
}

func (s *Server) renderCredentials(w http.ResponseWriter, r *http.Request, c *call, status int, v, errs map[string]string) error {
	cs, _, err := s.Store.Credentials(r.Context(), store.Page{Limit: 1000})
	if err != nil {
		return err
	}
	d := credentialsData{V: v, Errors: errs}
	for _, x := range cs {
		var cc config.Credential
		json.Unmarshal(x.Spec, &cc)
		d.Credentials = append(d.Credentials, credentialRow{ID: x.ID, Name: x.Name, User: cc.User, KnownHost: cc.KnownHost,
			Password: x.Secrets["password"] != "", Key: x.Secrets["key"] != ""})
	}
	s.render(w, c, status, "credentials", "Credentials", d)
	return nil
}

func (s *Server) createCredential(w http.ResponseWriter, r *http.Request, c *call) error {
	r.ParseForm()
	v := map[string]string{}
	for _, k := range []string{"name", "user", "known_host"} {
		v[k] = strings.TrimSpace(r.PostForm.Get(k))
	}
	in := catalog.Credential{Name: v["name"], User: v["user"], KnownHost: v["known_host"]}
	if p := r.PostForm.Get("password"); p != "" {
		in.Password = &p
	}
	if k := strings.TrimSpace(r.PostForm.Get("key")); k != "" {
		k += "\n"
		in.Key = &k
	}
	_, res, err := s.Catalog.SaveCredential(r.Context(), c.origin, 0, in)
	if errors.Is(err, store.ErrConflict) {
		err = catalog.FieldErrors{{Path: "name", Msg: "another credential has this name"}}
	}
	if err == nil {
		err = s.tell(r.Context(), res)
	}
	if fe, ok := catalog.Fields(err); ok {
		return s.renderCredentials(w, r, c, http.StatusBadRequest, v, fieldMap(fe, func(p string) string {
			switch p {
			case "name", "user", "known_host", "password", "key":
				return p
			}
			return ""
		}))
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/credentials", http.StatusSeeOther)
	return nil
}

func (s *Server) deleteCredential(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	res, err := s.Catalog.DeleteCredential(r.Context(), c.origin, id)
	if err != nil {
		return err
	}
	if err := s.tell(r.Context(), res); err != nil { // their recoveries over SSH now say it is missing
		return err
	}
	http.Redirect(w, r, "/credentials", http.StatusSeeOther)
	return nil
}
