package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTeamsWorkflows: the teams-workflows format posts the envelope a
// Workflows webhook ("When a Teams webhook request is received") takes: a
// message whose one attachment is an inline Adaptive Card with the
// summary as a coloured title, the facts, the detail and a link. The body
// is decoded strictly (an unknown field fails) into the published shape.
func TestTeamsWorkflows(t *testing.T) {
	type fact struct{ Title, Value string }
	type element struct {
		Type, Text, Weight, Size, Color string
		Wrap                            bool
		Facts                           []fact
	}
	type card struct {
		Schema  string `json:"$schema"`
		Type    string
		Version string
		Body    []element
		Actions []struct{ Type, Title, URL string }
		MSTeams struct{ Width string }
	}
	type message struct {
		Type        string
		Attachments []struct {
			ContentType string
			ContentURL  *string
			Content     card
		}
	}
	var got message
	var contentType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contentType = r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Errorf("%v in %s", err, b)
		}
		w.WriteHeader(http.StatusAccepted) // what a flow answers
	}))
	t.Cleanup(srv.Close)
	w := &Webhook{URL: srv.URL + "/workflows/s3cret", Format: FormatTeamsWorkflows}
	if err := w.Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if contentType != "application/json" || got.Type != "message" || len(got.Attachments) != 1 {
		t.Fatalf("envelope %q: %+v", contentType, got)
	}
	at := got.Attachments[0]
	c := at.Content
	if at.ContentType != "application/vnd.microsoft.card.adaptive" || at.ContentURL != nil || c.Type != "AdaptiveCard" ||
		c.Version != "1.4" || c.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" {
		t.Errorf("attachment: %+v", at)
	}
	if len(c.Body) != 3 || c.Body[0].Type != "TextBlock" || c.Body[0].Text != Summary(ev) || c.Body[0].Color != "Attention" ||
		c.Body[1].Type != "FactSet" || c.Body[2].Text != ev.Detail {
		t.Errorf("body: %+v", c.Body)
	}
	facts := map[string]string{}
	for _, f := range c.Body[1].Facts {
		facts[f.Title] = f.Value
	}
	if facts["Monitor"] != ev.Monitor || facts["Device"] != ev.Device || facts["Error"] != ev.Code+": "+ev.Message {
		t.Errorf("facts: %v", facts)
	}
	if len(c.Actions) != 1 || c.Actions[0].Type != "Action.OpenUrl" || c.Actions[0].URL != ev.URL {
		t.Errorf("actions: %+v", c.Actions)
	}
	up := ev
	up.Kind, up.State, up.Code, up.Message, up.Detail = "recovery", "up", "", "", ""
	if err := w.Notify(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	if b := got.Attachments[0].Content.Body; len(b) != 2 || b[0].Color != "Good" {
		t.Errorf("a recovery's card: %+v", b)
	}
}
