package alert

// Teams Workflows: the flow "When a Teams webhook request is received"
// takes a message whose attachments are Adaptive Cards
// (https://adaptivecards.io/schemas/adaptive-card.json) and posts each to
// the flow's channel or chat. Teams renders cards up to version 1.5; 1.4
// is what the flow's template posts.

// WorkflowsMessage is the envelope a Workflows webhook takes.
type WorkflowsMessage struct {
	Type        string                `json:"type"` // "message"
	Attachments []WorkflowsAttachment `json:"attachments"`
}

// WorkflowsAttachment is an Adaptive Card attachment.
type WorkflowsAttachment struct {
	ContentType string       `json:"contentType"` // application/vnd.microsoft.card.adaptive
	ContentURL  *string      `json:"contentUrl"`  // null: the card is inline
	Content     AdaptiveCard `json:"content"`
}

// AdaptiveCard is the card: a title, the facts, the detail and a link.
type AdaptiveCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"` // "AdaptiveCard"
	Version string         `json:"version"`
	Body    []CardElement  `json:"body"`
	Actions []CardAction   `json:"actions,omitempty"`
	MSTeams map[string]any `json:"msteams,omitempty"`
}

// CardElement is a TextBlock or a FactSet.
type CardElement struct {
	Type   string     `json:"type"`
	Text   string     `json:"text,omitempty"`
	Weight string     `json:"weight,omitempty"` // Bolder
	Size   string     `json:"size,omitempty"`   // Medium
	Color  string     `json:"color,omitempty"`  // Attention, Warning, Good
	Wrap   bool       `json:"wrap,omitempty"`
	Facts  []CardFact `json:"facts,omitempty"`
}

// CardFact is a fact of a FactSet.
type CardFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// CardAction is an Action.OpenUrl.
type CardAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// workflowsMessage is the message posted for ev.
func workflowsMessage(ev Event) WorkflowsMessage {
	color := map[string]string{"alert": "Attention", "warning": "Warning", "recovery": "Good"}[ev.Kind]
	facts := []CardFact{{"Monitor", ev.Monitor}, {"Device", ev.Device}, {"Type", ev.Type}, {"State", ev.State}}
	if ev.Code != "" {
		facts = append(facts, CardFact{"Error", ev.Code + ": " + ev.Message})
	}
	facts = append(facts, CardFact{"Time", Expand("{time}", ev)})
	if ev.RTT > 0 {
		facts = append(facts, CardFact{"Response time", Expand("{rtt}", ev)})
	}
	body := []CardElement{
		{Type: "TextBlock", Text: Summary(ev), Weight: "Bolder", Size: "Medium", Color: color, Wrap: true},
		{Type: "FactSet", Facts: facts},
	}
	if ev.Detail != "" {
		body = append(body, CardElement{Type: "TextBlock", Text: cut(ev.Detail, 2000), Wrap: true})
	}
	card := AdaptiveCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
		Body: body, MSTeams: map[string]any{"width": "Full"}}
	if ev.URL != "" {
		card.Actions = []CardAction{{Type: "Action.OpenUrl", Title: "Open in mailmon", URL: ev.URL}}
	}
	return WorkflowsMessage{Type: "message", Attachments: []WorkflowsAttachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}}
}
