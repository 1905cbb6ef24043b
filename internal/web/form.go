package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/store"
)

// pickerKinds are the monitor types in the order of the type picker: the
// mail services, then the round trips, then the dependencies (tcp, ping).
func pickerKinds() []probe.Kind {
	group := func(k probe.Kind) int {
		switch {
		case k.RoundTrip:
			return 1
		case !k.LogsIn:
			return 2
		}
		return 0
	}
	ks := kinds.All()
	slices.SortStableFunc(ks, func(a, b probe.Kind) int { return group(a) - group(b) })
	return ks
}

type option struct {
	Value, Label string
	Checked      bool
}

// formData is the Add/Edit Monitor form: values by field (the API's field
// paths, so a server error lands beside its field), errors by field.
type formData struct {
	ID           int64
	Device       store.Device
	Type, Title  string
	Kind         probe.Kind
	MailboxTitle string // a round trip's: the protocol it reads the mailbox with
	V            map[string]string
	Errors       map[string]string
	Secrets      map[string]bool // set already
	Alerts       []option
	Deps         []option
	TLSModes     []string
	AuthMechs    []string       // for the protocol it logs in with ("": auto)
	SMTPMechs    []string       // for a round trip's SMTP leg
	DefaultPorts map[string]int // by TLS mode, for the port's placeholder
	PortsAttr    string         // the same for the script: "none:25 implicit:465 …"
	PortHelp     string
	Defaults     map[string]string
	RoundTrip    bool
	Bare         bool // a type that does not log in (tcp, ping): no login, no TLS settings
	Action       string
	// RO are the stored monitor's commands and paths, shown read-only
	// (operator.go), by field path.
	RO map[string]string
	// base is the stored monitor being edited: settings the form does not
	// show or shows read-only (commands and paths, stale_after,
	// mailbox_check) are kept from it.
	base *config.Monitor
}

// formFields are the fields the form shows; an error of another field is
// shown at the top.
var formFields = []string{"name", "enabled", "store_stats", "port", "tls", "user", "password", "auth", "servername",
	"insecure_skip_verify", "allow_plaintext_auth", "cert_warn_days", "ehlo", "mailbox", "stat", "expect",
	"domain", "resolver", "zones", "dqs_key", "selectors", "ips",
	"smtp.host", "smtp.port", "smtp.tls", "smtp.user", "smtp.password", "smtp.auth", "smtp.servername",
	"smtp.insecure_skip_verify", "smtp.allow_plaintext_auth", "from", "to", "poll_interval",
	"auth_results", "auth_results_id", "auth_results_methods",
	"timing.max_duration", "timing.up_every", "timing.down_every", "timing.lost_every", "timing.warn_rtt",
	"notify.failures_per_alert", "notify.max_alerts", "alerts", "maintenance", "depends_on"}

// monitorField is the form field of an error's path; "" (the box at the
// top, with the path) for the others, such as the read-only commands and
// paths.
func monitorField(p string) string {
	for _, list := range []string{"maintenance", "depends_on", "notify.alerts"} {
		if p == list || strings.HasPrefix(p, list+"[") {
			if list == "notify.alerts" {
				return "alerts"
			}
			return list
		}
	}
	if p == "address" || p == "host" {
		return ""
	}
	if slices.Contains(formFields, p) || slices.Contains(oauthFormFields(), p) {
		return p
	}
	return ""
}

func (s *Server) newFormData(ctx context.Context, dev *store.Device, typ string, id int64) (*formData, error) {
	k, ok := kinds.Lookup(typ)
	f := &formData{ID: id, Device: *dev, Type: typ, Title: typ, Kind: k, V: map[string]string{}, Errors: map[string]string{},
		Secrets: map[string]bool{}, AuthMechs: append([]string{""}, probe.AuthChoices(k.Protocol)...), SMTPMechs: append([]string{""}, probe.AuthChoices("smtp")...),
		RoundTrip: k.RoundTrip, Bare: !k.LogsIn, DefaultPorts: map[string]int{}}
	if ok {
		f.Title = k.Title
	}
	if mb, ok := kinds.Lookup(k.Protocol); ok && k.RoundTrip {
		f.MailboxTitle = mb.Title // the type of its protocol's name: "POP3"
	}
	for _, m := range probe.TLSModes() {
		f.TLSModes = append(f.TLSModes, string(m))
		f.DefaultPorts[string(m)] = k.Port(m)
		f.PortsAttr += fmt.Sprintf("%s:%d ", m, k.Port(m))
	}
	f.PortHelp = "empty: the default port of the protocol and TLS mode"
	if k.HasPort && k.Ports == (probe.Ports{}) {
		f.PortHelp = "required"
	}
	def := config.Monitor{Type: typ}
	def.ApplyDefaults()
	f.Defaults = map[string]string{
		"timing.max_duration": def.Timing.MaxDuration.Short(), "timing.up_every": def.Timing.UpEvery.Short(),
		"timing.down_every": def.Timing.DownEvery.Short(), "timing.lost_every": def.Timing.LostEvery.Short(),
		"notify.failures_per_alert": strconv.Itoa(def.Notify.FailuresPerAlert), "notify.max_alerts": strconv.Itoa(def.Notify.MaxAlerts),
		"cert_warn_days": strconv.Itoa(probe.DefaultCertWarnDays),
	}
	if id == 0 {
		f.Action = fmt.Sprintf("/devices/%d/monitors/new?type=%s", dev.ID, url.QueryEscape(typ))
	} else {
		f.Action = fmt.Sprintf("/monitors/%d/edit", id)
	}
	as, _, err := s.Store.Alerts(ctx, store.Page{Limit: 1000})
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		f.Alerts = append(f.Alerts, option{Value: strconv.FormatInt(a.ID, 10), Label: a.Name + " (" + a.Kind + ")"})
	}
	ms, _, err := s.Store.Monitors(ctx, store.MonitorFilter{DeviceID: dev.ID, Page: store.Page{Limit: 1000}})
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.ID != id {
			f.Deps = append(f.Deps, option{Value: m.Name, Label: m.Name})
		}
	}
	return f, nil
}

// FieldErrs says whether an error stands beside a field (the others are in
// the box at the top).
func (f *formData) FieldErrs() bool {
	for k := range f.Errors {
		if k != "" {
			return true
		}
	}
	return false
}

// fill shows a monitor's settings in the form.
func (f *formData) fill(m config.Monitor, enabled bool, alerts []int64) {
	v := f.V
	set := func(k, x string) {
		if x != "" && x != "0" && x != "0s" {
			v[k] = x
		}
	}
	b := func(k string, x bool) {
		if x {
			v[k] = "on"
		}
	}
	set("name", m.Name)
	b("enabled", enabled)
	b("store_stats", m.StoreStats == nil || *m.StoreStats)
	set("port", strconv.Itoa(m.Port))
	set("tls", m.TLS)
	set("user", m.User)
	set("auth", m.Auth)
	set("servername", m.ServerName)
	b("insecure_skip_verify", m.Insecure)
	b("allow_plaintext_auth", m.AllowPlaintext)
	set("cert_warn_days", strconv.Itoa(m.CertWarnDays))
	set("ehlo", m.EHLO)
	set("mailbox", m.Mailbox)
	b("stat", m.Stat)
	set("expect", m.Expect)
	set("domain", m.Domain)
	set("resolver", m.Resolver)
	set("zones", strings.Join(m.Zones, ", "))
	set("selectors", strings.Join(m.Selectors, ", "))
	set("ips", strings.Join(m.IPs, ", "))
	if m.SMTP != nil {
		set("smtp.host", m.SMTP.Host)
		set("smtp.port", strconv.Itoa(m.SMTP.Port))
		set("smtp.tls", m.SMTP.TLS)
		set("smtp.user", m.SMTP.User)
		set("smtp.auth", m.SMTP.Auth)
		set("smtp.servername", m.SMTP.ServerName)
		b("smtp.insecure_skip_verify", m.SMTP.InsecureSkipVerify)
		b("smtp.allow_plaintext_auth", m.SMTP.AllowPlaintextAuth)
		f.fillOAuth("smtp.", m.SMTP.OAuth)
	}
	f.fillOAuth("", m.OAuth)
	set("from", m.From)
	set("to", m.To)
	set("poll_interval", m.PollInterval.Short())
	set("auth_results", m.AuthResults)
	set("auth_results_id", m.AuthResultsID)
	set("auth_results_methods", strings.Join(m.AuthResultsMethods, ", "))
	set("timing.max_duration", m.Timing.MaxDuration.Short())
	set("timing.up_every", m.Timing.UpEvery.Short())
	set("timing.down_every", m.Timing.DownEvery.Short())
	set("timing.lost_every", m.Timing.LostEvery.Short())
	set("timing.warn_rtt", m.Timing.WarnRTT.Short())
	set("notify.failures_per_alert", strconv.Itoa(m.Notify.FailuresPerAlert))
	set("notify.max_alerts", strconv.Itoa(m.Notify.MaxAlerts))
	set("maintenance", windowsText(m.Maintenance))
	for i := range f.Deps {
		f.Deps[i].Checked = slices.Contains(m.DependsOn, f.Deps[i].Value)
	}
	for i := range f.Alerts {
		id, _ := strconv.ParseInt(f.Alerts[i].Value, 10, 64)
		f.Alerts[i].Checked = slices.Contains(alerts, id)
	}
}

// parse reads the posted form into the monitor's settings; values that
// are not even numbers or durations are field errors at once, the rest is
// left to the API's validation.
func (f *formData) parse(r *http.Request) (catalog.Monitor, bool) {
	r.ParseForm()
	in := catalog.Monitor{Device: f.Device.ID}
	if f.base != nil {
		in.Settings = *f.base
		in.Settings.Notify.Alerts = nil // assigned by id below
	}
	m := &in.Settings
	m.Type = f.Type
	get := func(k string) string {
		x := strings.TrimSpace(r.PostForm.Get(k))
		if x != "" {
			f.V[k] = x
		}
		return x
	}
	ok := true
	num := func(k string) int {
		x := get(k)
		if x == "" {
			return 0
		}
		n, err := strconv.Atoi(x)
		if err != nil {
			f.Errors[k], ok = "is a whole number", false
		}
		return n
	}
	dur := func(k string) config.Duration {
		x := get(k)
		if x == "" {
			return 0
		}
		d, err := time.ParseDuration(x)
		if err != nil {
			f.Errors[k], ok = fmt.Sprintf("%q is not a duration (like 30s, 5m, 1h)", x), false
		}
		return config.Duration(d)
	}
	flag := func(k string) bool { return get(k) == "on" }
	m.Name = get("name")
	en := flag("enabled")
	m.Enabled = &en
	ss := flag("store_stats")
	m.StoreStats = &ss
	m.Port = num("port")
	m.TLS = get("tls")
	m.User = get("user")
	m.Auth = get("auth")
	m.ServerName = get("servername")
	m.Insecure = flag("insecure_skip_verify")
	m.AllowPlaintext = flag("allow_plaintext_auth")
	m.CertWarnDays = num("cert_warn_days")
	m.EHLO = get("ehlo")
	m.Mailbox = get("mailbox")
	m.Stat = flag("stat")
	m.Expect = get("expect")
	m.Domain = get("domain")
	m.Resolver = get("resolver")
	m.Zones, m.Selectors, m.IPs = probe.SplitList(get("zones")), probe.SplitList(get("selectors")), probe.SplitList(get("ips"))
	m.OAuth = readOAuth("", get)
	baseSMTP := m.SMTP
	m.SMTP = nil
	if f.RoundTrip && graphWithoutSMTP(f, r.PostForm) {
		m.From, m.To = get("from"), get("to")
		m.PollInterval = dur("poll_interval")
	} else if f.RoundTrip {
		m.SMTP = &config.Leg{Host: get("smtp.host"), Port: num("smtp.port"), TLS: get("smtp.tls"), User: get("smtp.user"), Auth: get("smtp.auth"),
			ServerName: get("smtp.servername"), InsecureSkipVerify: flag("smtp.insecure_skip_verify"),
			AllowPlaintextAuth: flag("smtp.allow_plaintext_auth"), OAuth: readOAuth("smtp.", get)}
		if baseSMTP != nil {
			m.SMTP.CA = baseSMTP.CA // the operator's (operator.go)
		}
		m.From, m.To = get("from"), get("to")
		m.PollInterval = dur("poll_interval")
	}
	if f.RoundTrip {
		m.AuthResults, m.AuthResultsID = get("auth_results"), get("auth_results_id")
		m.AuthResultsMethods = probe.SplitList(get("auth_results_methods"))
	}
	m.Timing = config.Timing{MaxDuration: dur("timing.max_duration"), UpEvery: dur("timing.up_every"), DownEvery: dur("timing.down_every"),
		LostEvery: dur("timing.lost_every"), WarnRTT: dur("timing.warn_rtt")}
	m.Notify = config.Notify{FailuresPerAlert: num("notify.failures_per_alert"), MaxAlerts: num("notify.max_alerts")}
	m.DependsOn = nil
	var bad string
	if m.Maintenance, bad = parseWindows(get("maintenance")); bad != "" {
		f.Errors["maintenance"], ok = bad, false
	}
	for i := range f.Deps {
		f.Deps[i].Checked = slices.Contains(r.PostForm["depends_on"], f.Deps[i].Value)
		if f.Deps[i].Checked {
			m.DependsOn = append(m.DependsOn, f.Deps[i].Value)
		}
	}
	in.Alerts = []int64{}
	for i := range f.Alerts {
		f.Alerts[i].Checked = slices.Contains(r.PostForm["alerts"], f.Alerts[i].Value)
		if f.Alerts[i].Checked {
			id, _ := strconv.ParseInt(f.Alerts[i].Value, 10, 64)
			in.Alerts = append(in.Alerts, id)
		}
	}
	// Secrets: empty keeps the stored one, "clear" removes it.
	secret := func(k string) *string {
		v := r.PostForm.Get(k) // not trimmed: a password may end in a space
		switch {
		case v != "":
			return &v
		case r.PostForm.Get(k+".clear") == "on":
			empty := ""
			return &empty
		}
		return nil
	}
	in.Password = secret("password")
	if f.Kind.Shows("zones") { // dnsbl
		in.DQSKey = secret(config.SecretDQSKey)
	}
	readOAuthSecrets(&in, f.RoundTrip, secret)
	if f.RoundTrip {
		in.SMTPPassword = secret("smtp.password")
	}
	return in, ok
}

func (s *Server) newMonitor(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	dev, err := s.Store.Device(r.Context(), id)
	if err != nil {
		return err
	}
	typ := r.URL.Query().Get("type")
	if _, ok := kinds.Lookup(typ); !ok {
		s.render(w, c, http.StatusOK, "typepick", "Add New Monitor", map[string]any{"Device": dev, "Types": pickerKinds()})
		return nil
	}
	f, err := s.newFormData(r.Context(), dev, typ, 0)
	if err != nil {
		return err
	}
	f.V["enabled"], f.V["store_stats"] = "on", "on"
	if f.Kind.Shows("mailbox") {
		f.V["mailbox"] = "INBOX"
	}
	// Credentials go over TLS unless the operator says otherwise.
	if !f.Bare {
		f.V["tls"] = string(probe.TLSStartTLS)
	}
	if f.RoundTrip {
		f.V["smtp.tls"] = string(probe.TLSStartTLS)
	}
	s.render(w, c, http.StatusOK, "monitorform", "Add "+f.Title+" monitor", f)
	return nil
}

func (s *Server) createMonitor(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	dev, err := s.Store.Device(r.Context(), id)
	if err != nil {
		return err
	}
	typ := r.URL.Query().Get("type")
	if _, ok := kinds.Lookup(typ); !ok {
		return httpError{http.StatusBadRequest, "pick a monitor type"}
	}
	f, err := s.newFormData(r.Context(), dev, typ, 0)
	if err != nil {
		return err
	}
	return s.saveForm(w, r, c, f)
}

func (s *Server) saveForm(w http.ResponseWriter, r *http.Request, c *call, f *formData) error {
	in, ok := f.parse(r)
	status := http.StatusBadRequest
	stored := f.base
	if stored == nil {
		stored = &config.Monitor{}
	}
	if fe := postedOperatorFields(r.PostForm, stored); len(fe) > 0 {
		ok, status = false, http.StatusForbidden
		f.Errors[""] = fieldMap(fe, monitorField)[""]
	}
	if ok {
		m, dropped, err := s.saveMonitor(r.Context(), c.origin, f.ID, in)
		if catalog.IsOperatorOnly(err) {
			status = http.StatusForbidden
		}
		if fe, isFE := catalog.Fields(err); isFE {
			for k, v := range fieldMap(fe, monitorField) {
				f.Errors[k] = v
			}
			nameOAuthErrors(f.Errors)
		} else if err != nil {
			return err
		} else {
			http.Redirect(w, r, fmt.Sprintf("/monitors/%d", m.ID)+droppedQuery(dropped), http.StatusSeeOther)
			return nil
		}
	}
	title := "Add " + f.Title + " monitor"
	if f.ID != 0 {
		title = "Edit " + f.V["name"]
	}
	s.render(w, c, status, "monitorform", title, f)
	return nil
}

func (s *Server) loadMonitor(ctx context.Context, r *http.Request) (*store.Monitor, *store.Device, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.Store.Monitor(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	dev, err := s.Store.Device(ctx, m.DeviceID)
	if err != nil {
		return nil, nil, err
	}
	return m, dev, nil
}

func (s *Server) editForm(ctx context.Context, m *store.Monitor, dev *store.Device) (*formData, error) {
	f, err := s.newFormData(ctx, dev, m.Type, m.ID)
	if err != nil {
		return nil, err
	}
	for k := range m.Secrets {
		f.Secrets[k] = true // that it is set; never its value
	}
	var spec config.Monitor
	if err := json.Unmarshal(m.Spec, &spec); err != nil {
		return nil, err
	}
	spec.Name = m.Name
	f.base = &spec
	f.RO = operatorTexts(&spec)
	return f, nil
}

func (s *Server) editMonitor(w http.ResponseWriter, r *http.Request, c *call) error {
	m, dev, err := s.loadMonitor(r.Context(), r)
	if err != nil {
		return err
	}
	f, err := s.editForm(r.Context(), m, dev)
	if err != nil {
		return err
	}
	alerts, err := s.Store.MonitorAlerts(r.Context(), m.ID)
	if err != nil {
		return err
	}
	f.fill(*f.base, m.Enabled, alerts)
	s.render(w, c, http.StatusOK, "monitorform", "Edit "+m.Name, f)
	return nil
}

func (s *Server) updateMonitor(w http.ResponseWriter, r *http.Request, c *call) error {
	m, dev, err := s.loadMonitor(r.Context(), r)
	if err != nil {
		return err
	}
	f, err := s.editForm(r.Context(), m, dev)
	if err != nil {
		return err
	}
	return s.saveForm(w, r, c, f)
}

func (s *Server) deleteMonitor(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := s.loadMonitor(r.Context(), r)
	if err != nil {
		return err
	}
	res, err := s.Catalog.DeleteMonitor(r.Context(), c.origin, m.ID)
	if err != nil {
		return err
	}
	s.tell(r.Context(), res) // the monitor is gone: its tests stop however the reload fares
	http.Redirect(w, r, fmt.Sprintf("/devices/%d", m.DeviceID), http.StatusSeeOther)
	return nil
}

// testMonitor runs a test now: a form posts it and comes back to the
// monitor's page; the script asks for JSON.
func (s *Server) testMonitor(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := s.loadMonitor(r.Context(), r)
	if err != nil {
		return err
	}
	if s.Engine == nil {
		return httpError{http.StatusServiceUnavailable, "the scheduler is not running"}
	}
	res, err := s.Engine.TestNow(r.Context(), m.ID)
	if err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		out := map[string]string{"status": string(res.Status), "rtt": fmtMS(res.RTT)}
		if res.Error != nil {
			out["code"], out["message"] = string(res.Error.Code), res.Error.Message
		}
		return json.NewEncoder(w).Encode(out)
	}
	http.Redirect(w, r, fmt.Sprintf("/monitors/%d", m.ID), http.StatusSeeOther)
	return nil
}
