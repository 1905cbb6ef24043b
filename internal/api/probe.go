package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/metrics"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/store"
)

// /probe is a blackbox_exporter-style prober: Prometheus names a target in
// the query, mailmon tests it now and answers with the result's series
// (internal/metrics). Nothing of such a test is recorded. Like every API
// route it needs the bearer token: it makes the server connect wherever the
// caller says.

// Probe defaults.
const (
	DefaultProbeMaxTimeout  = 60 * time.Second
	DefaultProbeMaxInFlight = 16
	// probeMargin is left of Prometheus' scrape timeout for the answer to
	// get back (blackbox_exporter's default timeout_offset).
	probeMargin = 500 * time.Millisecond
)

// ScrapeTimeoutHeader is where Prometheus says how long it waits.
const ScrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// adHoc reports whether /probe tests a type from query parameters alone:
// one with a port (the target is host:port), or a domain-health type (the
// target is the domain or host looked up, through serve --resolver), that
// needs nothing stored; the round trips and Graph need a stored monitor
// (their credentials, secret or token endpoint), and so does dkim (its
// selectors).
func adHoc(k probe.Kind) bool {
	return (k.HasPort || k.Shows("resolver")) && !k.RoundTrip && !k.TokenOnly && !k.Shows("selectors")
}

// adHocTypes are the names of the types /probe tests from the query.
func adHocTypes() []string {
	var out []string
	for _, k := range kinds.All() {
		if adHoc(k) {
			out = append(out, k.Name)
		}
	}
	return out
}

// onlyFor says which of those types a parameter applies to: "smtp".
func onlyFor(field string) string {
	var out []string
	for _, k := range kinds.All() {
		if adHoc(k) && k.Shows(field) {
			out = append(out, k.Name)
		}
	}
	return strings.Join(out, ", ")
}

// probeParams are the query parameters of an ad-hoc probe. Credentials are
// never among them: a URL ends up in logs, Prometheus' target list and
// browser history.
var probeParams = []string{"type", "target", "tls", "ehlo", "expect", "servername", "insecure_skip_verify"}

func (s *Server) probe(w http.ResponseWriter, r *http.Request) error {
	if s.Engine == nil {
		return httpError{http.StatusServiceUnavailable, "the scheduler is not running"}
	}
	var q url.Values
	ref, sole := soleMonitor(r.URL.RawQuery)
	if !sole {
		q = r.URL.Query()
	}
	var bad fieldErrors
	for k, v := range q {
		if len(v) > 1 {
			bad = append(bad, config.FieldError{Path: k, Msg: "is given more than once"})
		}
	}
	maxTimeout := s.ProbeMaxTimeout
	if maxTimeout <= 0 {
		maxTimeout = DefaultProbeMaxTimeout
	}
	scrape, err := scrapeTimeout(r.Header.Get(ScrapeTimeoutHeader))
	if err != nil {
		bad = append(bad, config.FieldError{Path: ScrapeTimeoutHeader, Msg: err.Error()})
	}
	var cfg probe.Config
	var cfgErr error // the monitor cannot be tested: reported as a failed test
	if sole || q.Has("monitor") {
		for k := range q {
			if k != "monitor" {
				bad = append(bad, config.FieldError{Path: k, Msg: "is not allowed with monitor: the monitor's own settings are used"})
			}
		}
		if !sole {
			ref = q.Get("monitor")
		}
		if len(bad) == 0 {
			cfg, cfgErr, err = s.monitorProbeConfig(r.Context(), ref)
			if err != nil {
				return err
			}
		}
	} else {
		cfg, bad = adHocProbeConfig(q, bad)
		if len(bad) == 0 {
			// The caller names the target: held to the egress policy, here
			// and on each address dialled, and shown no server text
			// (probe/network.go).
			bad = s.probeTarget(cfg.Host)
			cfg.Egress, cfg.Resolver, cfg.DNSServer = s.egress(), s.Resolver, s.Engine.DNSServer()
		}
	}
	if len(bad) > 0 {
		return bad
	}
	timeout := min(cfg.Timeout, maxTimeout)
	if timeout <= 0 {
		timeout = min(probe.DefaultTimeout, maxTimeout)
	}
	if scrape > 0 {
		timeout = min(timeout, scrape)
	}
	cfg.Timeout = timeout
	if cfg.WarnRTT >= timeout {
		cfg.WarnRTT = 0 // a budget cut short by the scrape must not make the config invalid
	}
	if cfg.PollInterval >= timeout {
		cfg.PollInterval = timeout / 2
	}

	// A bounded number of probes at once; one that cannot start within
	// its budget is refused rather than queued past Prometheus' patience.
	slots := s.probeSlots()
	if !takeSlot(r.Context(), slots, timeout) {
		return httpError{http.StatusServiceUnavailable, "too many probes in flight"}
	}
	defer func() { <-slots }()
	var res *probe.Result
	if cfgErr != nil {
		t := probe.NewTrace(r.Context(), nil)
		res = t.Result(&cfg, &probe.ConfigError{Errs: []probe.FieldError{{Field: "monitor", Msg: cfgErr.Error()}}})
	} else {
		k, _ := kinds.Lookup(cfg.Type)
		p, ok := s.Engine.Prober(cfg.Type)
		if !ok {
			return httpError{http.StatusBadRequest, "type: no prober for " + cfg.Type}
		}
		k.Probe = p
		res = probe.Run(r.Context(), k, cfg)
	}
	if s.Log != nil && res.Error != nil {
		s.Log.Debug("probe failed", "type", res.Type, "target", res.Target, "code", res.Error.Code)
	}
	w.Header()["Content-Type"] = probeContentType
	metrics.WriteProbe(w, res)
	return nil
}

// probeContentType is /probe's Content-Type header value, made once (net/http
// only reads it).
var probeContentType = []string{metrics.ProbeContentType}

// takeSlot waits for one of slots, at most wait: at once when one is free,
// as nearly always, without a timer.
func takeSlot(ctx context.Context, slots chan struct{}, wait time.Duration) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// soleMonitor is the value of a query that is monitor=… and nothing else,
// as Prometheus names a stored monitor, read without url.ParseQuery's map;
// false for any other query, escaped values included.
func soleMonitor(raw string) (string, bool) {
	v, ok := strings.CutPrefix(raw, "monitor=")
	if !ok || strings.ContainsAny(v, "&;%+") {
		return "", false
	}
	return v, true
}

func (s *Server) probeSlots() chan struct{} {
	s.probeOnce.Do(func() {
		n := s.ProbeMaxInFlight
		if n <= 0 {
			n = DefaultProbeMaxInFlight
		}
		s.probeSem = make(chan struct{}, n)
	})
	return s.probeSem
}

// scrapeTimeout turns Prometheus' header into the probe's budget: the
// scrape timeout less a margin for the answer (at least half of it). Zero
// when there is no header.
func scrapeTimeout(h string) (time.Duration, error) {
	if h == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(h, 64)
	if err != nil || v <= 0 || v > 24*3600 {
		return 0, errors.New("is not a positive number of seconds")
	}
	d := time.Duration(v * float64(time.Second))
	return max(d-probeMargin, d/2), nil
}

// adHocProbeConfig builds the config of a probe described by the query.
func adHocProbeConfig(q url.Values, bad fieldErrors) (probe.Config, fieldErrors) {
	add := func(field, msg string) { bad = append(bad, config.FieldError{Path: field, Msg: msg}) }
	for k := range q {
		switch {
		case slices.Contains(probeParams, k):
		case k == "user" || k == "password" || strings.Contains(k, "password") || strings.Contains(k, "token") || strings.Contains(k, "secret"):
			add(k, "credentials are never taken from the URL; name a stored monitor with monitor=ID or monitor=DEVICE/NAME")
		default:
			add(k, "is not a parameter of /probe (type, target, tls, ehlo, expect, servername, insecure_skip_verify, or monitor)")
		}
	}
	cfg := probe.Config{Type: q.Get("type"), TLS: probe.TLSMode(q.Get("tls"))}
	k, known := kinds.Lookup(cfg.Type)
	switch {
	case cfg.Type == "":
		add("type", "is required: one of "+strings.Join(adHocTypes(), ", ")+" (round trips with monitor=)")
	case k.RoundTrip:
		add("type", cfg.Type+" sends and deletes mail with stored credentials: name a stored monitor with monitor=ID or monitor=DEVICE/NAME")
	case !known || !adHoc(k):
		add("type", strconv.Quote(cfg.Type)+" is not one of "+strings.Join(adHocTypes(), ", "))
	}
	if target := q.Get("target"); target == "" {
		add("target", "is required: host:port (an IPv6 address in brackets: [::1]:25)")
	} else if host, port, err := splitTarget(target, k.HasPort && k.Ports == (probe.Ports{})); err != nil {
		add("target", err.Error())
	} else if known && !k.HasPort && port != 0 {
		add("target", k.Name+" has no port: give the domain or host alone, e.g. example.org")
	} else {
		cfg.Host, cfg.Port = host, port
	}
	if cfg.TLS != "" && !slices.Contains(probe.TLSModes(), cfg.TLS) {
		add("tls", strconv.Quote(string(cfg.TLS))+" is not one of none, starttls-optional, starttls, implicit")
	}
	if cfg.Port == 0 && cfg.Host != "" && known && adHoc(k) {
		cfg.Port = k.Port(cfg.TLS)
	}
	if v := q.Get("ehlo"); v != "" {
		if !k.Shows("ehlo") {
			add("ehlo", "applies to "+onlyFor("ehlo")+" only")
		} else if len(v) > 255 || strings.ContainsAny(v, " \t\r\n") {
			add("ehlo", "is not a host name")
		}
		cfg.EHLOName = v
	}
	if v := q.Get("expect"); v != "" {
		if !k.Shows("expect") {
			add("expect", "applies to "+onlyFor("expect")+" only")
		} else if len(v) > 256 || strings.ContainsAny(v, "\r\n") {
			add("expect", "is at most 256 characters on one line")
		}
		cfg.Expect = v
	}
	if v := q.Get("servername"); v != "" {
		if len(v) > 253 || strings.ContainsAny(v, " \t\r\n/") {
			add("servername", "is not a host name")
		}
		cfg.ServerName = v
	}
	if v := q.Get("insecure_skip_verify"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			add("insecure_skip_verify", "is true or false")
		}
		cfg.InsecureSkipVerify = b
	}
	if len(bad) > 0 {
		return cfg, bad
	}
	if err := cfg.Validate(k); err != nil {
		var ce *probe.ConfigError
		if !errors.As(err, &ce) {
			add("target", err.Error())
			return cfg, bad
		}
		for _, f := range ce.Errs {
			field := f.Field
			if field == "host" || field == "port" {
				field = "target"
			}
			add(field, f.Msg)
		}
	}
	return cfg, bad
}

// splitTarget reads host:port; the port may be left out unless the type
// needs one (a mail protocol's default for the TLS mode is used).
func splitTarget(target string, needsPort bool) (string, int, error) {
	host, ps, err := net.SplitHostPort(target)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) && ae.Err == "missing port in address" && !needsPort {
			h := strings.TrimSuffix(strings.TrimPrefix(target, "["), "]")
			if strings.Contains(h, ":") && !strings.HasPrefix(target, "[") {
				return "", 0, errors.New("an IPv6 address goes in brackets: [::1]:25")
			}
			return h, 0, nil
		}
		if strings.Count(target, ":") > 1 && !strings.HasPrefix(target, "[") {
			return "", 0, errors.New("an IPv6 address goes in brackets: [::1]:25")
		}
		return "", 0, errors.New(strconv.Quote(target) + " is not host:port")
	}
	if host == "" {
		return "", 0, errors.New("the host is missing")
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, errors.New("the port " + strconv.Quote(ps) + " is not a number between 1 and 65535")
	}
	return host, port, nil
}

// monitorProbeConfig finds a stored monitor by ID or DEVICE/NAME and
// returns its config with its secrets opened; cfgErr says why it cannot be
// tested. A monitor that does not exist is a bad parameter.
func (s *Server) monitorProbeConfig(ctx context.Context, ref string) (cfg probe.Config, cfgErr, err error) {
	notFound := func() fieldErrors {
		return fieldErrors{{Path: "monitor", Msg: "no monitor " + strconv.Quote(ref) + " (give its id or DEVICE/NAME)"}}
	}
	var id int64
	if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		id = n
	} else {
		dev, name, ok := strings.Cut(ref, "/")
		if !ok || dev == "" || name == "" {
			return cfg, nil, fieldErrors{{Path: "monitor", Msg: "is an id or DEVICE/NAME"}}
		}
		d, derr := s.Store.DeviceByName(ctx, dev)
		if errors.Is(derr, store.ErrNotFound) {
			return cfg, nil, notFound()
		} else if derr != nil {
			return cfg, nil, derr
		}
		m, merr := s.Store.MonitorByName(ctx, d.ID, name)
		if errors.Is(merr, store.ErrNotFound) {
			return cfg, nil, notFound()
		} else if merr != nil {
			return cfg, nil, merr
		}
		id = m.ID
	}
	cfg, cfgErr = s.Engine.MonitorConfig(id)
	if errors.Is(cfgErr, store.ErrNotFound) {
		return cfg, nil, notFound()
	}
	return cfg, cfgErr, nil
}
