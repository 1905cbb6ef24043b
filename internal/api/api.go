// Package api is mailmon's JSON API under /api/v1 (docs/api.md). Every
// route but /healthz and /readyz needs a bearer token; secrets are
// write-only: a response says a secret is set, never what it is.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/metrics"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/report"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Server serves the API.
type Server struct {
	Store  store.Store
	Engine *engine.Engine
	Vault  *vault.Vault
	Log    *slog.Logger

	// Location is this node's location label on /metrics (several nodes
	// sharing a database); empty for one node.
	Location string
	// MetricsRenderAhead answers steady scrapers of /metrics from a render
	// made shortly before their scrape (metrics.Options.RenderAhead).
	MetricsRenderAhead bool
	// ProbeMaxTimeout caps a /probe test's budget (default 60 s);
	// ProbeMaxInFlight caps the /probe tests running at once (default 16).
	ProbeMaxTimeout  time.Duration
	ProbeMaxInFlight int

	// Egress is where targets set through the API and /probe may lead
	// (nil: egress.Default()), Resolver the resolver its checks use (nil:
	// the system's), Timing serve's limits on a monitor's timing
	// (catalog/limits.go).
	Egress   *egress.Policy
	Resolver *net.Resolver
	Timing   config.TimingLimits

	// Catalog is where saves go (nil: one made of Store, Vault, Egress,
	// Resolver and Timing, which a given one must hold too); serve gives
	// the API and the web UI the same.
	Catalog *catalog.Catalog

	catalogOnce    sync.Once
	metricsOnce    sync.Once
	metricsHandler http.Handler
	tokens         tokenCache
	probeOnce      sync.Once
	probeSem       chan struct{}
}

// Route is one route of the API.
type Route struct {
	Method, Path string
	Public       bool // needs no token
	// Scope is the scope a token needs for it (access.go).
	Scope   catalog.Scope
	handler func(w http.ResponseWriter, r *http.Request) error
}

// Routes lists every route: the router is built from it, and the tests
// enumerate it to check that each refuses a missing or wrong token.
func (s *Server) Routes() []Route {
	return []Route{
		{Method: "GET", Path: "/healthz", Public: true, handler: s.healthz},
		{Method: "GET", Path: "/readyz", Public: true, handler: s.readyz},
		{Method: "GET", Path: "/api/v1/openapi.yaml", Scope: catalog.ScopeRead, handler: s.openAPI},
		{Method: "GET", Path: "/api/v1/devices", Scope: catalog.ScopeRead, handler: s.listDevices},
		{Method: "POST", Path: "/api/v1/devices", Scope: catalog.ScopeWrite, handler: s.createDevice},
		{Method: "GET", Path: "/api/v1/devices/{id}", Scope: catalog.ScopeRead, handler: s.getDevice},
		{Method: "PUT", Path: "/api/v1/devices/{id}", Scope: catalog.ScopeWrite, handler: s.updateDevice},
		{Method: "DELETE", Path: "/api/v1/devices/{id}", Scope: catalog.ScopeWrite, handler: s.deleteDevice},
		{Method: "POST", Path: "/api/v1/devices/{id}/maintenance", Scope: catalog.ScopeWrite, handler: s.beginMaintenance(true)},
		{Method: "DELETE", Path: "/api/v1/devices/{id}/maintenance", Scope: catalog.ScopeWrite, handler: s.endMaintenance(true)},
		{Method: "GET", Path: "/api/v1/monitors", Scope: catalog.ScopeRead, handler: s.listMonitors},
		{Method: "POST", Path: "/api/v1/monitors", Scope: catalog.ScopeWrite, handler: s.createMonitor},
		{Method: "GET", Path: "/api/v1/monitors/{id}", Scope: catalog.ScopeRead, handler: s.getMonitor},
		{Method: "PUT", Path: "/api/v1/monitors/{id}", Scope: catalog.ScopeWrite, handler: s.updateMonitor},
		{Method: "DELETE", Path: "/api/v1/monitors/{id}", Scope: catalog.ScopeWrite, handler: s.deleteMonitor},
		{Method: "GET", Path: "/api/v1/monitors/{id}/results", Scope: catalog.ScopeRead, handler: s.monitorResults},
		{Method: "GET", Path: "/api/v1/monitors/{id}/state-changes", Scope: catalog.ScopeRead, handler: s.monitorChanges},
		{Method: "GET", Path: "/api/v1/monitors/{id}/alert-log", Scope: catalog.ScopeRead, handler: s.monitorAlertLog},
		{Method: "GET", Path: "/api/v1/monitors/{id}/recovery-log", Scope: catalog.ScopeRead, handler: s.monitorRecoveryLog},
		{Method: "POST", Path: "/api/v1/monitors/{id}/test", Scope: catalog.ScopeProbe, handler: s.testMonitor},
		{Method: "POST", Path: "/api/v1/monitors/{id}/ack", Scope: catalog.ScopeWrite, handler: s.ackMonitor},
		{Method: "POST", Path: "/api/v1/monitors/{id}/maintenance", Scope: catalog.ScopeWrite, handler: s.beginMaintenance(false)},
		{Method: "DELETE", Path: "/api/v1/monitors/{id}/maintenance", Scope: catalog.ScopeWrite, handler: s.endMaintenance(false)},
		{Method: "GET", Path: "/api/v1/alerts", Scope: catalog.ScopeRead, handler: s.listAlerts},
		{Method: "POST", Path: "/api/v1/alerts", Scope: catalog.ScopeWrite, handler: s.createAlert},
		{Method: "GET", Path: "/api/v1/alerts/{id}", Scope: catalog.ScopeRead, handler: s.getAlert},
		{Method: "PUT", Path: "/api/v1/alerts/{id}", Scope: catalog.ScopeWrite, handler: s.updateAlert},
		{Method: "DELETE", Path: "/api/v1/alerts/{id}", Scope: catalog.ScopeWrite, handler: s.deleteAlert},
		{Method: "POST", Path: "/api/v1/alerts/{id}/test", Scope: catalog.ScopeWrite, handler: s.testAlert},
		{Method: "GET", Path: "/api/v1/status-pages", Scope: catalog.ScopeRead, handler: s.listStatusPages},
		{Method: "DELETE", Path: "/api/v1/status-pages/{name}", Scope: catalog.ScopeWrite, handler: s.deleteStatusPage},
		{Method: "GET", Path: "/api/v1/credentials", Scope: catalog.ScopeRead, handler: s.listCredentials},
		{Method: "POST", Path: "/api/v1/credentials", Scope: catalog.ScopeWrite, handler: s.createCredential},
		{Method: "PUT", Path: "/api/v1/credentials/{id}", Scope: catalog.ScopeWrite, handler: s.updateCredential},
		{Method: "DELETE", Path: "/api/v1/credentials/{id}", Scope: catalog.ScopeWrite, handler: s.deleteCredential},
		{Method: "GET", Path: "/api/v1/reports", Scope: catalog.ScopeRead, handler: s.reports},
		{Method: "GET", Path: "/api/v1/status", Scope: catalog.ScopeRead, handler: s.status},
		{Method: "GET", Path: "/metrics", Scope: catalog.ScopeMetrics, handler: s.metrics},
		{Method: "GET", Path: "/probe", Scope: catalog.ScopeProbe, handler: s.probe},
		{Method: "GET", Path: "/api/v1/audit", Scope: catalog.ScopeRead, handler: s.audit},
	}
}

// Handler is the API's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		h := s.wrap(rt)
		mux.Handle(rt.Method+" "+rt.Path, h)
	}
	mux.Handle("/api/", s.wrap(Route{Path: "/api/", Scope: catalog.ScopeRead, handler: func(w http.ResponseWriter, r *http.Request) error {
		return httpError{http.StatusNotFound, "no such route"}
	}}))
	return mux
}

// catalog is where the API saves, as the network (catalog.Network).
func (s *Server) catalog() *catalog.Catalog {
	s.catalogOnce.Do(func() {
		if s.Catalog == nil {
			s.Catalog = &catalog.Catalog{Store: s.Store, Vault: s.Vault, Egress: s.Egress, Resolver: s.Resolver, Timing: s.Timing}
		}
	})
	return s.Catalog
}

// tell has the engine read again what a save changed.
func (s *Server) tell(ctx context.Context, res catalog.Result) error {
	if s.Engine == nil {
		return nil
	}
	return res.Tell(ctx, s.Engine)
}

type httpError struct {
	status int
	msg    string
}

func (e httpError) Error() string { return e.msg }

// fieldErrors is a 400 that names each bad field.
type fieldErrors = catalog.FieldErrors

func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.Public {
			tok, err := s.authenticate(r)
			if errors.Is(err, store.ErrUnavailable) {
				writeUnavailable(w) // not the token's fault: health.go
				return
			} else if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="mailmon"`)
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
				return
			}
			if rt.Scope == 0 || !tok.scopes.Has(rt.Scope) { // a route that names no scope is nobody's
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "this needs a token with the " + rt.Scope.String() + " scope; " +
					tok.name + " has " + scopesOr(tok.scopes)})
				return
			}
			r = withActor(r, catalog.Token(tok.name, tok.scopes, r.RemoteAddr))
		}
		if r.Body != http.NoBody { // a GET has none: nothing to limit
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		}
		if err := rt.handler(w, r); err != nil {
			s.writeError(w, rt, err)
		}
	})
}

// writeError answers a route's error. Apart from wrap, so that the
// targets of errors.As are made only when there is an error (they escape:
// four allocations a request).
func (s *Server) writeError(w http.ResponseWriter, rt Route, err error) {
	var he httpError
	var fe fieldErrors
	var oo catalog.OperatorOnly
	var fb catalog.Forbidden
	switch {
	case errors.As(err, &oo):
		writeOperatorOnly(w, oo)
	case errors.As(err, &fb):
		writeJSON(w, http.StatusForbidden, map[string]string{"error": fb.Msg})
	case errors.As(err, &fe):
		out := map[string]string{}
		for _, f := range fe {
			out[f.Path] = f.Msg
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid fields", "fields": out})
	case errors.As(err, &he):
		writeJSON(w, he.status, map[string]string{"error": he.msg})
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	case errors.Is(err, store.ErrConflict):
		writeJSON(w, http.StatusConflict, map[string]string{"error": "the name is taken"})
	case errors.Is(s.unavailable(err), store.ErrUnavailable):
		writeUnavailable(w)
	default:
		if s.Log != nil {
			s.Log.Error("api", "route", rt.Path, "err", err)
		}
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	}
}

// HashToken and NewToken are the catalog's (people.go): the web UI makes
// tokens too.
var (
	HashToken = catalog.HashToken
	NewToken  = catalog.NewToken
)

func (s *Server) authenticate(r *http.Request) (tokenEntry, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return tokenEntry{}, errors.New("a bearer token is required")
	}
	now := time.Now()
	e, ok, err := s.tokens.lookup(r.Context(), s.Store, catalog.TokenSum(tok), now)
	if err != nil {
		return e, s.unavailable(err)
	}
	if !ok {
		return e, errors.New("the token is not valid")
	}
	if !e.expires.IsZero() && !now.Before(e.expires) {
		return e, errors.New("the token expired: make another with mailmon token create")
	}
	return e, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpError{http.StatusBadRequest, "the id in the path is not a number"}
	}
	return id, nil
}

func page(r *http.Request) store.Page {
	l, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	o, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	if l <= 0 || l > 1000 {
		l = 100
	}
	return store.Page{Limit: l, Offset: max(o, 0)}
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if oo := secretFromFile(err); oo != nil {
			return oo
		}
		return httpError{http.StatusBadRequest, "the body is not valid JSON for this object: " + err.Error()}
	}
	return nil
}

// OpenAPI is the document of this API, checked in beside the code.
//
//go:embed openapi.yaml
var OpenAPI []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(OpenAPI)
	return nil
}

// ---- devices

type deviceJSON struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
	// Maintenance are the windows of every monitor of the device; a
	// body without them keeps the stored ones.
	Maintenance *[]config.Window `json:"maintenance,omitempty"`
}

// deviceOut is a stored device as the API shows it.
func deviceOut(d *store.Device) deviceJSON {
	ws := config.StoredWindows(d.Maintenance)
	if ws == nil {
		ws = []config.Window{}
	}
	return deviceJSON{d.ID, d.Name, d.Address, &ws}
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) error {
	ds, total, err := s.Store.Devices(r.Context(), page(r))
	if err != nil {
		return err
	}
	out := make([]deviceJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, deviceOut(&d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "total": total})
	return nil
}

func (s *Server) getDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.Store.Device(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deviceOut(d))
	return nil
}

func (s *Server) createDevice(w http.ResponseWriter, r *http.Request) error {
	return s.putDevice(w, r, 0, http.StatusCreated)
}

func (s *Server) updateDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.putDevice(w, r, id, http.StatusOK)
}

// putDevice creates (id 0) or replaces a device; its monitors, which test
// its address, read it again.
func (s *Server) putDevice(w http.ResponseWriter, r *http.Request, id int64, status int) error {
	var in deviceJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	d, res, err := s.catalog().SaveDevice(r.Context(), s.origin(r), id, catalog.Device{Name: in.Name, Address: in.Address, Maintenance: in.Maintenance})
	if err != nil {
		return err
	}
	if err := s.tell(r.Context(), res); err != nil {
		return err
	}
	var drops []MonitorDrop
	for _, x := range res.Dropped {
		drops = append(drops, MonitorDrop{Monitor: x.ID, Name: x.Name, Secrets: x.Secrets})
	}
	writeJSON(w, status, struct {
		deviceJSON
		SecretsDropped []MonitorDrop `json:"secrets_dropped,omitempty"`
	}{deviceOut(d), drops})
	return nil
}

// MonitorDrop names the secrets a device's address change dropped from
// one of its monitors.
type MonitorDrop struct {
	Monitor int64    `json:"monitor"`
	Name    string   `json:"name"`
	Secrets []string `json:"secrets"`
}

func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	res, err := s.catalog().DeleteDevice(r.Context(), s.origin(r), id)
	if err != nil {
		return err
	}
	s.tell(r.Context(), res) // the device is gone: its monitors stop however their reload fares
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- monitors

// monitorJSON is a monitor as the API shows it (docs/api.md).
type monitorJSON struct {
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	Device     int64           `json:"device"`
	DeviceName string          `json:"device_name,omitempty"`
	Type       string          `json:"type"`
	Enabled    bool            `json:"enabled"`
	State      state.State     `json:"state"`
	Since      *time.Time      `json:"since,omitempty"`
	LastResult *probe.Result   `json:"last_result,omitempty"`
	Settings   config.Monitor  `json:"settings"`
	Secrets    map[string]bool `json:"secrets"` // which are set; never their values
	Alerts     []int64         `json:"alerts"`
	// SecretsDropped names, in the answer to a save, the stored secrets
	// that its change of target removed (internal/secretbind).
	SecretsDropped []string `json:"secrets_dropped,omitempty"`
	// Ack is the acknowledgement of its current outage (ack.go).
	Ack *ackJSON `json:"ack,omitempty"`
	// Maintenance is the maintenance begun by hand that covers it, its
	// own or its device's (maintenance.go).
	Maintenance *maintenanceJSON `json:"maintenance,omitempty"`
	// Locations is, for a monitor tested from several locations (K-of-N),
	// the latest result of each: where they disagree shows here.
	Locations []locationJSON `json:"locations,omitempty"`
}

// locationJSON is one location's latest result of a K-of-N monitor; a
// location that does not count now (no live node there, no result fresh
// enough) says why in unknown, with the age of its latest result.
type locationJSON struct {
	Location string       `json:"location"`
	Node     string       `json:"node,omitempty"`
	Time     *time.Time   `json:"time,omitempty"`
	Status   probe.Status `json:"status,omitempty"`
	Code     probe.Code   `json:"code,omitempty"`
	AgeS     *float64     `json:"age_seconds,omitempty"`
	Unknown  string       `json:"unknown,omitempty"`
}

func (s *Server) monitorOut(ctx context.Context, m *store.Monitor) (monitorJSON, error) {
	out := monitorJSON{ID: m.ID, Name: m.Name, Device: m.DeviceID, Type: m.Type, Enabled: m.Enabled, State: state.Pending,
		Secrets: map[string]bool{}, Alerts: []int64{}}
	if err := json.Unmarshal(m.Spec, &out.Settings); err != nil {
		return out, err
	}
	out.Settings.Name, out.Settings.Type = m.Name, m.Type
	for name := range m.Secrets {
		out.Secrets[name] = true
	}
	if d, err := s.Store.Device(ctx, m.DeviceID); err == nil {
		out.DeviceName = d.Name
	}
	out.Maintenance = maintenanceOut(s.catalog().MaintenanceOf(ctx, m.ID, m.DeviceID, time.Now()))
	if st, err := s.Store.Status(ctx, m.ID); err == nil {
		out.State, out.LastResult = st.Status.State, st.LastResult
		out.Ack = ackOut(s.catalog().Ack(ctx, m.ID, st))
		if !st.Status.Since.IsZero() {
			since := st.Status.Since
			out.Since = &since
		}
	}
	if !m.Enabled {
		out.State = state.Disabled
	}
	if out.Settings.Locations != nil {
		locs, err := s.locations(ctx, m) // health.go
		if err != nil {
			return out, err
		}
		out.Locations = locs
	}
	ids, err := s.Store.MonitorAlerts(ctx, m.ID)
	if err != nil {
		return out, err
	}
	if ids != nil {
		out.Alerts = ids
	}
	out.Settings.Notify.Alerts, err = s.catalog().LinkedAlertNames(ctx, ids, out.Settings.Notify.Alerts) // catalog/notify.go
	return out, err
}

func (s *Server) listMonitors(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.MonitorFilter{Page: page(r), State: state.State(q.Get("state")), Type: q.Get("type")}
	if d := q.Get("device"); d != "" {
		id, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			return httpError{http.StatusBadRequest, "device is a device id"}
		}
		f.DeviceID = id
	}
	ms, total, err := s.Store.Monitors(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]monitorJSON, 0, len(ms))
	for i := range ms {
		mj, err := s.monitorOut(r.Context(), &ms[i])
		if err != nil {
			return err
		}
		out = append(out, mj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "total": total})
	return nil
}

func (s *Server) getMonitor(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	m, err := s.Store.Monitor(r.Context(), id)
	if err != nil {
		return err
	}
	out, err := s.monitorOut(r.Context(), m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// monitorIn is a monitor as the API takes it: the settings of the YAML,
// the device, and secrets given in the clear (write-only).
type monitorIn struct {
	Device       int64          `json:"device"`
	Settings     config.Monitor `json:"settings"`
	Password     *string        `json:"password,omitempty"`
	SMTPPassword *string        `json:"smtp_password,omitempty"`
	// The oauth block's secrets (settings.oauth), write-only too.
	OAuthClientSecret *string `json:"oauth_client_secret,omitempty"`
	OAuthRefreshToken *string `json:"oauth_refresh_token,omitempty"`
	DQSKey            *string `json:"dqs_key,omitempty"` // dnsbl: a Spamhaus DQS key
	// The SMTP leg's own oauth block's (settings.smtp.oauth).
	SMTPOAuthClientSecret *string `json:"smtp_oauth_client_secret,omitempty"`
	SMTPOAuthRefreshToken *string `json:"smtp_oauth_refresh_token,omitempty"`
	// A Google service account's JSON key (settings.oauth.subject).
	OAuthServiceAccountKey     *string `json:"oauth_service_account_key,omitempty"`
	SMTPOAuthServiceAccountKey *string `json:"smtp_oauth_service_account_key,omitempty"`
	Alerts                     []int64 `json:"alerts,omitempty"`
}

func (s *Server) createMonitor(w http.ResponseWriter, r *http.Request) error {
	return s.putMonitor(w, r, 0, http.StatusCreated)
}

func (s *Server) updateMonitor(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.putMonitor(w, r, id, http.StatusOK)
}

// putMonitor creates (id 0) or replaces a monitor from the request body.
func (s *Server) putMonitor(w http.ResponseWriter, r *http.Request, id int64, status int) error {
	var in monitorIn
	if err := decode(r, &in); err != nil {
		return err
	}
	m, res, err := s.catalog().SaveMonitor(r.Context(), s.origin(r), id, catalog.Monitor(in))
	if err != nil {
		return err
	}
	if err := s.tell(r.Context(), res); err != nil {
		return err
	}
	out, err := s.monitorOut(r.Context(), m)
	if err != nil {
		return err
	}
	out.SecretsDropped = res.DroppedFrom("monitor", m.ID)
	writeJSON(w, status, out)
	return nil
}

func (s *Server) deleteMonitor(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	res, err := s.catalog().DeleteMonitor(r.Context(), s.origin(r), id)
	if err != nil {
		return err
	}
	s.tell(r.Context(), res) // the monitor is gone: its tests stop however the reload fares
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) monitorResults(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Store.Monitor(r.Context(), id); err != nil {
		return err
	}
	to, from := time.Now().Add(time.Minute), time.Now().Add(-24*time.Hour)
	if v := r.URL.Query().Get("from"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return httpError{http.StatusBadRequest, "from is an RFC 3339 time"}
		}
		from = t
	}
	if v := r.URL.Query().Get("to"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return httpError{http.StatusBadRequest, "to is an RFC 3339 time"}
		}
		to = t
	}
	rs, err := s.Store.Results(r.Context(), id, from, to, page(r).Limit)
	if err != nil {
		return err
	}
	type resultJSON struct {
		Time       time.Time     `json:"time"`
		Status     probe.Status  `json:"status"`
		RTTMS      float64       `json:"rtt_ms"`
		DeliveryMS float64       `json:"delivery_ms,omitempty"`
		Code       probe.Code    `json:"code,omitempty"`
		Detail     *probe.Result `json:"detail,omitempty"`
		Node       string        `json:"node"`     // the node that ran the test
		Location   string        `json:"location"` // its --location
	}
	out := make([]resultJSON, 0, len(rs))
	for _, x := range rs {
		out = append(out, resultJSON{x.Time, x.Status, float64(x.RTT.Microseconds()) / 1e3, float64(x.Delivery.Microseconds()) / 1e3, x.Code, x.Detail,
			x.Node, x.Location})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) monitorChanges(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	cs, err := s.Store.StateChanges(r.Context(), id, page(r).Limit)
	if err != nil {
		return err
	}
	type changeJSON struct {
		Time  time.Time   `json:"time"`
		From  state.State `json:"from"`
		To    state.State `json:"to"`
		Cause string      `json:"cause"`
	}
	out := make([]changeJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, changeJSON{c.Time, c.From, c.To, c.Cause})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) monitorAlertLog(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ns, err := s.Store.Notifications(r.Context(), id, page(r).Limit)
	if err != nil {
		return err
	}
	type logJSON struct {
		ID        string          `json:"event_id"`
		Alert     int64           `json:"alert"`
		Kind      string          `json:"kind"`
		Status    string          `json:"status"`
		Attempts  int             `json:"attempts"`
		LastError string          `json:"last_error,omitempty"`
		Created   time.Time       `json:"created"`
		Payload   json.RawMessage `json:"payload"`
	}
	out := make([]logJSON, 0, len(ns))
	for _, n := range ns {
		out = append(out, logJSON{n.EventID, n.AlertID, n.Kind, n.Status, n.Attempts, n.LastError, n.Created, n.Payload})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) testMonitor(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if s.Engine == nil {
		return httpError{http.StatusServiceUnavailable, "the scheduler is not running"}
	}
	res, err := s.Engine.TestNow(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// alertJSON is an alert definition as the API shows it.
type alertJSON struct {
	ID       int64           `json:"id"`
	Name     string          `json:"name"`
	Kind     string          `json:"kind"`
	Settings json.RawMessage `json:"settings"`
	Secrets  map[string]bool `json:"secrets"` // which are set; never their values
	// WebhookOrigin is a webhook's scheme and host: its URL is a secret
	// (the path is what lets anyone post), but where it posts is not.
	WebhookOrigin string `json:"webhook_origin,omitempty"`
	// SecretsDropped: see monitorJSON.
	SecretsDropped []string `json:"secrets_dropped,omitempty"`
	// Health is how its deliveries from this node go (actionhealth.go).
	Health *actionHealthJSON `json:"health,omitempty"`
}

func (s *Server) alertOut(a *store.Alert) alertJSON {
	sec := map[string]bool{}
	for k := range a.Secrets {
		sec[k] = true
	}
	return alertJSON{ID: a.ID, Name: a.Name, Kind: a.Kind, Settings: a.Spec, Secrets: sec, WebhookOrigin: catalog.WebhookOrigin(s.Vault, a),
		Health: s.actionHealth(a.ID)}
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	as, total, err := s.Store.Alerts(r.Context(), page(r))
	if err != nil {
		return err
	}
	out := make([]alertJSON, 0, len(as))
	for i := range as {
		out = append(out, s.alertOut(&as[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "total": total})
	return nil
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a, err := s.Store.Alert(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.alertOut(a))
	return nil
}

// alertIn is an alert definition as the API takes it: the settings of the
// YAML (webhook, email or command) and the relay's password, write-only.
type alertIn struct {
	Settings      config.Alert `json:"settings"`
	RelayPassword *string      `json:"relay_password,omitempty"`
}

func (s *Server) createAlert(w http.ResponseWriter, r *http.Request) error {
	return s.putAlert(w, r, 0, http.StatusCreated)
}

func (s *Server) updateAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.putAlert(w, r, id, http.StatusOK)
}

func (s *Server) putAlert(w http.ResponseWriter, r *http.Request, id int64, status int) error {
	var in alertIn
	if err := decode(r, &in); err != nil {
		return err
	}
	a, res, err := s.catalog().SaveAlert(r.Context(), s.origin(r), id, catalog.Alert{Settings: in.Settings, RelayPassword: in.RelayPassword})
	if err != nil {
		return err
	}
	out := s.alertOut(a)
	out.SecretsDropped = res.DroppedFrom("alert", a.ID)
	writeJSON(w, status, out)
	return nil
}

func (s *Server) deleteAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.catalog().DeleteAlert(r.Context(), s.origin(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// credentialJSON is a credential as the API shows it: never its secrets.
type credentialJSON struct {
	ID        int64           `json:"id"`
	Name      string          `json:"name"`
	User      string          `json:"user"`
	KnownHost string          `json:"known_host"`
	Secrets   map[string]bool `json:"secrets"`
	// SecretsDropped: see monitorJSON.
	SecretsDropped []string `json:"secrets_dropped,omitempty"`
}

func credentialOut(c *store.Credential) (credentialJSON, error) {
	var cc config.Credential
	if err := json.Unmarshal(c.Spec, &cc); err != nil {
		return credentialJSON{}, err
	}
	sec := map[string]bool{}
	for k := range c.Secrets {
		sec[k] = true
	}
	return credentialJSON{ID: c.ID, Name: c.Name, User: cc.User, KnownHost: cc.KnownHost, Secrets: sec}, nil
}

func (s *Server) listCredentials(w http.ResponseWriter, r *http.Request) error {
	cs, total, err := s.Store.Credentials(r.Context(), page(r))
	if err != nil {
		return err
	}
	out := make([]credentialJSON, 0, len(cs))
	for i := range cs {
		c, err := credentialOut(&cs[i])
		if err != nil {
			return err
		}
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "total": total})
	return nil
}

// credentialIn is a credential as the API takes it; password and key
// (PEM) are write-only, and one of them is kept.
type credentialIn struct {
	Name      string  `json:"name"`
	User      string  `json:"user"`
	KnownHost string  `json:"known_host"`
	Password  *string `json:"password,omitempty"`
	Key       *string `json:"key,omitempty"`
}

func (s *Server) createCredential(w http.ResponseWriter, r *http.Request) error {
	return s.putCredential(w, r, 0, http.StatusCreated)
}

func (s *Server) updateCredential(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.putCredential(w, r, id, http.StatusOK)
}

func (s *Server) putCredential(w http.ResponseWriter, r *http.Request, id int64, status int) error {
	var in credentialIn
	if err := decode(r, &in); err != nil {
		return err
	}
	c, res, err := s.catalog().SaveCredential(r.Context(), s.origin(r), id, catalog.Credential(in))
	if err != nil {
		return err
	}
	if err := s.tell(r.Context(), res); err != nil { // the monitors that use it
		return err
	}
	out, err := credentialOut(c)
	if err != nil {
		return err
	}
	out.SecretsDropped = res.DroppedFrom("credential", c.ID)
	writeJSON(w, status, out)
	return nil
}

func (s *Server) deleteCredential(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	res, err := s.catalog().DeleteCredential(r.Context(), s.origin(r), id)
	if err != nil {
		return err
	}
	if err := s.tell(r.Context(), res); err != nil { // their recoveries over SSH now say it is missing
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// reports is availability, outages and response times per monitor and per
// device over a period (default: the last 24 hours), as JSON or CSV.
func (s *Server) reports(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	now := time.Now()
	from, to := now.Add(-24*time.Hour), now
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return fieldErrors{{Path: p.name, Msg: "is an RFC 3339 time"}}
			}
			*p.t = t
		}
	}
	if !to.After(from) {
		return fieldErrors{{Path: "to", Msg: "must be after from"}}
	}
	var device int64
	if v := q.Get("device"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fieldErrors{{Path: "device", Msg: "is a device id"}}
		}
		device = id
	}
	rep, err := report.Make(r.Context(), s.Store, device, from, to, now)
	if err != nil {
		return err
	}
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="mailmon-report.csv"`)
		return rep.CSV(w)
	}
	type rowJSON struct {
		report.Row
		OutageSeconds float64 `json:"outage_seconds"`
		RTTMinMS      float64 `json:"rtt_min_ms"`
		RTTAvgMS      float64 `json:"rtt_avg_ms"`
		RTTP95MS      float64 `json:"rtt_p95_ms"`
		RTTMaxMS      float64 `json:"rtt_max_ms"`
		DeliveryAvgMS float64 `json:"delivery_avg_ms"`
		DeliveryP95MS float64 `json:"delivery_p95_ms"`
	}
	msf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	conv := func(rows []report.Row) []rowJSON {
		out := make([]rowJSON, 0, len(rows))
		for _, x := range rows {
			out = append(out, rowJSON{x, x.OutageTime.Seconds(), msf(x.RTTMin), msf(x.RTTAvg), msf(x.RTTP95), msf(x.RTTMax), msf(x.DeliveryAvg), msf(x.DeliveryP95)})
		}
		return out
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": rep.From, "to": rep.To, "monitors": conv(rep.Monitors), "devices": conv(rep.Devices)})
	return nil
}

// status is the daemon's own health: the scheduler's lag and load.
func (s *Server) status(w http.ResponseWriter, r *http.Request) error {
	if s.Engine == nil {
		return httpError{http.StatusServiceUnavailable, "the scheduler is not running"}
	}
	st := s.Engine.Scheduler().Stats()
	msf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	writeJSON(w, http.StatusOK, map[string]any{
		"monitors": st.Monitors, "in_flight": st.InFlight, "tests_started": st.Started,
		"lag_p50_ms": msf(st.LagP50), "lag_p99_ms": msf(st.LagP99), "lag_max_ms": msf(st.LagMax),
		"goroutines": runtime.NumGoroutine(),
	})
	return nil
}

func (s *Server) monitorRecoveryLog(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	runs, err := s.Store.Recoveries(r.Context(), id, page(r).Limit)
	if err != nil {
		return err
	}
	type runJSON struct {
		Time       time.Time `json:"time"`
		Action     string    `json:"action"`
		Status     string    `json:"status"`
		ExitCode   int       `json:"exit_code"`
		Output     string    `json:"output"`
		DurationMS int64     `json:"duration_ms"`
	}
	out := make([]runJSON, 0, len(runs))
	for _, x := range runs {
		out = append(out, runJSON{x.Time, x.Action, x.Status, x.ExitCode, x.Output, x.Duration.Milliseconds()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// metrics is the Prometheus exposition (internal/metrics); like every route
// but /healthz it needs a token (Prometheus sends one with authorization:
// in its scrape config).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	if s.Engine == nil {
		return httpError{http.StatusServiceUnavailable, "the scheduler is not running"}
	}
	s.metricsOnce.Do(func() {
		s.metricsHandler = metrics.Handler(s.Engine, metrics.Options{Location: s.Location, RenderAhead: s.MetricsRenderAhead})
	})
	s.metricsHandler.ServeHTTP(w, r)
	return nil
}
