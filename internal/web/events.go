package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/engine"
)

// eventJSON is one update of a monitor on a page.
type eventJSON struct {
	ID      int64  `json:"id"`
	State   string `json:"state"`
	Label   string `json:"label"`
	Icon    string `json:"icon"`
	RTT     string `json:"rtt,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Time    string `json:"time"`
	Result  string `json:"result,omitempty"` // the test's: up, warn, down (a board row's new bar)
}

// events streams the state of the monitors a page shows (?ids=1,2,3) as
// server-sent events. The stream ends when the session does: at logout at
// once, at expiry by the next heartbeat.
func (s *Server) events(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.Engine == nil {
		return httpError{http.StatusServiceUnavailable, "the scheduler is not running"}
	}
	want := map[int64]bool{}
	for _, f := range strings.Split(r.URL.Query().Get("ids"), ",") {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil && len(want) < 500 {
			want[id] = true
		}
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return httpError{http.StatusInternalServerError, "streaming is not supported"}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop, ok := s.addStream(c.session.Hash, cancel)
	if !ok {
		return httpError{http.StatusTooManyRequests, "too many live pages open: close some tabs"}
	}
	defer stop()
	ch, end := s.Engine.Subscribe(256)
	defer end()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n: mailmon live\n\n")
	fl.Flush()
	tick := time.NewTicker(s.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			se, err := s.Store.SessionByHash(ctx, c.session.Hash)
			if err != nil || !s.alive(se, s.Now()) {
				fmt.Fprint(w, "event: logout\ndata: {}\n\n")
				fl.Flush()
				return nil
			}
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		case ev, ok := <-ch:
			if !ok {
				return nil
			}
			if !want[ev.MonitorID] {
				continue
			}
			b, _ := json.Marshal(eventOut(ev))
			fmt.Fprintf(w, "event: state\ndata: %s\n\n", b)
			fl.Flush()
		}
	}
}

func eventOut(ev engine.Event) eventJSON {
	out := eventJSON{ID: ev.MonitorID, State: string(ev.State), Label: stateLabel(ev.State), Icon: stateIcon(ev.State), Time: when(ev.Time),
		Result: string(ev.Result)}
	if ev.RTT > 0 {
		out.RTT = fmtMS(ev.RTT)
	}
	if ev.Error != nil {
		out.Code, out.Message = string(ev.Error.Code), ev.Error.Message
	}
	return out
}

// The live streams a session, and all sessions together, may hold open.
// A person has a few tabs; a runaway script or a stolen session must not
// hold a goroutine and an engine subscription (which every test's event is
// copied to) per request without end.
const (
	maxStreamsPerSession = 16
	maxStreams           = 512
)

// addStream registers a stream of a session, to be ended at logout, or
// says no when the session or the server has too many.
func (s *Server) addStream(session string, cancel context.CancelFunc) (func(), bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.streams[session]) >= maxStreamsPerSession || s.nstreams >= maxStreams {
		return nil, false
	}
	s.nstreams++
	id := s.nextID
	s.nextID++
	if s.streams[session] == nil {
		s.streams[session] = map[int]context.CancelFunc{}
	}
	s.streams[session][id] = cancel
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.streams[session], id)
		if len(s.streams[session]) == 0 {
			delete(s.streams, session)
		}
		s.nstreams--
	}, true
}

func (s *Server) endStreams(session string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.streams[session] {
		cancel()
	}
}
