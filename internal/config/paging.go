package config

import (
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"text/template"

	"golang.org/x/net/http/httpguts"
)

// The alert actions that talk to a paging or routing service: Alertmanager,
// PagerDuty (Events API v2) and Opsgenie. Their keys are secrets, sealed
// like a webhook's URL (SealedFields).

// Alertmanager posts alerts to a Prometheus Alertmanager's /api/v2/alerts,
// so that its routing, silences and inhibitions apply.
type Alertmanager struct {
	URL string `yaml:"url" json:"url"` // its base URL: http://alertmanager:9093
}

// PagerDuty sends PagerDuty Events API v2 events: a trigger per alert, a
// resolve on recovery, with one dedup key per monitor.
type PagerDuty struct {
	RoutingKey SecretRef `yaml:"routing_key,omitempty" json:"routing_key,omitzero"`
	// URL is the events endpoint (default
	// https://events.pagerduty.com/v2/enqueue; the EU service's, or a
	// relay's).
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
}

// Opsgenie creates Opsgenie alerts (one alias per monitor) and closes them
// on recovery.
type Opsgenie struct {
	APIKey SecretRef `yaml:"api_key,omitempty" json:"api_key,omitzero"`
	// URL is the API's base (default https://api.opsgenie.com; the EU
	// one is https://api.eu.opsgenie.com).
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
}

// Default endpoints.
const (
	PagerDutyURL = "https://events.pagerduty.com/v2/enqueue"
	OpsgenieURL  = "https://api.opsgenie.com"
)

// SealedField is a secret of an alert action that is sealed under Name
// (the alert's secrets), its field path in the YAML.
type SealedField struct {
	Name string
	Ref  SecretRef
}

// SealedFields lists the alert's secrets sealed by name, but the relay's
// password (write-only on its own): a webhook's URL, PagerDuty's routing
// key, Opsgenie's API key, a channel's URL.
func (a *Alert) SealedFields() []SealedField {
	switch {
	case a.Webhook != nil:
		out := []SealedField{{"webhook.url", a.Webhook.URL}}
		for _, name := range slices.Sorted(maps.Keys(a.Webhook.Headers)) {
			out = append(out, SealedField{HeaderSecret + name, a.Webhook.Headers[name]})
		}
		return out
	case a.PagerDuty != nil:
		return []SealedField{{"pagerduty.routing_key", a.PagerDuty.RoutingKey}}
	case a.Opsgenie != nil:
		return []SealedField{{"opsgenie.api_key", a.Opsgenie.APIKey}}
	case a.IsChannel():
		return []SealedField{{"url", a.URL}}
	}
	return nil
}

// Target is the URL an alert action sends to that is not a secret (""
// for another kind): where it leads is held to the egress policy.
func (a *Alert) Target() string {
	switch {
	case a.Alertmanager != nil:
		return a.Alertmanager.URL
	case a.PagerDuty != nil:
		return or(a.PagerDuty.URL, PagerDutyURL)
	case a.Opsgenie != nil:
		return or(a.Opsgenie.URL, OpsgenieURL)
	}
	return ""
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkServiceURL says whether u can be a service's URL: http(s), a host,
// no user or password in it (a key has its own field, sealed).
func checkServiceURL(u, example string) error {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return errors.New("is not an http(s) URL (like " + example + ")")
	}
	if pu.User != nil {
		return errors.New("has a user or password in it: leave them out (a key has its own field, stored encrypted)")
	}
	return nil
}

func (a *Alert) validatePaging(p string, add func(path, format string, args ...any)) {
	switch {
	case a.Alertmanager != nil:
		if a.Alertmanager.URL == "" {
			add(p+".alertmanager.url", "is required (like http://alertmanager:9093)")
		} else if err := checkServiceURL(a.Alertmanager.URL, "http://alertmanager:9093"); err != nil {
			add(p+".alertmanager.url", "%v", err)
		}
	case a.PagerDuty != nil:
		if v := a.PagerDuty.RoutingKey.Value; v != "" && len(v) != 32 {
			add(p+".pagerduty.routing_key", "is not a routing key (32 characters: the integration key of an Events API v2 integration)")
		}
		if u := a.PagerDuty.URL; u != "" {
			if err := checkServiceURL(u, PagerDutyURL); err != nil {
				add(p+".pagerduty.url", "%v", err)
			}
		}
	case a.Opsgenie != nil:
		if u := a.Opsgenie.URL; u != "" {
			if err := checkServiceURL(u, OpsgenieURL); err != nil {
				add(p+".opsgenie.url", "%v", err)
			}
		}
	}
}

// SecretHeaders are a templated webhook's headers, each value a secret
// (an Authorization header, an API key): sealed as
// "webhook.headers.NAME", never exported or returned. A save that gives
// headers replaces them all; one that gives none keeps the stored ones.
type SecretHeaders map[string]SecretRef

// IsZero is always true, as a SecretRef's: the headers are never written
// out (YAML omitempty, JSON omitzero).
func (SecretHeaders) IsZero() bool { return true }

// HeaderSecret is the name a header's value is sealed under.
const HeaderSecret = "webhook.headers."

// WebhookMethods are the methods a templated webhook may use.
var WebhookMethods = []string{"POST", "PUT", "PATCH"}

// BodyTemplate parses a templated webhook's body: Go's text/template over
// the event (.Monitor, .Device, .Type, .Kind, .State, .Code, .Message,
// .Detail, .RTT, .Time, .URL, .AckURL, .ID), with json (a value as JSON: a quoted,
// escaped string) to build JSON safely.
func BodyTemplate(body string) (*template.Template, error) {
	return template.New("body").Option("missingkey=error").Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}).Parse(body)
}

func (w *Webhook) validateTemplate(p string, add func(path, format string, args ...any)) {
	if w.Method != "" && !slices.Contains(WebhookMethods, w.Method) {
		add(p+".webhook.method", "%q is not one of %s", w.Method, strings.Join(WebhookMethods, ", "))
	}
	if w.Body != "" {
		if w.Format != "" {
			add(p+".webhook.format", "a body replaces the format: leave format out, or the body")
		}
		if _, err := BodyTemplate(w.Body); err != nil {
			add(p+".webhook.body", "is not a Go template: %v", err)
		}
	}
	for name := range w.Headers {
		if !httpguts.ValidHeaderFieldName(name) {
			add(p+".webhook.headers", "%q is not a header name", name)
		} else if slices.Contains([]string{"host", "content-length", "transfer-encoding", "connection", "user-agent"}, strings.ToLower(name)) {
			add(p+".webhook.headers."+name, "is set by mailmon: leave it out")
		}
	}
}
