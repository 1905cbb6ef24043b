package engine

import (
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
)

// Event is one recorded test (or a change of state without one), for
// whoever watches live: the web UI's board.
type Event struct {
	MonitorID int64
	State     state.State
	Changed   bool          // the state changed
	Time      time.Time     // of the test
	RTT       time.Duration // of the test; 0 when no test ran
	Error     *probe.Error  // why it failed, nil when it passed
	Result    probe.Status  // the test's outcome; "" when no test ran
}

// events fans events out to subscribers without ever blocking the engine:
// a subscriber that does not keep up loses events (and is told so by a
// full channel) rather than delaying a test.
type events struct {
	mu   sync.Mutex
	next int
	subs map[int]chan Event
}

// Subscribe returns a channel of events with room for buf of them, and a
// function that ends the subscription (and closes the channel).
func (e *Engine) Subscribe(buf int) (<-chan Event, func()) {
	ev := &e.events
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.subs == nil {
		ev.subs = map[int]chan Event{}
	}
	id := ev.next
	ev.next++
	ch := make(chan Event, max(buf, 1))
	ev.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			ev.mu.Lock()
			defer ev.mu.Unlock()
			delete(ev.subs, id)
			close(ch)
		})
	}
}

func (e *Engine) publish(x Event) {
	ev := &e.events
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, ch := range ev.subs {
		select {
		case ch <- x:
		default: // a slow reader drops events; it never delays a test
		}
	}
}
