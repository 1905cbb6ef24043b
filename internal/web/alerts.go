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
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
)

type alertRow struct {
	store.Alert
	Summary  string
	Password bool // the relay password is set
	Health   *alert.ActionHealth
}

type alertsData struct {
	Alerts []alertRow
	V      map[string]string
	Errors map[string]string
	Kinds  []alertKind // those the form offers: every kind a user may add, or the edited operator-only one
	Labels map[string]string
	TLS    []string
	Auth   []string // the relay's authentication choices
	EditID int64    // the alert being edited, 0 for a new one
	Action string   // where the form posts
	// Set are the edited alert's write-only fields that are stored, by
	// form key; URLSet is its webhook URL's scheme and host.
	Set     map[string]bool
	URLSet  string
	Headers []headerRow // the webhook's headers: names, values write-only
	// Services are the notification services offered by URL.
	Services string
	// RO are the edited alert's command and paths, shown read-only
	// (operator.go), by field path.
	RO map[string]string
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request, c *call) error {
	c.notice = alertNotice(r.URL.Query(), s.alertName(r))
	return s.renderAlerts(w, r, c, http.StatusOK, 0, map[string]string{"kind": "webhook", "email.relay.tls": "starttls"}, nil)
}

// alertValues shows an alert's settings in the form (never a secret).
func alertValues(a *store.Alert) map[string]string {
	var cfg config.Alert
	json.Unmarshal(a.Spec, &cfg)
	v := map[string]string{"name": a.Name, "kind": cfg.Kind()}
	if k := alertKindNamed(cfg.Kind()); k != nil {
		k.show(&cfg, v)
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
	d := alertsData{V: v, Errors: errs, Labels: alertLabels, TLS: []string{"none", "starttls-optional", "starttls", "implicit"},
		Auth:   probe.AuthChoices("smtp"),
		EditID: edit, Action: "/alerts", Set: map[string]bool{}, Services: strings.Join(config.ChannelServices, ", ")}
	for _, k := range alertKinds {
		if !k.OperatorOnly {
			d.Kinds = append(d.Kinds, k)
		}
	}
	var posted []string // the header names of a refused post
	if r.Method == http.MethodPost {
		posted = r.PostForm["webhook.headers.name"]
	}
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
			d.URLSet = origin
			for _, k := range alertKinds {
				for _, f := range k.Fields {
					if f.Sealed != "" && a.Secrets[f.Sealed] != "" {
						d.Set[f.Key] = true
					}
				}
			}
			d.Headers = headerRows(a.Secrets, posted)
			d.RO = operatorTexts(&cfg)
			if k := alertKindNamed(cfg.Kind()); k != nil && k.OperatorOnly {
				d.Kinds = []alertKind{*k}
			}
		}
		switch {
		case cfg.Webhook != nil:
			f := cfg.Webhook.Format
			if cfg.Webhook.Body != "" {
				f = webhookTemplate
			}
			if m := cfg.Webhook.Method; m != "" {
				f += ", " + m
			}
			row.Summary = origin + "/… (" + f + ")"
		case cfg.Email != nil:
			row.Summary = strings.Join(cfg.Email.To, ", ") + " via " + cfg.Email.Relay.Host
		case cfg.Command != nil:
			row.Summary = strings.Join(cfg.Command.Argv, " ")
		case cfg.Target() != "":
			row.Summary = alert.Origin(cfg.Target()) // Alertmanager, PagerDuty, Opsgenie
		case cfg.IsChannel():
			row.Summary = cfg.Service + "://… (a service by URL)" // the rest is the secret
		}
		d.Alerts = append(d.Alerts, row)
	}
	if edit == 0 {
		d.Headers = headerRows(nil, posted)
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
	p := &alertPost{form: r.PostForm, errs: map[string]string{}}
	v := map[string]string{"name": p.get("name"), "kind": p.get("kind")}
	for _, k := range alertKinds {
		for _, f := range k.Fields {
			if f.Sealed == "" { // secrets are not shown again
				v[f.Key] = p.get(f.Key)
			}
		}
	}
	for _, f := range escalationFields {
		v[f] = p.get(f)
	}
	v["webhook.body"], v["email.body"] = r.PostForm.Get("webhook.body"), r.PostForm.Get("email.body")
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
		p.errs[""], status = fieldMap(fe, func(string) string { return "" })[""], http.StatusForbidden
	}
	a := config.Alert{Name: v["name"]}
	k := alertKindNamed(v["kind"])
	if k == nil {
		var names []string
		for _, k := range alertKinds {
			names = append(names, k.Name)
		}
		p.fail("kind", "pick one of "+strings.Join(names, ", "))
	} else {
		k.read(p, &a)
		// Keep what the form has no field for or shows read-only.
		if k.keep != nil && base.Kind() == k.Name {
			k.keep(p, &a, &base)
		}
	}
	if k != nil && k.Name == "url" && !a.IsChannel() {
		p.fail("url", "is required: the service's URL, like ntfy://ntfy.example.com/topic")
	}
	escalationFromForm(v, p.errs, &a) // whatever the kind
	var pw *string
	if x := r.PostForm.Get("relay_password"); x != "" && a.Email != nil {
		pw = &x
	} else if r.PostForm.Get("relay_password.clear") == "on" {
		empty := ""
		pw = &empty
	}
	errs := p.errs
	if len(errs) == 0 {
		saved, res, err := s.Catalog.SaveAlert(r.Context(), c.origin, id, catalog.Alert{Settings: a, RelayPassword: pw, ClearHeaders: p.clearHeaders})
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
			errs = alertErrors(fe, id != 0)
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
