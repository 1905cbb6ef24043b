package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/mailmon/mailmon/internal/bench/farm"
)

// answerGoal is goal 3's bound on the board's and /metrics' answers.
const answerGoal = 200 * time.Millisecond

// maxBody caps what is read of one answer (/metrics at 100,000 monitors is
// tens of MiB uncompressed).
const maxBody = 1 << 30

// endpoint is one of serve's answers fetched while a run is measured, as
// its usual client asks for it.
type endpoint struct {
	name   string
	client *http.Client
	req    func() *http.Request
	// body holds an answer, from one fetch to the next: Prometheus reads
	// a scrape into a buffer of the last one's size, from a pool. Read
	// into a new bytes.Buffer, the 7 MB of /metrics at 100,000 monitors
	// grew it from 512 bytes, 16 MB allocated and zeroed, which the
	// answer's time counted (46-118 ms of the fetcher's outside its
	// reads in a run at 100,000 lean, load 7-8).
	body *bytes.Buffer
}

// endpoints are /metrics as Prometheus scrapes it (the text format,
// gzip, the bearer token /metrics takes), the web board's first page as a
// logged-in browser loads it, and the API's first page of monitors.
func endpoints(base, token string, web *http.Client) []endpoint {
	api := &http.Client{Timeout: 30 * time.Second}
	get := func(path string, h http.Header) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest("GET", base+path, nil)
			r.Header = h.Clone()
			return r
		}
	}
	bearer := "Bearer " + token
	return []endpoint{
		{name: "/metrics", client: api, req: get("/metrics", http.Header{"Authorization": {bearer},
			// Set by hand, the transport leaves the body compressed: its
			// size is what goes over the wire, as to Prometheus.
			"Accept-Encoding": {"gzip"},
			"Accept":          {"text/plain;version=0.0.4;q=1,*/*;q=0.1"},
			// as Prometheus says its scrape's timeout: serve then knows
			// a steady scraper from its first interval (render-ahead)
			"X-Prometheus-Scrape-Timeout-Seconds": {"10"}}), body: new(bytes.Buffer)},
		{name: "board /", client: web, req: get("/", http.Header{"Accept": {"text/html"}}), body: new(bytes.Buffer)},
		{name: "GET /api/v1/monitors", client: api, req: get("/api/v1/monitors", http.Header{"Authorization": {bearer}}), body: new(bytes.Buffer)},
	}
}

// fetch is one answer: its whole time, to the last byte, and its size
// (gzipped: also unzipped, after the time is taken).
type fetch struct {
	took     time.Duration
	bytes    int64
	encoding string
	unzipped int64
	// age is how old /metrics' values were when it was asked
	// (mailmon_metrics_rendered_timestamp_seconds; 0: not said)
	age time.Duration
	err error
}

func (e endpoint) fetch() fetch {
	t0 := time.Now()
	resp, err := e.client.Do(e.req())
	if err != nil {
		return fetch{took: time.Since(t0), err: err}
	}
	defer resp.Body.Close()
	body := e.body
	body.Reset()
	n, err := io.Copy(body, io.LimitReader(resp.Body, maxBody+1))
	f := fetch{took: time.Since(t0), bytes: n, encoding: resp.Header.Get("Content-Encoding"), err: err}
	switch {
	case err != nil:
	case n > maxBody:
		f.err = fmt.Errorf("the answer is over %d bytes", maxBody)
	case resp.StatusCode != http.StatusOK:
		f.err = fmt.Errorf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Location"))
	case f.encoding == "gzip":
		var rendered time.Time
		f.unzipped, rendered, f.err = unzipped(body)
		if !rendered.IsZero() {
			f.age = t0.Sub(rendered)
		}
	}
	return f
}

// unzipped is the size of a gzipped answer once unzipped (at most
// maxBody), and the time its mailmon_metrics_rendered_timestamp_seconds
// says (zero: none).
func unzipped(r io.Reader) (int64, time.Time, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("gzip: %w", err)
	}
	var w renderedLine
	n, err := io.Copy(&w, io.LimitReader(zr, maxBody+1))
	if err == nil && n > maxBody {
		err = fmt.Errorf("the answer unzips to over %d bytes", maxBody)
	}
	return n, w.at, err
}

// renderedLine finds the line "mailmon_metrics_rendered_timestamp_seconds
// V" in what is written to it, and keeps V as a time.
type renderedLine struct {
	tail []byte // the end of the last write: a line may span two
	at   time.Time
}

func (w *renderedLine) Write(p []byte) (int, error) {
	const name = "\nmailmon_metrics_rendered_timestamp_seconds "
	if !w.at.IsZero() {
		return len(p), nil
	}
	b := append(w.tail, p...)
	if i := bytes.Index(b, []byte(name)); i >= 0 {
		if v, _, ok := bytes.Cut(b[i+len(name):], []byte("\n")); ok {
			if f, err := strconv.ParseFloat(string(v), 64); err == nil {
				w.at = time.UnixMilli(int64(f * 1e3))
			}
		}
	}
	w.tail = append(w.tail[:0], b[max(0, len(b)-256):]...)
	return len(p), nil
}

// slot is when, from serve's start, an endpoint is fetched.
type slot struct {
	at       time.Duration
	endpoint int
}

// schedule spreads n endpoints' fetches over a run of dur: each endpoint
// once every period, none at the start (serve's start-up is measured
// apart: the answers are those of a daemon at work), the endpoints a
// period/n apart so that no two answers are built at once.
func schedule(dur, period time.Duration, n int) []slot {
	var s []slot
	if period <= 0 || n == 0 {
		return nil
	}
	for k := time.Duration(1); k*period < dur; k++ {
		for e := 0; e < n; e++ {
			if at := k*period + time.Duration(e)*period/time.Duration(n); at < dur {
				s = append(s, slot{at, e})
			}
		}
	}
	return s
}

// sample fetches the endpoints (names; do fetches the i-th) at their
// slots from start, until the slots run out or stop closes; it returns
// each endpoint's fetches.
func sample(names []string, do func(i int) fetch, start time.Time, slots []slot, stop <-chan struct{}) [][]fetch {
	out := make([][]fetch, len(names))
	for _, s := range slots {
		t := time.NewTimer(time.Until(start.Add(s.at)))
		select {
		case <-stop:
			t.Stop()
			return out
		case <-t.C:
		}
		f := do(s.endpoint)
		if f.age != 0 {
			fmt.Printf("  %s at %v: %v, values %v old\n", names[s.endpoint], s.at, f.took.Round(time.Millisecond), f.age.Round(time.Millisecond))
		}
		out[s.endpoint] = append(out[s.endpoint], f)
	}
	return out
}

// answers is the summary of one endpoint's fetches.
// steadyMetrics names /metrics' answers from the benchmark's third scrape
// on: serve learns a scraper's interval from its first two (the Prometheus
// header says it is one after the first) and renders ahead of the rest
// (docs/prometheus.md); the first two are rendered as they come.
const steadyMetrics = "/metrics, 3rd scrape on"

// steady are the fetches from the third on.
func steady(fs []fetch) []fetch {
	if len(fs) <= 2 {
		return nil
	}
	return fs[2:]
}

type answers struct {
	name          string
	n, errs       int
	firstErr      string
	p50, max      time.Duration
	bytes         int64 // the largest answer
	encoding      string
	unzipped      int64 // the largest answer unzipped, when gzipped
	measured, met bool  // met: every answer within answerGoal
}

func summarize(name string, fs []fetch) answers {
	a := answers{name: name, n: len(fs)}
	var took []time.Duration
	for _, f := range fs {
		if f.err != nil {
			a.errs++
			if a.firstErr == "" {
				a.firstErr = f.err.Error()
			}
			continue
		}
		took = append(took, f.took)
		a.bytes, a.unzipped = max(a.bytes, f.bytes), max(a.unzipped, f.unzipped)
		if f.encoding != "" {
			a.encoding = f.encoding
		}
	}
	if len(took) > 0 {
		a.p50, a.max = farm.Percentile(took, 50), slices.Max(took)
	}
	a.measured = len(took) > 0 && a.errs == 0
	a.met = a.measured && a.max < answerGoal
	return a
}
