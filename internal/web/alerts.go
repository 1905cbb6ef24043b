package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/api"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

type alertRow struct {
	store.Alert
	Summary  string
	Password bool // the relay password is set
}

type alertsData struct {
	Alerts []alertRow
	V      map[string]string
	Errors map[string]string
	Kinds  []string
	TLS    []string
}

var alertFields = []string{"name", "kind", "webhook.url", "webhook.format", "email.to", "email.from", "email.relay.host",
	"email.relay.port", "email.relay.tls", "email.relay.user", "relay_password", "command.argv"}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderAlerts(w, r, c, http.StatusOK, map[string]string{"kind": "webhook"}, nil)
}

func (s *Server) renderAlerts(w http.ResponseWriter, r *http.Request, c *call, status int, v, errs map[string]string) error {
	as, _, err := s.Store.Alerts(r.Context(), store.Page{Limit: 1000})
	if err != nil {
		return err
	}
	d := alertsData{V: v, Errors: errs, Kinds: []string{"webhook", "email", "command"}, TLS: []string{"none", "starttls-optional", "starttls", "implicit"}}
	for _, a := range as {
		var cfg config.Alert
		json.Unmarshal(a.Spec, &cfg)
		row := alertRow{Alert: a, Password: a.Secrets["relay.password"] != ""}
		switch {
		case cfg.Webhook != nil:
			row.Summary = cfg.Webhook.URL + " (" + cfg.Webhook.Format + ")"
		case cfg.Email != nil:
			row.Summary = strings.Join(cfg.Email.To, ", ") + " via " + cfg.Email.Relay.Host
		case cfg.Command != nil:
			row.Summary = strings.Join(cfg.Command.Argv, " ")
		}
		d.Alerts = append(d.Alerts, row)
	}
	s.render(w, c, status, "alerts", "Alerts", d)
	return nil
}

func (s *Server) createAlert(w http.ResponseWriter, r *http.Request, c *call) error {
	r.ParseForm()
	v := map[string]string{}
	for _, k := range alertFields {
		if k != "relay_password" {
			v[k] = strings.TrimSpace(r.PostForm.Get(k))
		}
	}
	errs := map[string]string{}
	a := config.Alert{Name: v["name"]}
	switch v["kind"] {
	case "webhook":
		a.Webhook = &config.Webhook{URL: v["webhook.url"], Format: v["webhook.format"]}
	case "email":
		port := 0
		if x := v["email.relay.port"]; x != "" {
			n, err := strconv.Atoi(x)
			if err != nil {
				errs["email.relay.port"] = "is a whole number"
			}
			port = n
		}
		var to []string
		for _, t := range strings.Split(v["email.to"], ",") {
			if t = strings.TrimSpace(t); t != "" {
				to = append(to, t)
			}
		}
		a.Email = &config.Email{To: to, From: v["email.from"], Relay: config.Leg{Host: v["email.relay.host"], Port: port,
			TLS: v["email.relay.tls"], User: v["email.relay.user"]}}
	case "command":
		a.Command = &config.Command{Argv: strings.Fields(v["command.argv"])}
	default:
		errs["kind"] = "pick webhook, email or command"
	}
	var pw *string
	if p := r.PostForm.Get("relay_password"); p != "" && a.Email != nil {
		pw = &p
	}
	if len(errs) == 0 {
		_, err := s.API.SaveAlert(r.Context(), 0, a, pw)
		if fe, ok := api.FieldErrors(err); ok {
			errs = fieldMap(fe, func(p string) string {
				for _, k := range alertFields {
					if p == k || strings.HasPrefix(p, k+"[") {
						return k
					}
				}
				return ""
			})
		} else if err != nil {
			return err
		} else {
			http.Redirect(w, r, "/alerts", http.StatusSeeOther)
			return nil
		}
	}
	return s.renderAlerts(w, r, c, http.StatusBadRequest, v, errs)
}

func (s *Server) deleteAlert(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteAlert(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/alerts", http.StatusSeeOther)
	return nil
}
