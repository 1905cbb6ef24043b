package probe

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Status is the outcome of one test.
type Status string

// The outcomes.
const (
	StatusUp   Status = "up"
	StatusWarn Status = "warn"
	StatusDown Status = "down"
)

// Error is the classified reason a test failed.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
	Phase   string `json:"phase,omitempty"`
	Reply   string `json:"reply,omitempty"` // the server's own words
}

// Result is one test of one service (its JSON is documented in docs/monitors.md).
type Result struct {
	Type       string
	Target     string
	Status     Status
	Started    time.Time
	RTT        time.Duration
	Phases     []Phase
	Error      *Error
	Warnings   []string
	TLS        *TLSInfo
	TLSMode    TLSMode // the mode actually negotiated
	Auth       string  // the mechanism that authenticated
	Delivery   time.Duration
	Details    map[string]any
	Transcript []string
}

type jsonPhase struct {
	Name string  `json:"name"`
	MS   float64 `json:"ms"`
}

type jsonResult struct {
	Type       string         `json:"type"`
	Target     string         `json:"target"`
	Status     Status         `json:"status"`
	Time       string         `json:"time"`
	RTTMS      float64        `json:"rtt_ms"`
	Phases     []jsonPhase    `json:"phases"`
	Error      *Error         `json:"error,omitempty"`
	Warnings   []string       `json:"warnings,omitempty"`
	TLSMode    TLSMode        `json:"tls_mode,omitempty"`
	TLS        *TLSInfo       `json:"tls,omitempty"`
	Auth       string         `json:"auth_mechanism,omitempty"`
	DeliveryMS *float64       `json:"delivery_ms,omitempty"`
	Details    map[string]any `json:"details,omitempty"`
	Transcript []string       `json:"transcript,omitempty"`
}

// ms is a duration in milliseconds with microsecond precision.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// MarshalJSON writes the result object documented in docs/monitors.md
// (AppendJSON) into a buffer of about its size.
func (r *Result) MarshalJSON() ([]byte, error) { return r.AppendJSON(make([]byte, 0, r.jsonSize())) }

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *Result) UnmarshalJSON(b []byte) error {
	var j jsonResult
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	started, err := time.Parse(time.RFC3339Nano, j.Time)
	if err != nil && j.Time != "" {
		return fmt.Errorf("result time: %w", err)
	}
	*r = Result{
		Type: j.Type, Target: j.Target, Status: j.Status, Started: started,
		RTT: fromMS(j.RTTMS), Error: j.Error, Warnings: j.Warnings, TLS: j.TLS, TLSMode: j.TLSMode,
		Auth: j.Auth, Details: j.Details, Transcript: j.Transcript,
	}
	for _, p := range j.Phases {
		r.Phases = append(r.Phases, Phase{p.Name, fromMS(p.MS)})
	}
	if j.DeliveryMS != nil {
		r.Delivery = fromMS(*j.DeliveryMS)
	}
	return nil
}

func fromMS(v float64) time.Duration { return time.Duration(math.Round(v * 1e6)) }
