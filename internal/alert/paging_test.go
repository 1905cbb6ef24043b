package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// The published schemas, transcribed: PagerDuty's Events API v2
// (developer.pagerduty.com, "Send an Alert Event": routing_key,
// event_action, dedup_key ≤ 255; a trigger's payload with summary ≤ 1024,
// source, severity of four, an ISO 8601 timestamp) and Opsgenie's Alert
// API (docs.opsgenie.com, "Create Alert": message ≤ 130, alias ≤ 512,
// description ≤ 15000, entity ≤ 512, source ≤ 100, priority P1–P5, at
// most 20 tags; "Close Alert" by alias: source, note ≤ 25000). The
// receivers decode strictly: a field the schema does not have fails.

type pdEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		Timestamp     string         `json:"timestamp"`
		Component     string         `json:"component"`
		Group         string         `json:"group"`
		Class         string         `json:"class"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
	Images    []map[string]string `json:"images"`
	Links     []map[string]string `json:"links"`
	Client    string              `json:"client"`
	ClientURL string              `json:"client_url"`
}

func (e *pdEvent) check() []string {
	var bad []string
	if len(e.RoutingKey) != 32 {
		bad = append(bad, "routing_key is not 32 characters")
	}
	if !slices.Contains([]string{"trigger", "acknowledge", "resolve"}, e.EventAction) {
		bad = append(bad, "event_action "+e.EventAction)
	}
	if len(e.DedupKey) > 255 || (e.EventAction != "trigger" && e.DedupKey == "") {
		bad = append(bad, "dedup_key")
	}
	if e.EventAction == "trigger" {
		p := e.Payload
		switch {
		case p == nil:
			bad = append(bad, "a trigger without payload")
		case p.Summary == "" || len(p.Summary) > 1024 || p.Source == "":
			bad = append(bad, "payload summary or source")
		case !slices.Contains([]string{"critical", "error", "warning", "info"}, p.Severity):
			bad = append(bad, "payload severity "+p.Severity)
		default:
			if _, err := time.Parse(time.RFC3339, p.Timestamp); err != nil {
				bad = append(bad, "payload timestamp")
			}
		}
	}
	for _, l := range e.Links {
		if l["href"] == "" {
			bad = append(bad, "a link without href")
		}
	}
	return bad
}

type ogCreate struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description"`
	Responders  []map[string]any  `json:"responders"`
	VisibleTo   []map[string]any  `json:"visibleTo"`
	Actions     []string          `json:"actions"`
	Tags        []string          `json:"tags"`
	Details     map[string]string `json:"details"`
	Entity      string            `json:"entity"`
	Source      string            `json:"source"`
	Priority    string            `json:"priority"`
	User        string            `json:"user"`
	Note        string            `json:"note"`
}

func (c *ogCreate) check() []string {
	var bad []string
	if c.Message == "" || len(c.Message) > 130 || len(c.Alias) > 512 || len(c.Description) > 15000 ||
		len(c.Entity) > 512 || len(c.Source) > 100 || len(c.Tags) > 20 {
		bad = append(bad, "a field's length")
	}
	if c.Priority != "" && !regexp.MustCompile(`^P[1-5]$`).MatchString(c.Priority) {
		bad = append(bad, "priority "+c.Priority)
	}
	return bad
}

type ogClose struct {
	User   string `json:"user"`
	Source string `json:"source"`
	Note   string `json:"note"`
}

// strict decodes body into v, refusing fields v does not have.
func strict(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

type pagingReceiver struct {
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

func (p *pagingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.reqs, p.body = append(p.reqs, r), append(p.body, b)
	p.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"success"}`)
}

func TestPagerDutySchema(t *testing.T) {
	rcv := &pagingReceiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	key := strings.Repeat("R", 32)
	pd := &PagerDuty{URL: srv.URL + "/v2/enqueue", RoutingKey: key, poster: poster{What: "pagerduty"}}
	warn := ev
	warn.Kind = "warning"
	long := ev
	long.Monitor = strings.Repeat("ü", 700) // a summary over 1024 bytes
	up := ev
	up.Kind, up.State, up.Code = "recovery", "up", ""
	for _, e := range []Event{ev, warn, long, up} {
		if err := pd.Notify(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	wantAction := []string{"trigger", "trigger", "trigger", "resolve"}
	wantSev := []string{"critical", "warning", "critical", ""}
	for i, b := range rcv.body {
		var e pdEvent
		if err := strict(b, &e); err != nil {
			t.Fatalf("event %d is not of the schema: %v\n%s", i, err, b)
		}
		if bad := e.check(); len(bad) > 0 {
			t.Errorf("event %d: %v\n%s", i, bad, b)
		}
		if e.EventAction != wantAction[i] || e.DedupKey != "mailmon-monitor-12" || e.RoutingKey != key {
			t.Errorf("event %d: %s %s", i, e.EventAction, e.DedupKey)
		}
		if e.Payload != nil && e.Payload.Severity != wantSev[i] {
			t.Errorf("event %d: severity %s", i, e.Payload.Severity)
		}
		if rcv.reqs[i].URL.Path != "/v2/enqueue" || rcv.reqs[i].Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d: %s %v", i, rcv.reqs[i].URL, rcv.reqs[i].Header)
		}
	}
}

func TestOpsgenieSchema(t *testing.T) {
	rcv := &pagingReceiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	og := &Opsgenie{URL: srv.URL + "/", APIKey: "og-key-123", poster: poster{What: "opsgenie"}}
	up := ev
	up.Kind, up.State, up.Code = "recovery", "up", ""
	long := ev
	long.Detail = strings.Repeat("x", 20000)
	for _, e := range []Event{ev, long, up} {
		if err := og.Notify(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range rcv.reqs {
		if r.Header.Get("Authorization") != "GenieKey og-key-123" || r.Method != "POST" {
			t.Errorf("request %d: %s %v", i, r.Method, r.Header)
		}
		if i < 2 {
			var c ogCreate
			if err := strict(rcv.body[i], &c); err != nil {
				t.Fatalf("create %d is not of the schema: %v", i, err)
			}
			if bad := c.check(); len(bad) > 0 || r.URL.Path != "/v2/alerts" || c.Alias != "mailmon-monitor-12" || c.Priority != "P1" {
				t.Errorf("create %d: %v %s %+v", i, bad, r.URL, c)
			}
			continue
		}
		var c ogClose
		if err := strict(rcv.body[i], &c); err != nil || len(c.Note) > 25000 {
			t.Fatalf("close is not of the schema: %v", err)
		}
		if r.URL.Path != "/v2/alerts/mailmon-monitor-12/close" || r.URL.Query().Get("identifierType") != "alias" {
			t.Errorf("close: %s", r.URL)
		}
	}
	if len(rcv.reqs) != 3 {
		t.Fatalf("%d requests", len(rcv.reqs))
	}
}

// TestPagingActionsOpenTheirKeys: the outbox builds PagerDuty's and
// Opsgenie's actions with their keys opened from the vault, and a
// service's URL set over the network is held to the egress policy.
func TestPagingActionsOpenTheirKeys(t *testing.T) {
	f := newQueueFixture(t)
	x := &Actions{Vault: f.v}
	for _, c := range []struct {
		spec config.Alert
		name string
	}{
		{config.Alert{Name: "pd", PagerDuty: &config.PagerDuty{}}, "pagerduty.routing_key"},
		{config.Alert{Name: "og", Opsgenie: &config.Opsgenie{}}, "opsgenie.api_key"},
	} {
		spec, _ := json.Marshal(c.spec)
		a := &store.Alert{ID: 7, Name: c.spec.Name, Spec: spec, NetworkTarget: true}
		sealed, _ := f.v.Seal([]byte("the-key"), vault.AlertRecord(7, c.name))
		a.Secrets = map[string]string{c.name: sealed}
		n, err := x.Notifier(a, 1)
		if err != nil {
			t.Fatal(err)
		}
		switch n := n.(type) {
		case *PagerDuty:
			if n.RoutingKey != "the-key" || n.URL != config.PagerDutyURL || n.Egress == nil {
				t.Errorf("pagerduty: %+v", n)
			}
		case *Opsgenie:
			if n.APIKey != "the-key" || n.URL != config.OpsgenieURL || n.Egress == nil {
				t.Errorf("opsgenie: %+v", n)
			}
		default:
			t.Errorf("%s: a %T", c.spec.Name, n)
		}
		a.Secrets = nil
		if _, err := x.Notifier(a, 1); err == nil {
			t.Errorf("%s without its key: no error", c.spec.Name)
		}
	}
}
