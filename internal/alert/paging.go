package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The actions of paging and routing services: Alertmanager, PagerDuty
// (Events API v2) and Opsgenie. Each keeps one incident per monitor (a
// dedup key, an alias, a label set), which the recovery resolves.

// DedupKey is a monitor's incident key at PagerDuty and Opsgenie: every
// alert of one outage lands on one incident, and the recovery resolves it.
func DedupKey(monitorID int64) string { return "mailmon-monitor-" + strconv.FormatInt(monitorID, 10) }

// severity is the event's for the services: critical for an alert (Down,
// Lost), warning for a warning, info otherwise.
func severity(ev Event) string {
	switch ev.Kind {
	case "alert":
		return "critical"
	case "warning":
		return "warning"
	}
	return "info"
}

// cut shortens s to at most n bytes at a rune boundary, with "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-len("…")]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// details are the event's facts, as string pairs.
func details(ev Event) map[string]string {
	d := map[string]string{"monitor": ev.Monitor, "device": ev.Device, "type": ev.Type, "state": ev.State, "event_id": ev.ID,
		"time": ev.Time.UTC().Format(time.RFC3339)}
	if ev.Code != "" {
		d["error_code"], d["error_message"] = ev.Code, ev.Message
	}
	if ev.Detail != "" {
		d["detail"] = cut(ev.Detail, 2000)
	}
	if ev.RTT > 0 {
		d["rtt_ms"] = strconv.FormatFloat(float64(ev.RTT.Microseconds())/1e3, 'f', 1, 64)
	}
	if ev.URL != "" {
		d["link"] = ev.URL
	}
	if ev.AckURL != "" {
		d["ack_link"] = ev.AckURL
	}
	return d
}

// PagerDuty sends Events API v2 events to URL with the integration's
// routing key: a trigger for an alert or a warning, a resolve for a
// recovery, all with the monitor's dedup key.
type PagerDuty struct {
	URL        string
	RoutingKey string
	poster
}

// PagerDutyEvent is an Events API v2 event.
type PagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"` // trigger | acknowledge | resolve
	DedupKey    string            `json:"dedup_key,omitempty"`
	Payload     *PagerDutyPayload `json:"payload,omitempty"`
	Client      string            `json:"client,omitempty"`
	ClientURL   string            `json:"client_url,omitempty"`
	Links       []PagerDutyLink   `json:"links,omitempty"`
}

// PagerDutyPayload is a trigger's payload.
type PagerDutyPayload struct {
	Summary       string            `json:"summary"` // at most 1024 characters
	Source        string            `json:"source"`
	Severity      string            `json:"severity"` // critical | error | warning | info
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

// PagerDutyLink is a link of a trigger.
type PagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Event is what Notify sends for ev.
func (p *PagerDuty) Event(ev Event) PagerDutyEvent {
	out := PagerDutyEvent{RoutingKey: p.RoutingKey, EventAction: "trigger", DedupKey: DedupKey(ev.MonitorID)}
	if ev.Kind == "recovery" {
		out.EventAction = "resolve"
		return out
	}
	out.Payload = &PagerDutyPayload{Summary: cut(Summary(ev), 1024), Source: ev.Device, Severity: severity(ev),
		Timestamp: ev.Time.UTC().Format(time.RFC3339), Component: ev.Monitor, Group: ev.Device, Class: ev.Type,
		CustomDetails: details(ev)}
	out.Client = "mailmon"
	if ev.URL != "" {
		out.ClientURL = ev.URL
		out.Links = []PagerDutyLink{{Href: ev.URL, Text: "Open in mailmon"}}
	}
	if ev.AckURL != "" {
		out.Links = append(out.Links, PagerDutyLink{Href: ev.AckURL, Text: AckLinkText})
	}
	return out
}

// Notify sends the event.
func (p *PagerDuty) Notify(ctx context.Context, ev Event) error {
	body, _ := json.Marshal(p.Event(ev))
	_, err := p.send(ctx, http.MethodPost, p.URL, http.Header{"Content-Type": {"application/json"}}, body)
	return err
}

// Opsgenie creates an alert per outage at the Alert API under URL (its
// base), aliased by the monitor's dedup key, and closes it on recovery.
type Opsgenie struct {
	URL    string
	APIKey string
	poster
}

// OpsgenieAlert is the body of an alert's creation.
type OpsgenieAlert struct {
	Message     string            `json:"message"` // at most 130 characters
	Alias       string            `json:"alias,omitempty"`
	Description string            `json:"description,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Entity      string            `json:"entity,omitempty"`
	Source      string            `json:"source,omitempty"`
	Priority    string            `json:"priority,omitempty"` // P1 … P5
	Tags        []string          `json:"tags,omitempty"`
}

// OpsgenieClose is the body of an alert's closing.
type OpsgenieClose struct {
	Source string `json:"source,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Request is the method-less path and body Notify posts for ev, under URL.
func (o *Opsgenie) Request(ev Event) (path string, body any) {
	alias := DedupKey(ev.MonitorID)
	if ev.Kind == "recovery" {
		return "/v2/alerts/" + url.PathEscape(alias) + "/close?identifierType=alias", OpsgenieClose{Source: "mailmon", Note: cut(Summary(ev), 25000)}
	}
	prio := "P1"
	if ev.Kind == "warning" {
		prio = "P3"
	}
	return "/v2/alerts", OpsgenieAlert{Message: cut(Summary(ev), 130), Alias: alias, Description: cut(Expand(DefaultBody, ev), 15000),
		Details: details(ev), Entity: ev.Device, Source: "mailmon", Priority: prio, Tags: []string{"mailmon", ev.Type}}
}

// Notify sends the event.
func (o *Opsgenie) Notify(ctx context.Context, ev Event) error {
	path, v := o.Request(ev)
	body, _ := json.Marshal(v)
	_, err := o.send(ctx, http.MethodPost, strings.TrimRight(o.URL, "/")+path,
		http.Header{"Content-Type": {"application/json"}, "Authorization": {"GenieKey " + o.APIKey}}, body)
	return err
}

// Alertmanager posts to an Alertmanager's API v2: an alert's labels are
// alertname="MailmonMonitor", monitor, device, type, code, severity and
// monitor_id (what finds it again). A notification that fires resolves
// the monitor's other alerts there (an earlier warning, another code), so
// that one outage is one alert; a recovery resolves them all (endsAt).
// Alertmanager expects a firing alert to be posted again before its
// endsAt, as Prometheus does: the outbox re-posts it every Actions.Repost
// while the outage lasts (repost.go), each post firing for FiringFor
// more, so that an alert mailmon stops posting (the daemon gone) resolves
// by itself.
type Alertmanager struct {
	URL       string
	FiringFor time.Duration    // from each post (0: 3 × DefaultRepost)
	Now       func() time.Time // nil: time.Now
	poster
}

// AlertmanagerName is the alertname of mailmon's alerts.
const AlertmanagerName = "MailmonMonitor"

// AMAlert is an alert of Alertmanager's API v2 (postableAlert; the fields
// of gettableAlert mailmon reads).
type AMAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Alert is the alert posted for a firing ev: it ends FiringFor after now
// unless posted again.
func (a *Alertmanager) Alert(ev Event) AMAlert {
	now, firing := time.Now, a.FiringFor
	if a.Now != nil {
		now = a.Now
	}
	if firing <= 0 {
		firing = 3 * DefaultRepost
	}
	am := AMAlert{
		Labels: map[string]string{"alertname": AlertmanagerName, "monitor": ev.Monitor, "device": ev.Device, "type": ev.Type,
			"code": ev.Code, "severity": severity(ev), "monitor_id": strconv.FormatInt(ev.MonitorID, 10)},
		Annotations:  map[string]string{"summary": Summary(ev), "description": cut(Expand(DefaultBody, ev), 4000)},
		StartsAt:     ev.Time.UTC(),
		EndsAt:       now().UTC().Add(firing),
		GeneratorURL: ev.URL,
	}
	if ev.AckURL != "" {
		am.Annotations["ack_url"] = ev.AckURL
	}
	return am
}

// Notify posts the event's alert, and resolves the monitor's others.
func (a *Alertmanager) Notify(ctx context.Context, ev Event) error {
	base := strings.TrimRight(a.URL, "/")
	open, err := a.firing(ctx, base, ev.MonitorID)
	if err != nil {
		return err
	}
	var post []AMAlert
	var fire AMAlert
	if ev.Kind != "recovery" {
		fire = a.Alert(ev)
		post = append(post, fire)
	}
	for _, o := range open {
		if ev.Kind == "recovery" || !maps.Equal(o.Labels, fire.Labels) {
			post = append(post, AMAlert{Labels: o.Labels, Annotations: o.Annotations, StartsAt: o.StartsAt, EndsAt: ev.Time.UTC(), GeneratorURL: o.GeneratorURL})
		}
	}
	if len(post) == 0 {
		return nil // recovered, and nothing there to resolve (it expired)
	}
	body, _ := json.Marshal(post)
	_, err = a.send(ctx, http.MethodPost, base+"/api/v2/alerts", http.Header{"Content-Type": {"application/json"}}, body)
	return err
}

// firing lists the monitor's alerts still active at the Alertmanager
// (silenced and inhibited ones too: a silence hides, it does not resolve).
func (a *Alertmanager) firing(ctx context.Context, base string, monitorID int64) ([]AMAlert, error) {
	q := url.Values{"filter": {`alertname="` + AlertmanagerName + `"`, `monitor_id="` + strconv.FormatInt(monitorID, 10) + `"`},
		"active": {"true"}, "silenced": {"true"}, "inhibited": {"true"}, "unprocessed": {"true"}}
	answer, err := a.send(ctx, http.MethodGet, base+"/api/v2/alerts?"+q.Encode(), nil, nil)
	if err != nil {
		return nil, err
	}
	var out []AMAlert
	if err := json.Unmarshal(answer, &out); err != nil {
		return nil, fmt.Errorf("alertmanager %s: its list of alerts: %w", Origin(base), err)
	}
	return out, nil
}
