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
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeClock runs timers when advanced, in the advancing goroutine.
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

func (c *fakeClock) Advance(d time.Duration) { c.AdvanceTo(c.Now().Add(d)) }

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// aheadRig is render-ahead on a fake clock whose renders take cost.
type aheadRig struct {
	t       *testing.T
	clock   *fakeClock
	a       *ahead
	start   time.Time
	cost    time.Duration
	renders int
}

func newAheadRig(t *testing.T, cost time.Duration) *aheadRig {
	g := &aheadRig{t: t, clock: newFakeClock(), cost: cost}
	g.start = g.clock.Now()
	g.a = newAhead(g.clock, func(w io.Writer, at time.Time) error {
		g.renders++
		g.clock.Advance(g.cost)
		_, err := fmt.Fprintf(w, "render %d at %v", g.renders, at.Sub(g.start))
		return err
	})
	return g
}

// answered is one scrape: when it came, when the values it got were
// taken, and how old they could be.
type answered struct {
	came, at time.Time
	maxAge   time.Duration
}

func (a answered) fresh() bool { return a.at.Equal(a.came) }

// scrape is key's scrape at start+at (later, if a render holds the
// clock past it).
func (g *aheadRig) scrape(at time.Duration, key string, prometheus bool) answered {
	g.t.Helper()
	g.clock.AdvanceTo(g.start.Add(at))
	came := g.clock.Now()
	r := g.a.answer(key, prometheus)
	if r.err != nil || len(r.body) == 0 {
		g.t.Fatalf("scrape at %v: %v %q", at, r.err, r.body)
	}
	return answered{came, r.at, r.maxAge}
}

// checkAhead checks that a scrape was answered from a render made before
// it came, at most maxAge old.
func checkAhead(t *testing.T, name string, a answered) {
	t.Helper()
	if age := a.came.Sub(a.at); a.fresh() || age <= 0 || age > a.maxAge {
		t.Errorf("%s: answered from a render %v old (max %v): want one made ahead", name, age, a.maxAge)
	}
}

// checkLearned checks the i-th scrape of a scraper whose interval is
// known after learn scrapes: until then fresh, from then on made ahead.
func checkLearned(t *testing.T, i, learn int, a answered) {
	t.Helper()
	if i >= learn {
		checkAhead(t, fmt.Sprint("scrape ", i), a)
	} else if !a.fresh() {
		t.Errorf("scrape %d: answered from a render %v old: want a fresh one (the interval is not known yet)", i, a.came.Sub(a.at))
	}
}

// TestRenderAheadForPrometheus: Prometheus scraping every 15 s gets, from
// its third scrape on, a render made before its scrape and at most the
// max age old; one render a scrape, no more.
func TestRenderAheadForPrometheus(t *testing.T) {
	for _, cost := range []time.Duration{50 * time.Millisecond, 800 * time.Millisecond, 2500 * time.Millisecond} {
		t.Run(fmt.Sprint("render=", cost), func(t *testing.T) {
			g := newAheadRig(t, cost)
			const n = 40
			for i := range n {
				checkLearned(t, i, 2, g.scrape(time.Duration(i)*15*time.Second, "10.0.0.1 Prometheus/3.0", true))
			}
			if g.renders > n+1 {
				t.Errorf("%d renders for %d scrapes", g.renders, n)
			}
		})
	}
}

// TestRenderAheadLearnsAnyScraper: a scraper that does not say it is
// Prometheus is trusted once two of its intervals agree.
func TestRenderAheadLearnsAnyScraper(t *testing.T) {
	g := newAheadRig(t, 300*time.Millisecond)
	for i := range 10 {
		checkLearned(t, i, 3, g.scrape(time.Duration(i)*30*time.Second, "10.0.0.2 vmagent", false))
	}
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
			g := newAheadRig(t, 500*time.Millisecond)
			for i := range 20 {
				at := time.Duration(i) * 15 * time.Second
				a := g.scrape(at, "10.0.0.1 Prometheus/3.0", true)
				b := g.scrape(at+tc.phase, "10.0.0.2 Prometheus/3.0", true)
				if i >= 2 {
					checkAhead(t, fmt.Sprint("A's scrape ", i), a)
					checkAhead(t, fmt.Sprint("B's scrape ", i), b)
				}
			}
			if g.renders > tc.maxRenders {
				t.Errorf("%d renders for 40 scrapes, want at most %d", g.renders, tc.maxRenders)
			}
		})
	}
}

// TestRenderAheadStopsWithTheScrapes: once a scraper stops, at most one
// render is made for a scrape that does not come, then none.
func TestRenderAheadStopsWithTheScrapes(t *testing.T) {
	g := newAheadRig(t, 500*time.Millisecond)
	for i := range 10 {
		g.scrape(time.Duration(i)*15*time.Second, "10.0.0.1 Prometheus/3.0", true)
	}
	g.clock.Advance(24 * time.Hour)
	if g.renders > 11 {
		t.Errorf("%d renders for 10 scrapes", g.renders)
	}
	if n := g.clock.pending(); n != 0 {
		t.Errorf("%d renders still scheduled a day after the last scrape", n)
	}
}

// TestRenderAheadOneOffIsFresh: curl's scrape, just after a render made
// ahead for Prometheus, gets a fresh render of its own.
func TestRenderAheadOneOffIsFresh(t *testing.T) {
	g := newAheadRig(t, 500*time.Millisecond)
	for i := range 5 {
		g.scrape(time.Duration(i)*15*time.Second, "10.0.0.1 Prometheus/3.0", true)
	}
	// Prometheus' next scrape is due at 75 s: its render is done by 74 s
	if a := g.scrape(74500*time.Millisecond, "127.0.0.1 curl/8.5.0", false); !a.fresh() {
		t.Errorf("curl got a render %v old: want a fresh one", a.came.Sub(a.at))
	}
	// and Prometheus is still answered from a render made ahead
	checkAhead(t, "Prometheus after curl", g.scrape(75*time.Second, "10.0.0.1 Prometheus/3.0", true))
	// a scrape off its schedule is answered fresh
	if a := g.scrape(81*time.Second, "10.0.0.1 Prometheus/3.0", true); !a.fresh() {
		t.Errorf("a scrape 6 s into a 15 s interval got a render %v old: want a fresh one", a.came.Sub(a.at))
	}
}

// TestRenderAheadSlowerThanTheInterval: a render that takes longer than
// the interval is not made ahead (renders would never stop): nothing is
// scheduled, no more renders than scrapes are made, and no answer is older
// than its max age (3 × the render's time: a fresh render would be as old
// by the time it is done).
func TestRenderAheadSlowerThanTheInterval(t *testing.T) {
	g := newAheadRig(t, 20*time.Second)
	for i := range 8 {
		a := g.scrape(time.Duration(i)*15*time.Second, "10.0.0.1 Prometheus/3.0", true)
		if age := a.came.Sub(a.at); age > a.maxAge {
			t.Errorf("scrape %d: a render %v old, max %v", i, age, a.maxAge)
		}
		if n := g.clock.pending(); n != 0 {
			t.Errorf("scrape %d: %d renders scheduled", i, n)
		}
	}
	if g.renders > 8 {
		t.Errorf("%d renders for 8 scrapes", g.renders)
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
