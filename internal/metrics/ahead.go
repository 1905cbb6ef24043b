package metrics

import (
	"bytes"
	"io"
	"slices"
	"sync"
	"time"
)

// Render-ahead. At 100,000 monitors a gzipped exposition takes ~0.27 s of
// CPU to make, ~0.85 s of wall time on a busy 2-core machine: longer than
// Prometheus should wait. But Prometheus scrapes a target at a fixed
// interval, so the daemon learns each scraper's interval from its scrapes
// and renders the exposition shortly before the next one is due: the scrape
// is answered from that render, at most maxAge old. Still one render per
// scrape: a render ahead is scheduled by a scrape, for the next one, and a
// scraper that stops gets at most one more.

// Bounds of what render-ahead trusts.
const (
	// minAge is the floor of an answer's max age (3 × a render's time
	// above it): a fast render is made about a second before the scrape.
	minAge = 2 * time.Second
	// Intervals outside these are not rendered ahead for.
	minInterval = 3 * time.Second
	maxInterval = time.Hour
	// maxScrapers caps the scrapers remembered; the one heard from longest
	// ago is forgotten for a new one.
	maxScrapers = 64
)

// clock is the time render-ahead runs on (a fake one in tests).
type clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d; stop cancels it.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// rendering is one gzipped exposition, made or being made.
type rendering struct {
	at time.Time // when it started: its values are at least this recent
	// maxAge is the oldest it may be when it answers a scrape: max(minAge,
	// 3 × the longest of the last renders' times).
	maxAge time.Duration
	done   chan struct{} // closed once body and err are set
	body   []byte
	err    error
}

// scraper is what is known of one scraper (an address and User-Agent).
type scraper struct {
	last     time.Time     // its last scrape
	interval time.Duration // between its last two scrapes
	steady   bool          // its interval is known: it scrapes every interval
	stop     func() bool   // cancels the render ahead of its next scrape
	gen      int           // its scrapes: a render ahead is for the scrape after one
}

// ahead answers gzipped scrapes, from a render made ahead when the scraper
// is steady and the render recent enough, else from a fresh one.
type ahead struct {
	clock  clock
	render func(w io.Writer, at time.Time) error // writes a gzipped exposition

	mu       sync.Mutex
	scrapers map[string]*scraper
	latest   *rendering // the render started last
	// took is how long the last renders took, the latest at
	// took[renders%len(took)]
	took    [renderTimes]time.Duration
	renders int
	size    int // the last one's size, to size the next one's buffer
}

// renderTimes is how many of the last renders' times render-ahead plans
// by (the longest of them): on a loaded machine a render's time varies
// from one to the next, and one planned by a fast render's time was not
// done when the scrape came (a 100,000-monitor run: 1.24 s, then 2.87 s;
// the scrape waited 0.73 s for it).
const renderTimes = 3

func newAhead(c clock, render func(w io.Writer, at time.Time) error) *ahead {
	return &ahead{clock: c, render: render, scrapers: map[string]*scraper{}}
}

// renderTime is what a render is expected to take: the longest of the
// last renderTimes. Held with a.mu.
func (a *ahead) renderTime() time.Duration { return slices.Max(a.took[:]) }

// maxAge is the oldest an answer from a render started now may be:
// max(minAge, 3 × renderTime). Held with a.mu.
func (a *ahead) maxAge() time.Duration { return max(minAge, 3*a.renderTime()) }

// lead is how long before a scrape is due its render starts: halfway
// between the render's own time (it must be done) and maxAge (it must not
// be too old if the scrape is a little late). Held with a.mu.
func (a *ahead) lead() time.Duration { return (a.maxAge() + a.renderTime()) / 2 }

// tolerance is how far from its interval a scrape may come and still be
// on time: a tenth of it, at least a second (a scrape's arrival moves
// with the load of both machines).
func tolerance(interval time.Duration) time.Duration {
	return max(time.Second, interval/10)
}

func near(a, b time.Duration) bool { return (a - b).Abs() <= tolerance(b) }

// answer is the gzipped exposition for a scrape from key; prometheus says
// the request is Prometheus' (X-Prometheus-Scrape-Timeout-Seconds), whose
// interval one pair of scrapes tells (it scrapes on a fixed tick). The
// rendering returned is done.
func (a *ahead) answer(key string, prometheus bool) *rendering {
	now := a.clock.Now()
	a.mu.Lock()
	s := a.scrapers[key]
	// on time: not early (not another client behind the same address);
	// late is fine, the render's max age bounds how old the answer is
	onTime := s != nil && s.steady && now.Sub(s.last) >= s.interval-tolerance(s.interval)
	a.learn(key, s, now, prometheus)
	if r := a.latest; onTime && r != nil && now.Sub(r.at) <= r.maxAge {
		a.mu.Unlock()
		<-r.done // a render ahead may still be under way
		if r.err == nil {
			return r
		}
		a.mu.Lock()
	}
	r := a.begin(a.clock.Now())
	a.mu.Unlock()
	a.run(r)
	return r
}

// learn notes key's scrape at now (s: what was known of key, or nil) and
// schedules the render ahead of its next. Held with a.mu.
func (a *ahead) learn(key string, s *scraper, now time.Time, prometheus bool) {
	a.forget(now)
	if s == nil {
		if len(a.scrapers) >= maxScrapers {
			a.forgetOldest()
		}
		a.scrapers[key] = &scraper{last: now}
		return
	}
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	iv := now.Sub(s.last)
	s.steady = iv >= minInterval && iv <= maxInterval && (prometheus || (s.interval > 0 && near(iv, s.interval)))
	s.last, s.interval = now, iv
	s.gen++
	// the render for the next scrape starts lead before it (2 × a render's
	// time, past a third of a second): when a render takes more than a
	// third of the interval there is too little time left between renders,
	// and scrapes are answered as they come
	if lead := a.lead(); s.steady && 3*lead < 2*iv {
		gen := s.gen
		s.stop = a.clock.AfterFunc(iv-lead, func() { a.renderAhead(key, s, gen) })
	}
}

// forget drops the scrapers not heard from in three of their intervals (or
// ten minutes, before an interval is known). Held with a.mu.
func (a *ahead) forget(now time.Time) {
	for key, s := range a.scrapers {
		quiet := 10 * time.Minute
		if s.interval > 0 {
			quiet = 3 * s.interval
		}
		if now.Sub(s.last) > quiet {
			a.drop(key, s)
		}
	}
}

func (a *ahead) forgetOldest() {
	var oldest string
	for key, s := range a.scrapers {
		if oldest == "" || s.last.Before(a.scrapers[oldest].last) {
			oldest = key
		}
	}
	a.drop(oldest, a.scrapers[oldest])
}

func (a *ahead) drop(key string, s *scraper) {
	if s.stop != nil {
		s.stop()
	}
	delete(a.scrapers, key)
}

// renderAhead renders for the scrape of s after its gen-th, unless a
// render started since will be recent enough for it.
func (a *ahead) renderAhead(key string, s *scraper, gen int) {
	now := a.clock.Now()
	a.mu.Lock()
	if a.scrapers[key] != s || s.gen != gen {
		a.mu.Unlock() // forgotten, or scraped meanwhile
		return
	}
	s.stop = nil
	due := s.last.Add(s.interval)
	if start := due.Add(-a.lead()); now.Before(start) {
		// renders got faster since it was scheduled: started now, this
		// one would be older than its max age when the scrape comes
		s.stop = a.clock.AfterFunc(start.Sub(now), func() { a.renderAhead(key, s, gen) })
		a.mu.Unlock()
		return
	}
	if r := a.latest; r != nil && due.Sub(r.at) <= min(r.maxAge, (r.maxAge+a.lead())/2) {
		a.mu.Unlock() // another scraper's, at nearly the same phase
		return
	}
	r := a.begin(now)
	a.mu.Unlock()
	a.run(r)
}

// begin starts a rendering at now. Held with a.mu.
func (a *ahead) begin(now time.Time) *rendering {
	r := &rendering{at: now, maxAge: a.maxAge(), done: make(chan struct{})}
	a.latest = r
	return r
}

// run makes r.
func (a *ahead) run(r *rendering) {
	a.mu.Lock()
	size := a.size
	a.mu.Unlock()
	var b bytes.Buffer
	b.Grow(size + size/8)
	r.err = a.render(&b, r.at)
	r.body = b.Bytes()
	took := a.clock.Now().Sub(r.at)
	a.mu.Lock()
	a.renders++
	a.took[a.renders%renderTimes], a.size = took, len(r.body)
	a.mu.Unlock()
	close(r.done)
}
