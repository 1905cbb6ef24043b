package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

type alertRow struct {
	store.Alert
	Summary  string
	Password bool // the relay password is set
	Health   *alert.ActionHealth
}

type alertsData struct {
	Alerts      []alertRow
	V           map[string]string
	Errors      map[string]string
	Kinds       []string
	TLS         []string
	EditID      int64  // the alert being edited, 0 for a new one
	Action      string // where the form posts
	PasswordSet bool   // the edited alert's relay password is set
	URLSet      string // the edited webhook's URL is set: its scheme and host
	// RO are the edited alert's command and paths, shown read-only
	// (operator.go), by field path.
	RO map[string]string
}

var alertFields = append([]string{"name", "kind", "webhook.url", "webhook.format", "email.to", "email.from", "email.relay.host",
	"email.relay.port", "email.relay.tls", "email.relay.user", "relay_password"}, escalationFields...)

func (s *Server) alerts(w http.ResponseWriter, r *http.Request, c *call) error {
	c.notice = alertNotice(r.URL.Query(), s.alertName(r))
	return s.renderAlerts(w, r, c, http.StatusOK, 0, map[string]string{"kind": "webhook"}, nil)
}

// alertValues shows an alert's settings in the form.
func alertValues(a *store.Alert) map[string]string {
	var cfg config.Alert
	json.Unmarshal(a.Spec, &cfg)
	v := map[string]string{"name": a.Name, "kind": a.Kind}
	switch {
	case cfg.Webhook != nil:
		v["webhook.format"] = cfg.Webhook.Format // the URL is a secret: never shown
	case cfg.Email != nil:
		v["email.to"], v["email.from"] = strings.Join(cfg.Email.To, ", "), cfg.Email.From
		v["email.relay.host"], v["email.relay.tls"], v["email.relay.user"] = cfg.Email.Relay.Host, cfg.Email.Relay.TLS, cfg.Email.Relay.User
		if cfg.Email.Relay.Port != 0 {
			v["email.relay.port"] = strconv.Itoa(cfg.Email.Relay.Port)
		}
	}
	escalationValues(&cfg, v)
	return v
}

// pathAlert is the stored alert the path names.
func (s *Server) pathAlert(r *http.Request) (*store.Alert, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return s.Store.Alert(r.Context(), id)
}

func (s *Server) editAlert(w http.ResponseWriter, r *http.Request, c *call) error {
	a, err := s.pathAlert(r)
	if err != nil {
		return err
	}
	id := a.ID
	if r.URL.Query().Get("test") == "sent" {
		c.notice = "Test alert sent through " + a.Name + ": check that it arrived. It is marked as a test (event and state \"test\", \"[test]\" in a subject or text)."
	}
	return s.renderAlerts(w, r, c, http.StatusOK, id, alertValues(a), nil)
}

func (s *Server) updateAlert(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Store.Alert(r.Context(), id); err != nil {
		return err
	}
	return s.saveAlert(w, r, c, id)
}

func (s *Server) renderAlerts(w http.ResponseWriter, r *http.Request, c *call, status int, edit int64, v, errs map[string]string) error {
	as, _, err := s.Store.Alerts(r.Context(), store.Page{Limit: 1000})
	if err != nil {
		return err
	}
	// A command alert is the operator's: it stays one, and none is added here.
	d := alertsData{V: v, Errors: errs, Kinds: []string{"webhook", "email"}, TLS: []string{"none", "starttls-optional", "starttls", "implicit"},
		EditID: edit, Action: "/alerts"}
	if edit != 0 {
		d.Action = "/alerts/" + strconv.FormatInt(edit, 10) + "/edit"
	}
	health := map[int64]*alert.ActionHealth{}
	if s.Engine != nil {
		for _, h := range s.Engine.ActionHealth() {
			health[h.AlertID] = &h
		}
	}
	for _, a := range as {
		var cfg config.Alert
		json.Unmarshal(a.Spec, &cfg)
		row := alertRow{Alert: a, Password: a.Secrets["relay.password"] != "", Health: health[a.ID]}
		origin := catalog.WebhookOrigin(s.Catalog.Vault, &a)
		if a.ID == edit {
			d.PasswordSet, d.URLSet = row.Password, origin
			d.RO = operatorTexts(&cfg)
			if cfg.Command != nil {
				d.Kinds = []string{"command"}
			}
		}
		switch {
		case cfg.Webhook != nil:
			row.Summary = origin + "/… (" + cfg.Webhook.Format + ")"
		case cfg.Email != nil:
			row.Summary = strings.Join(cfg.Email.To, ", ") + " via " + cfg.Email.Relay.Host
		case cfg.Command != nil:
			row.Summary = strings.Join(cfg.Command.Argv, " ")
		case cfg.Target() != "":
			row.Summary = alert.Origin(cfg.Target()) // Alertmanager, PagerDuty, Opsgenie
		}
		d.Alerts = append(d.Alerts, row)
	}
	s.render(w, c, status, "alerts", "Alerts", d)
	return nil
}

func (s *Server) createAlert(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.saveAlert(w, r, c, 0)
}

// saveAlert saves the posted alert form as alert id (0: a new one).
func (s *Server) saveAlert(w http.ResponseWriter, r *http.Request, c *call, id int64) error {
	r.ParseForm()
	v := map[string]string{}
	for _, k := range alertFields {
		if k != "relay_password" && k != "webhook.url" { // secrets are not shown again
			v[k] = strings.TrimSpace(r.PostForm.Get(k))
		}
	}
	errs := map[string]string{}
	var base config.Alert // the stored alert; none for a new one
	if id != 0 {
		old, err := s.Store.Alert(r.Context(), id)
		if err != nil {
			return err
		}
		json.Unmarshal(old.Spec, &base)
	}
	status := http.StatusBadRequest
	if fe := postedOperatorFields(r.PostForm, &base); len(fe) > 0 {
		errs[""], status = fieldMap(fe, func(string) string { return "" })[""], http.StatusForbidden
	}
	a := config.Alert{Name: v["name"]}
	switch v["kind"] {
	case "webhook":
		// Left empty on an edit, the stored URL stays.
		a.Webhook = &config.Webhook{URL: config.SecretRef{Value: strings.TrimSpace(r.PostForm.Get("webhook.url"))}, Format: v["webhook.format"]}
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
		a.Command = &config.Command{} // a new one is refused; a stored one is kept below
	default:
		errs["kind"] = "pick webhook, email or command"
	}
	escalationFromForm(v, errs, &a)
	// Keep what the form has no field for or shows read-only.
	if a.Email != nil && base.Email != nil {
		a.Email.Subject, a.Email.Body = base.Email.Subject, base.Email.Body
		rl, bl := &a.Email.Relay, base.Email.Relay
		rl.Auth, rl.CA, rl.ServerName, rl.InsecureSkipVerify, rl.AllowPlaintextAuth = bl.Auth, bl.CA, bl.ServerName, bl.InsecureSkipVerify, bl.AllowPlaintextAuth
	}
	if a.Command != nil && base.Command != nil {
		kept := *base.Command
		a.Command = &kept
	}
	var pw *string
	if p := r.PostForm.Get("relay_password"); p != "" && a.Email != nil {
		pw = &p
	} else if r.PostForm.Get("relay_password.clear") == "on" {
		empty := ""
		pw = &empty
	}
	if len(errs) == 0 {
		saved, res, err := s.Catalog.SaveAlert(r.Context(), c.origin, id, catalog.Alert{Settings: a, RelayPassword: pw})
		if errors.Is(err, store.ErrConflict) {
			err = catalog.FieldErrors{{Path: "name", Msg: "another alert has this name"}}
		}
		var dropped []string
		if err == nil {
			dropped = res.DroppedFrom("alert", saved.ID)
		}
		if catalog.IsOperatorOnly(err) {
			status = http.StatusForbidden
		}
		if fe, ok := catalog.Fields(err); ok {
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
			http.Redirect(w, r, "/alerts"+alertDroppedQuery(id, dropped), http.StatusSeeOther)
			return nil
		}
	}
	return s.renderAlerts(w, r, c, status, id, v, errs)
}

func (s *Server) deleteAlert(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Catalog.DeleteAlert(r.Context(), c.origin, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/alerts", http.StatusSeeOther)
	return nil
}
