package alert

import (
	"time"

	"golang.org/x/time/rate"
)

// limiter rate-limits each alert action with a token bucket
// (golang.org/x/time/rate): a burst, then one notification every `every`.
// Over the limit, notifications wait in the outbox; none is dropped, so no
// recovery notice is lost. It belongs to the outbox goroutine.
type limiter struct {
	every   time.Duration
	burst   int
	byAlert map[int64]*rate.Limiter
}

func newLimiter(every time.Duration, burst int) *limiter {
	return &limiter{every: every, burst: burst, byAlert: map[int64]*rate.Limiter{}}
}

// allow takes a token of alertID's bucket at now (the outbox's clock), if
// one is left.
func (l *limiter) allow(alertID int64, now time.Time) bool {
	b, ok := l.byAlert[alertID]
	if !ok {
		b = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.byAlert[alertID] = b
	}
	return b.AllowN(now, 1)
}
