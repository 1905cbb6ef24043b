package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/config"
)

// The alert form has one section per kind of action, and shows only the
// chosen kind's. Each kind is an entry of alertKinds (its fields, their
// labels, how they go to and from the settings) and a block
// {{define "alert-KIND"}} in alerts.html (how they look). Adding a kind is
// those two: the page lists, shows and reads the table's entries.

// alertField is a field of the form, by its YAML path, and its label:
// errors name the field by it.
type alertField struct {
	Key, Label string
	// Sealed is a write-only field's secret name (it is never shown
	// again: "set", kept when left empty).
	Sealed string
}

// alertKind is one kind of alert action in the form.
type alertKind struct {
	Name, Label string
	Fields      []alertField
	// show puts a stored action's settings into the form's values.
	show func(a *config.Alert, v map[string]string)
	// read makes the kind's section of a from the post.
	read func(p *alertPost, a *config.Alert)
	// keep carries over what the form does not edit (or the post left
	// out) from the stored settings (base, of the same kind).
	keep func(p *alertPost, a, base *config.Alert)
	// OperatorOnly kinds are defined on the host (mailmon apply -f): the
	// form shows a stored one, never adds one.
	OperatorOnly bool
}

// alertPost is the posted form, trimmed, and the errors found reading it.
type alertPost struct {
	form url.Values
	errs map[string]string // by field key, in the form's words
	// Headers is the posted webhook header list, when the form sent one:
	// it replaces the stored headers (clearHeaders when it is empty).
	clearHeaders bool
}

func (p *alertPost) get(k string) string { return strings.TrimSpace(p.form.Get(k)) }

// has says whether the post has field k (a page from an older version may
// lack it).
func (p *alertPost) has(k string) bool {
	_, ok := p.form[k]
	return ok
}

// fail records an error beside field k.
func (p *alertPost) fail(k, msg string) {
	if p.errs[k] != "" {
		p.errs[k] += "; "
	}
	p.errs[k] += alertLabel(k) + ": " + msg
}

// port reads a port field ("" is 0, the default).
func (p *alertPost) port(k string) int {
	x := p.get(k)
	if x == "" {
		return 0
	}
	n, err := strconv.Atoi(x)
	if err != nil {
		p.fail(k, "is a whole number (like 587)")
	}
	return n
}

var alertKinds = []alertKind{
	{Name: "webhook", Label: "Webhook", Fields: []alertField{
		{Key: "webhook.url", Label: "URL", Sealed: "webhook.url"},
		{Key: "webhook.format", Label: "Format"},
		{Key: "webhook.method", Label: "Method"},
		{Key: "webhook.body", Label: "Body template"},
		{Key: "webhook.headers", Label: "Headers"},
	}, show: func(a *config.Alert, v map[string]string) {
		w := a.Webhook
		v["webhook.format"], v["webhook.method"], v["webhook.body"] = w.Format, w.Method, w.Body
		if w.Body != "" {
			v["webhook.format"] = webhookTemplate
		}
	}, read: func(p *alertPost, a *config.Alert) {
		// Left empty on an edit, the stored URL stays.
		w := &config.Webhook{URL: config.SecretRef{Value: p.get("webhook.url")}, Format: p.get("webhook.format"),
			Method: p.get("webhook.method"), Body: p.form.Get("webhook.body")}
		if w.Format == webhookTemplate {
			w.Format = ""
			if strings.TrimSpace(w.Body) == "" {
				p.fail("webhook.body", "is required with the format "+webhookTemplate+" (like {\"text\": {{json .Message}}})")
			}
		} else if strings.TrimSpace(w.Body) != "" {
			p.fail("webhook.body", "is only sent with the format "+webhookTemplate+": choose it, or empty the body")
		}
		w.Headers = p.headers()
		a.Webhook = w
	}},
	{Name: "email", Label: "E-mail", Fields: []alertField{
		{Key: "email.to", Label: "To"},
		{Key: "email.from", Label: "From"},
		{Key: "email.subject", Label: "Subject"},
		{Key: "email.body", Label: "Body"},
		{Key: "email.relay.host", Label: "Relay host"},
		{Key: "email.relay.port", Label: "Relay port"},
		{Key: "email.relay.tls", Label: "Relay TLS"},
		{Key: "email.relay.user", Label: "Relay user"},
		{Key: "relay_password", Label: "Relay password", Sealed: "relay.password"},
		{Key: "email.relay.auth", Label: "Relay authentication"},
		{Key: "email.relay.servername", Label: "Relay certificate name"},
		{Key: "email.relay.allow_plaintext_auth", Label: "Allow the password without TLS"},
		{Key: "email.relay.insecure_skip_verify", Label: "Do not verify the relay's certificate (insecure)"},
	}, show: func(a *config.Alert, v map[string]string) {
		e := a.Email
		v["email.to"], v["email.from"], v["email.subject"], v["email.body"] = strings.Join(e.To, ", "), e.From, e.Subject, e.Body
		v["email.relay.host"], v["email.relay.tls"], v["email.relay.user"] = e.Relay.Host, e.Relay.TLS, e.Relay.User
		if e.Relay.Port != 0 {
			v["email.relay.port"] = strconv.Itoa(e.Relay.Port)
		}
		v["email.relay.auth"], v["email.relay.servername"] = e.Relay.Auth, e.Relay.ServerName
		v["email.relay.allow_plaintext_auth"], v["email.relay.insecure_skip_verify"] = check(e.Relay.AllowPlaintextAuth), check(e.Relay.InsecureSkipVerify)
	}, read: func(p *alertPost, a *config.Alert) {
		var to []string
		for _, t := range strings.Split(p.get("email.to"), ",") {
			if t = strings.TrimSpace(t); t != "" {
				to = append(to, t)
			}
		}
		a.Email = &config.Email{To: to, From: p.get("email.from"), Subject: p.get("email.subject"), Body: p.form.Get("email.body"),
			Relay: config.Leg{Host: p.get("email.relay.host"), Port: p.port("email.relay.port"), TLS: p.get("email.relay.tls"), User: p.get("email.relay.user"),
				Auth: p.get("email.relay.auth"), ServerName: p.get("email.relay.servername"),
				AllowPlaintextAuth: p.get("email.relay.allow_plaintext_auth") == "on", InsecureSkipVerify: p.get("email.relay.insecure_skip_verify") == "on"}}
	}, keep: func(p *alertPost, a, base *config.Alert) {
		if !p.has("email.subject") { // a page from before the field
			a.Email.Subject = base.Email.Subject
		}
		if !p.has("email.body") {
			a.Email.Body = base.Email.Body
		}
		rl, bl := &a.Email.Relay, base.Email.Relay
		rl.CA = bl.CA // the operator's: shown, not edited
		if !p.has("email.relay.auth") {
			rl.Auth = bl.Auth
		}
		if !p.has("email.relay.servername") {
			rl.ServerName = bl.ServerName
		}
		if !p.has("email.relay.checks") { // its boxes, absent when unticked
			rl.AllowPlaintextAuth, rl.InsecureSkipVerify = bl.AllowPlaintextAuth, bl.InsecureSkipVerify
		}
	}},
	{Name: "command", Label: "Command", OperatorOnly: true, show: func(*config.Alert, map[string]string) {},
		read: func(p *alertPost, a *config.Alert) {
			a.Command = &config.Command{} // a new one is refused; a stored one is kept
		}, keep: func(_ *alertPost, a, base *config.Alert) {
			kept := *base.Command
			a.Command = &kept
		}},
	{Name: "alertmanager", Label: "Alertmanager", Fields: []alertField{
		{Key: "alertmanager.url", Label: "Alertmanager URL"},
	}, show: func(a *config.Alert, v map[string]string) {
		v["alertmanager.url"] = a.Alertmanager.URL
	}, read: func(p *alertPost, a *config.Alert) {
		a.Alertmanager = &config.Alertmanager{URL: p.get("alertmanager.url")}
	}},
	{Name: "pagerduty", Label: "PagerDuty", Fields: []alertField{
		{Key: "pagerduty.routing_key", Label: "Routing key", Sealed: "pagerduty.routing_key"},
		{Key: "pagerduty.url", Label: "Events URL"},
	}, show: func(a *config.Alert, v map[string]string) {
		v["pagerduty.url"] = a.PagerDuty.URL
	}, read: func(p *alertPost, a *config.Alert) {
		a.PagerDuty = &config.PagerDuty{RoutingKey: config.SecretRef{Value: p.get("pagerduty.routing_key")}, URL: p.get("pagerduty.url")}
	}},
	{Name: "opsgenie", Label: "Opsgenie", Fields: []alertField{
		{Key: "opsgenie.api_key", Label: "API key", Sealed: "opsgenie.api_key"},
		{Key: "opsgenie.url", Label: "API URL"},
	}, show: func(a *config.Alert, v map[string]string) {
		v["opsgenie.url"] = a.Opsgenie.URL
	}, read: func(p *alertPost, a *config.Alert) {
		a.Opsgenie = &config.Opsgenie{APIKey: config.SecretRef{Value: p.get("opsgenie.api_key")}, URL: p.get("opsgenie.url")}
	}},
	{Name: "url", Label: "A service by URL", Fields: []alertField{
		{Key: "url", Label: "Service URL", Sealed: "url"},
	}, show: func(*config.Alert, map[string]string) {}, read: func(p *alertPost, a *config.Alert) {
		a.URL = config.SecretRef{Value: p.get("url")}
	}, keep: func(_ *alertPost, a, base *config.Alert) {
		if !a.URL.Set() { // left empty on an edit: the stored URL (and its service) stays
			a.Service = base.Service
		}
	}},
}

func check(b bool) string {
	if b {
		return "on"
	}
	return ""
}

// webhookTemplate is the format a templated webhook shows as: its body,
// a template, replaces the formats' payloads.
const webhookTemplate = "template"

func alertKindNamed(name string) *alertKind {
	for i := range alertKinds {
		if alertKinds[i].Name == name {
			return &alertKinds[i]
		}
	}
	return nil
}

// alertLabels are the form's labels by field key (set once, from
// alertKinds, which reads them: hence init).
var alertLabels map[string]string

func init() {
	alertLabels = map[string]string{"name": "Name", "kind": "Kind", "escalate.after": "Escalate after", "escalate.to": "Escalate to alerts",
		"schedule.days": "Notify only on days", "schedule.from": "From", "schedule.to": "To", "schedule.zone": "Time zone",
		"schedule.outside": "Raised outside these hours"}
	for _, k := range alertKinds {
		for _, f := range k.Fields {
			alertLabels[f.Key] = f.Label
		}
	}
}

func alertLabel(k string) string {
	if l := alertLabels[k]; l != "" {
		return l
	}
	return k
}

// alertFieldKey is the form field a settings' path (or a secret's name)
// is shown beside: "" for none (the error box above the form).
func alertFieldKey(p string) string {
	if strings.HasPrefix(p, config.HeaderSecret) || p == "webhook.headers" {
		return "webhook.headers"
	}
	for k := range alertLabels {
		if p == k || strings.HasPrefix(p, k+".") || strings.HasPrefix(p, k+"[") {
			return k
		}
	}
	for _, k := range alertKinds {
		for _, f := range k.Fields {
			if f.Sealed == p {
				return f.Key
			}
		}
	}
	if p == "email.relay.password" {
		return "relay_password"
	}
	return ""
}

// alertErrors shows the catalog's field errors in the form's words: each
// beside its field, led by the field's label; the header's name for a
// header.
func alertErrors(fe []config.FieldError, editing bool) map[string]string {
	out := map[string]string{}
	for _, e := range fe {
		k := alertFieldKey(e.Path)
		msg := e.Msg
		switch {
		case k == "":
			msg = e.Path + ": " + msg
		case e.Msg == "is required" && alertSealed(e.Path) && editing:
			msg = alertLabel(k) + ": is required: the change sends it elsewhere, so the stored one is not kept (type it again)"
		case strings.HasPrefix(e.Path, config.HeaderSecret):
			msg = "header " + strconv.Quote(strings.TrimPrefix(e.Path, config.HeaderSecret)) + ": " + msg
			if e.Msg == "is required" {
				msg += " (a new or renamed header needs its value)"
			}
		default:
			msg = alertLabel(k) + ": " + msg
		}
		if out[k] != "" {
			out[k] += "; "
		}
		out[k] += msg
	}
	return out
}

// alertSealed says whether p names a write-only field's secret.
func alertSealed(p string) bool {
	for _, k := range alertKinds {
		for _, f := range k.Fields {
			if f.Sealed == p {
				return true
			}
		}
	}
	return false
}

// headerRow is a webhook header in the form: its name, whether its value
// is stored (shown as "set"). Values are write-only.
type headerRow struct {
	Name string
	Set  bool
}

// blankHeaders is how many empty header rows the form offers for new
// headers.
const blankHeaders = 2

// headerRows are the form's header rows: the stored headers' names, then
// blank ones.
func headerRows(secrets map[string]string, posted []string) []headerRow {
	var rows []headerRow
	if posted != nil { // a refused post shows what was sent
		for _, n := range posted {
			if n = strings.TrimSpace(n); n != "" {
				rows = append(rows, headerRow{Name: n, Set: secrets[config.HeaderSecret+n] != ""})
			}
		}
	} else {
		for name := range secrets {
			if h, ok := strings.CutPrefix(name, config.HeaderSecret); ok {
				rows = append(rows, headerRow{Name: h, Set: true})
			}
		}
		slices.SortFunc(rows, func(a, b headerRow) int { return strings.Compare(a.Name, b.Name) })
	}
	for range blankHeaders {
		rows = append(rows, headerRow{})
	}
	return rows
}

// headers reads the posted header rows (webhook.headers.name/.value,
// parallel; webhook.headers.remove names the stored ones to delete). A
// value left empty keeps the stored one. A form that sent rows gives the
// whole list: none left clears the stored headers.
func (p *alertPost) headers() config.SecretHeaders {
	names, ok := p.form["webhook.headers.name"]
	if !ok {
		return nil // not the form's list: the stored headers stay
	}
	values, was := p.form["webhook.headers.value"], p.form["webhook.headers.was"]
	remove := map[string]bool{}
	for _, n := range p.form["webhook.headers.remove"] {
		remove[n] = true
	}
	out := config.SecretHeaders{}
	for i, n := range names {
		n = strings.TrimSpace(n)
		v, w := at(values, i), strings.TrimSpace(at(was, i))
		switch {
		case remove[w] && w != "":
			continue
		case n == "" && w != "":
			p.fail("webhook.headers", "the name of header "+strconv.Quote(w)+" is empty: tick remove to delete the header")
		case n == "" && v != "":
			p.fail("webhook.headers", "a header value has no name: give its name (like Authorization)")
		case n == "":
		default:
			if _, dup := out[n]; dup {
				p.fail("webhook.headers", "header "+strconv.Quote(n)+" is given twice")
			}
			out[n] = config.SecretRef{Value: v}
		}
	}
	if len(out) == 0 {
		p.clearHeaders = true
		return nil
	}
	return out
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
