package metrics

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeClock runs timers when advanced, in the advancing goroutine (the
// handler's test: its engine's store is outside a synctest bubble).
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	next   int
	timers map[int]fakeTimer
}

type fakeTimer struct {
	at time.Time
	f  func()
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), timers: map[int]fakeTimer{}}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.next
	c.next++
	c.timers[id] = fakeTimer{c.now.Add(d), f}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.timers[id]
		delete(c.timers, id)
		return ok
	}
}

// AdvanceTo moves the clock to t (if it is not past it already: a render
// moves it too), running the timers due on the way at their times.
func (c *fakeClock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	for {
		id := -1
		for i, tm := range c.timers {
			if !tm.at.After(t) && (id < 0 || tm.at.Before(c.timers[id].at)) {
				id = i
			}
		}
		if id < 0 {
			break
		}
		tm := c.timers[id]
		delete(c.timers, id)
		if tm.at.After(c.now) {
			c.now = tm.at
		}
		c.mu.Unlock()
		tm.f()
		c.mu.Lock()
	}
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
}

// aheadRig is render-ahead in a synctest bubble, on its fake time (which
// moves when every goroutine of the bubble waits), whose renders take
// their costs (the last one's from then on) and run beside the scrapes,
// as on a real machine.
type aheadRig struct {
	t       *testing.T
	a       *ahead
	start   time.Time
	mu      sync.Mutex
	costs   []time.Duration
	renders int
}

func newAheadRig(t *testing.T, costs ...time.Duration) *aheadRig {
	g := &aheadRig{t: t, start: time.Now(), costs: costs}
	g.a = newAhead(realClock{}, func(w io.Writer, at time.Time) error {
		g.mu.Lock()
		g.renders++
		cost := g.costs[min(g.renders, len(g.costs))-1]
		g.mu.Unlock()
		time.Sleep(cost)
		_, err := io.WriteString(w, "exposition")
		return err
	})
	return g
}

// rendered is how many renders were made.
func (g *aheadRig) rendered() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.renders
}

// answered is one scrape: when it came, when the values it got were
// taken, and how old they could be.
type answered struct {
	came, at time.Time
	maxAge   time.Duration
	waited   time.Duration // for the render to be done
}

func (a answered) fresh() bool { return a.at.Equal(a.came) }

// scrape is key's scrape at start+at (at once if that is past).
func (g *aheadRig) scrape(at time.Duration, key string, prometheus bool) answered {
	time.Sleep(time.Until(g.start.Add(at)))
	came := time.Now()
	r := g.a.answer(key, prometheus)
	if r.err != nil || len(r.body) == 0 {
		g.t.Errorf("scrape at %v: %v %q", at, r.err, r.body)
	}
	return answered{came, r.at, r.maxAge, time.Since(came)}
}

// scraper scrapes n times, every interval from phase, in a goroutine of
// its own; wait returns its answers.
func (g *aheadRig) scraper(key string, prometheus bool, phase, every time.Duration, n int) (wait func() []answered) {
	var out []answered
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			out = append(out, g.scrape(phase+time.Duration(i)*every, key, prometheus))
		}
	}()
	return func() []answered { <-done; return out }
}

// checkAhead checks that a scrape was answered from a render made before
// it came, at most maxAge old.
func checkAhead(t *testing.T, name string, a answered) {
	t.Helper()
	if age := a.came.Sub(a.at); a.fresh() || age <= 0 || age > a.maxAge {
		t.Errorf("%s: answered from a render %v old (max %v): want one made ahead", name, age, a.maxAge)
	}
}

// checkLearned checks the answers of a scraper whose interval is known
// after learn scrapes: until then fresh, from then on made ahead.
func checkLearned(t *testing.T, learn int, as []answered) {
	t.Helper()
	for i, a := range as {
		if i >= learn {
			checkAhead(t, fmt.Sprint("scrape ", i), a)
		} else if !a.fresh() {
			t.Errorf("scrape %d: answered from a render %v old: want a fresh one (the interval is not known yet)", i, a.came.Sub(a.at))
		}
	}
}

// TestRenderAheadForPrometheus: Prometheus scraping every 15 s gets, from
// its third scrape on, a render made before its scrape and at most the
// max age old; one render a scrape, no more.
func TestRenderAheadForPrometheus(t *testing.T) {
	for _, cost := range []time.Duration{50 * time.Millisecond, 800 * time.Millisecond, 2500 * time.Millisecond, 4 * time.Second} {
		t.Run(fmt.Sprint("render=", cost), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newAheadRig(t, cost)
				const n = 40
				checkLearned(t, 2, g.scraper("10.0.0.1 Prometheus/3.0", true, 0, 15*time.Second, n)())
				if got := g.rendered(); got > n+1 {
					t.Errorf("%d renders for %d scrapes", got, n)
				}
			})
		})
	}
}

// TestRenderAheadLearnsAnyScraper: a scraper that does not say it is
// Prometheus is trusted once two of its intervals agree.
func TestRenderAheadLearnsAnyScraper(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newAheadRig(t, 300*time.Millisecond)
		checkLearned(t, 3, g.scraper("10.0.0.2 vmagent", false, 0, 30*time.Second, 10)())
	})
}

// TestRenderAheadRenderTimeVaries: renders whose time changes from one to
// the next (a loaded machine) are still made ahead, within the max age.
// The first 100,000-monitor run's third scrape was rendered ahead by the
// first render's time (4.2 s: 8.4 s ahead), then found too old by the
// second's (1.9 s: a max age of 5.7 s), and rendered again.
func TestRenderAheadRenderTimeVaries(t *testing.T) {
	for _, costs := range [][]time.Duration{
		{4200 * time.Millisecond, 1900 * time.Millisecond, 4700 * time.Millisecond, 2800 * time.Millisecond, 800 * time.Millisecond},
		{800 * time.Millisecond, 3 * time.Second, 500 * time.Millisecond, 4 * time.Second},
	} {
		t.Run(fmt.Sprint(costs), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newAheadRig(t, costs...)
				as := g.scraper("127.0.0.1 Go-http-client/1.1", true, 0, 20*time.Second, 12)()
				for i, a := range as {
					if age := a.came.Sub(a.at); age > a.maxAge {
						t.Errorf("scrape %d: a render %v old, max %v", i, age, a.maxAge)
					}
				}
				// a render slower than the last one was not done in time,
				// but was already under way: the scrape waited for it
				checkLearned(t, 2, as)
				if got := g.rendered(); got > 13 {
					t.Errorf("%d renders for 12 scrapes", got)
				}
			})
		})
	}
}

// TestRenderAheadRenderTimeAlternates: renders that take 0.6 s and 1.5 s
// by turns (a loaded machine) are planned by the slower: once one has been
// seen, no scrape waits for its render. Planned by the last render's time
// alone, a slow render after a fast one was started 1.3 s before the
// scrape and the scrape waited 0.2 s for it, every other scrape.
func TestRenderAheadRenderTimeAlternates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		costs := []time.Duration{600 * time.Millisecond, 600 * time.Millisecond}
		for range 20 {
			costs = append(costs, 1500*time.Millisecond, 600*time.Millisecond)
		}
		g := newAheadRig(t, costs...)
		as := g.scraper("10.0.0.1 Prometheus/3.0", true, 0, 15*time.Second, 16)()
		checkLearned(t, 2, as)
		// scrape 2's render is the first slow one, planned by fast ones
		for i, a := range as[3:] {
			if a.waited > 0 {
				t.Errorf("scrape %d waited %v for its render", i+3, a.waited)
			}
			if age := a.came.Sub(a.at); age > a.maxAge {
				t.Errorf("scrape %d: a render %v old, max %v", i+3, age, a.maxAge)
			}
		}
		if got := g.rendered(); got > 17 {
			t.Errorf("%d renders for 16 scrapes", got)
		}
	})
}

// TestRenderAheadTwoScrapers: two Prometheus servers (an HA pair) at
// their own phases each get renders made ahead for them; at nearly the
// same phase they share them.
func TestRenderAheadTwoScrapers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		phase      time.Duration
		maxRenders int
	}{
		{"7 s apart", 7 * time.Second, 2 * 20},
		{"200 ms apart", 200 * time.Millisecond, 20 + 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newAheadRig(t, 500*time.Millisecond)
				a := g.scraper("10.0.0.1 Prometheus/3.0", true, 0, 15*time.Second, 20)
				b := g.scraper("10.0.0.2 Prometheus/3.0", true, tc.phase, 15*time.Second, 20)
				checkLearned(t, 2, a())
				checkLearned(t, 2, b())
				if got := g.rendered(); got > tc.maxRenders {
					t.Errorf("%d renders for 40 scrapes, want at most %d", got, tc.maxRenders)
				}
			})
		})
	}
}

// TestRenderAheadStopsWithTheScrapes: once a scraper stops, at most one
// render is made for a scrape that does not come, then none.
func TestRenderAheadStopsWithTheScrapes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newAheadRig(t, 500*time.Millisecond)
		g.scraper("10.0.0.1 Prometheus/3.0", true, 0, 15*time.Second, 10)()
		time.Sleep(time.Hour)
		n := g.rendered()
		if n > 11 {
			t.Errorf("%d renders for 10 scrapes", n)
		}
		time.Sleep(24 * time.Hour)
		if g.rendered() != n {
			t.Errorf("%d renders a day after the last scrape, %d an hour after", g.rendered(), n)
		}
	})
}

// TestRenderAheadOneOffIsFresh: curl's scrape, just after a render made
// ahead for Prometheus, gets a fresh render of its own; so does a scrape
// off its scraper's schedule.
func TestRenderAheadOneOffIsFresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newAheadRig(t, 500*time.Millisecond)
		const prom = "10.0.0.1 Prometheus/3.0"
		g.scraper(prom, true, 0, 15*time.Second, 5)()
		// Prometheus' next scrape is due at 75 s: its render is done by 74 s
		if a := g.scrape(74500*time.Millisecond, "127.0.0.1 curl/8.5.0", false); !a.fresh() {
			t.Errorf("curl got a render %v old: want a fresh one", a.came.Sub(a.at))
		}
		// and Prometheus is still answered from a render made ahead
		checkAhead(t, "Prometheus after curl", g.scrape(75*time.Second, prom, true))
		if a := g.scrape(81*time.Second, prom, true); !a.fresh() {
			t.Errorf("a scrape 6 s into a 15 s interval got a render %v old: want a fresh one", a.came.Sub(a.at))
		}
	})
}

// TestRenderAheadSlowerThanTheInterval: a render that takes longer than
// a third of the interval is not made ahead (too little time would be left
// between renders): no more renders than scrapes, none after them, and no
// answer older than its max age (3 × a render's time).
func TestRenderAheadSlowerThanTheInterval(t *testing.T) {
	for _, cost := range []time.Duration{6 * time.Second, 20 * time.Second} {
		t.Run(fmt.Sprint("render=", cost), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newAheadRig(t, cost)
				for i, a := range g.scraper("10.0.0.1 Prometheus/3.0", true, 0, 15*time.Second, 8)() {
					if age := a.came.Sub(a.at); age > a.maxAge {
						t.Errorf("scrape %d: a render %v old, max %v", i, age, a.maxAge)
					}
				}
				time.Sleep(time.Hour)
				if got := g.rendered(); got > 8 {
					t.Errorf("%d renders for 8 scrapes", got)
				}
			})
		})
	}
}

// TestRenderAheadThroughTheHandler: Prometheus' third scrape through the
// handler is answered from the render made ahead of it, which is what a
// render on demand of the same state writes, with its time in
// mailmon_metrics_rendered_timestamp_seconds; curl's, meanwhile, from a
// render of its own.
func TestRenderAheadThroughTheHandler(t *testing.T) {
	e := testedEngine(t, 30)
	reg := prometheus.NewRegistry()
	reg.MustRegister(Collector{Engine: e}) // not the Go runtime's: they change from one render to the next
	c := newFakeClock()
	start := c.Now()
	h := newHandler(e, reg, Options{RenderAhead: true}, c)
	get := func(at time.Duration, addr, ua string) (string, http.Header) {
		t.Helper()
		c.AdvanceTo(start.Add(at))
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = addr
		req.Header.Set("User-Agent", ua)
		req.Header.Set("Accept-Encoding", "gzip")
		if strings.HasPrefix(ua, "Prometheus") {
			req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("Content-Length") != fmt.Sprint(rec.Body.Len()) {
			t.Fatalf("HTTP %d, headers %v", rec.Code, rec.Header())
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), rec.Header()
	}
	renderedAt := func(text string) time.Time {
		t.Helper()
		_, v, ok := strings.Cut(text, "\n"+renderedName+" ")
		if !ok {
			t.Fatalf("no %s in\n%s", renderedName, text)
		}
		v, _, _ = strings.Cut(v, "\n")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		return time.UnixMilli(int64(math.Round(f * 1e3)))
	}
	const prom = "Prometheus/3.0.1"
	for _, at := range []time.Duration{0, 15 * time.Second} {
		if text, _ := get(at, "10.0.0.1:40001", prom); !renderedAt(text).Equal(start.Add(at)) {
			t.Errorf("scrape at %v: rendered at %v, want a fresh render", at, renderedAt(text).Sub(start))
		}
	}
	text, _ := get(30*time.Second, "10.0.0.1:40002", prom) // a new connection
	at := renderedAt(text)
	if age := start.Add(30 * time.Second).Sub(at); age <= 0 || age > minAge {
		t.Fatalf("the third scrape got a render %v old, want one made ahead, at most %v", age, minAge)
	}
	var want bytes.Buffer
	if err := h.render(&want, false, at); err != nil {
		t.Fatal(err)
	}
	if text != want.String() {
		t.Errorf("the render made ahead differs from one on demand:\n%s", lineDiff(want.String(), text))
	}
	if curl, _ := get(30*time.Second+500*time.Millisecond, "127.0.0.1:50000", "curl/8.5.0"); !renderedAt(curl).Equal(c.Now()) {
		t.Errorf("curl got a render from %v, want a fresh one", renderedAt(curl).Sub(start))
	}
}

// TestRenderAheadConcurrentScrapes: scrapes at once, with render-ahead on,
// each get the whole exposition (go test -race).
func TestRenderAheadConcurrentScrapes(t *testing.T) {
	h := Handler(testedEngine(t, 20), Options{RenderAhead: true})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.RemoteAddr = fmt.Sprintf("10.0.0.%d:1234", i%2)
			if i%3 != 0 {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var body io.Reader = rec.Body
			if rec.Header().Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Error(err)
					return
				}
				body = zr
			}
			b, err := io.ReadAll(body)
			if err != nil || !strings.Contains(string(b), `mailmon_monitor_up{device="mail1",monitor="smtp-19",type="smtp"} 1`) || !strings.Contains(string(b), "\n"+renderedName+" ") {
				t.Errorf("scrape %d: %v\n%s", i, err, b)
			}
		})
	}
	wg.Wait()
}
