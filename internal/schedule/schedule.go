// Package schedule runs each monitor's test at its own interval: start times
// spread so that thousands of monitors do not fire together, a global cap on
// tests in flight, and no test, however slow, hung or panicking, able to
// delay another monitor's. A monitor is never tested twice at once.
package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailmon/mailmon/internal/schedule/phase"
)

// Test runs one test of monitor id and returns how long to wait before the
// next one (the interval of the state the test left it in). It must honour
// ctx; the scheduler also bounds it by the limit given to Add.
type Test func(ctx context.Context, id int64) (next time.Duration)

// TimedTest is a Test that bounds itself: it must end by deadline (the
// test's start plus the limit given to Add; zero: no limit), for which the
// scheduler gives it no context of its own. A test that runs parts under
// different deadlines (a probe under its timeout, then its recording under
// the limit) can then derive each from ctx directly instead of nesting one
// context with a timer in another.
type TimedTest func(ctx context.Context, id int64, deadline time.Time) (next time.Duration)

// Scheduler is the dispatcher. Create it with New or NewTimed, start it
// with Run.
type Scheduler struct {
	test  TimedTest
	sem   chan struct{}
	now   func() time.Time
	log   *slog.Logger
	wake  chan struct{}
	mu    sync.Mutex
	jobs  map[int64]*job
	queue queue

	inFlight atomic.Int64
	started  atomic.Int64
	lags     lagRing
	warned   time.Time // the last slotsFull warning; Run's own

	epoch time.Time // jobs keep their due time as an offset from it
}

// job is one monitor scheduled. Its due time is an offset from the
// scheduler's epoch, not a time.Time, whose Location is a pointer: a job
// is pointer-free, 48 B (it was 64 B), and the collector does not scan
// the 100,000 of them.
type job struct {
	id      int64
	at      time.Duration // when it is due, from the epoch (Scheduler.since)
	limit   time.Duration // the test's maximum duration
	index   int           // in the queue; -1 when not queued
	running bool
	removed bool
	moved   bool // Add while running: its due time wins over the test's
}

// since is t as an offset from the epoch (job.at): with the monotonic
// clock when both have it, as time.Time's own Sub and Before.
func (s *Scheduler) since(t time.Time) time.Duration { return t.Sub(s.epoch) }

// New returns a scheduler running at most maxInFlight tests at once.
func New(test Test, maxInFlight int, log *slog.Logger) *Scheduler {
	return NewTimed(bounded(test), maxInFlight, log)
}

// bounded is test under a context that ends at the deadline.
func bounded(test Test) TimedTest {
	return func(ctx context.Context, id int64, deadline time.Time) time.Duration {
		if !deadline.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
		return test(ctx, id)
	}
}

// NewTimed returns a scheduler of tests that bound themselves, running at
// most maxInFlight at once.
func NewTimed(test TimedTest, maxInFlight int, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{
		test: test, sem: make(chan struct{}, maxInFlight), now: time.Now, log: log,
		wake: make(chan struct{}, 1), jobs: map[int64]*job{}, epoch: time.Now(),
	}
}

// Spread returns when a monitor that has just been added should first run:
// the monitor's own place in the interval (an offset derived from its id,
// counted from the Unix epoch, as Next keeps it), so that start times are
// spread evenly and stay the same across restarts.
func Spread(id int64, interval time.Duration, now time.Time) time.Time {
	if interval <= 0 {
		return now
	}
	d := offset(id, interval) - time.Duration(now.UnixNano()%int64(interval))
	if d < 0 {
		d += interval
	}
	return now.Add(d)
}

func offset(id int64, interval time.Duration) time.Duration { return phase.Offset(id, interval) }

// Next returns when a monitor whose test started at start should next be
// tested, interval later: at the monitor's own place in the interval (an
// offset derived from its id, counted from the Unix epoch), the first such
// place at least half an interval after start. Monitors first tested
// together (all new at start-up, say) thus drift apart within one interval
// and then keep an even spread, rather than testing in a burst each time.
func Next(id int64, start time.Time, interval time.Duration) time.Time {
	if interval <= 0 {
		return start
	}
	phase := time.Duration(start.UnixNano() % int64(interval))
	due := start.Add(offset(id, interval) - phase)
	for due.Before(start.Add(interval / 2)) {
		due = due.Add(interval)
	}
	return due
}

// Add schedules monitor id (or moves it) to run at due, each test bounded by
// limit. A monitor being tested now keeps its place: its next run is set
// when the test ends.
func (s *Scheduler) Add(id int64, due time.Time, limit time.Duration) {
	s.mu.Lock()
	j, ok := s.jobs[id]
	if !ok {
		j = &job{id: id, index: -1}
		s.jobs[id] = j
	}
	j.at, j.limit, j.removed = s.since(due), limit, false
	if j.running {
		j.moved = true
	} else {
		if j.index >= 0 {
			s.queue.fix(j.index)
		} else {
			s.queue.push(j)
		}
	}
	s.mu.Unlock()
	s.poke()
}

// Remove stops scheduling monitor id. A test in flight finishes.
func (s *Scheduler) Remove(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return
	}
	j.removed = true
	if j.index >= 0 {
		s.queue.remove(j.index)
	}
	if !j.running { // a running job is forgotten when its test ends
		delete(s.jobs, id)
	}
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run dispatches tests until ctx ends, then waits for those in flight.
// A test in flight is not cut short when ctx ends (a daemon stopping): it
// runs on to its own limit, so that its result, and the notifications it
// calls for, are stored rather than lost or recorded as failures of the
// shutdown's making.
func (s *Scheduler) Run(ctx context.Context) {
	tests := context.WithoutCancel(ctx) // one for every test
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r, wait := s.next()
		j := r.job
		if j == nil {
			timer.Reset(tick(s.now(), wait))
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-timer.C:
			}
			continue
		}
		// A slot for the test; while all are taken, due tests wait here
		// (and the wait shows as lag), but none waits behind a slow one
		// once a slot frees.
		select {
		case s.sem <- struct{}{}:
		default:
			s.slotsFull(j)
			select {
			case s.sem <- struct{}{}:
			case <-ctx.Done():
				s.requeue(j, r.due)
				return
			}
		}
		start := s.now()
		s.lags.add(start.Sub(r.due))
		s.inFlight.Add(1)
		s.started.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := s.runOne(tests, r, start)
			<-s.sem
			s.inFlight.Add(-1)
			// Keep the monitor's place in the interval, but never
			// schedule into the past when a test outlasted its interval.
			due := Next(j.id, start, next)
			if now := s.now(); due.Before(now) {
				due = now
			}
			s.requeue(j, due)
		}()
	}
}

// batch is the grain of Run's wake-ups: it sleeps until the end of the
// batch-long slice of time the next test is due in, and starts every test
// due by then at once.
const batch = 10 * time.Millisecond

// tick is how long Run sleeps, from now, for a test due in wait: until the
// end of its batch.
func tick(now time.Time, wait time.Duration) time.Duration {
	at := now.Add(wait)
	end := at.Truncate(batch)
	if end.Before(at) {
		end = end.Add(batch)
	}
	return end.Sub(now)
}

// slotsFull warns, at most once a minute, that due tests wait because every
// slot is taken: usually by tests of servers that do not answer, each
// holding its slot for its maximum duration.
func (s *Scheduler) slotsFull(j *job) {
	now := s.now()
	if now.Sub(s.warned) < time.Minute {
		return
	}
	s.warned = now
	s.log.Warn("every test slot is taken: due tests wait (raise --max-in-flight above the tests that can hang at once, about monitors × max duration ÷ interval)",
		"max_in_flight", cap(s.sem), "monitor", j.id)
}

// run is a job taken to be run: its due time and limit as they were when it
// was taken. Add may change the job's own while its test runs (under s.mu,
// which the test's goroutine does not hold), so Run and the test read these.
type run struct {
	job   *job
	due   time.Time
	limit time.Duration
}

// next pops the first due job, or says how long until one is due (and
// returns a run with no job).
func (s *Scheduler) next() (run, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return run{}, time.Hour
	}
	j := s.queue.first()
	if wait := j.at - s.since(s.now()); wait > 0 {
		return run{}, wait
	}
	s.queue.pop()
	j.running = true
	return run{job: j, due: s.epoch.Add(j.at), limit: j.limit}, 0
}

func (s *Scheduler) requeue(j *job, due time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j.running = false
	if j.removed {
		delete(s.jobs, j.id)
		return
	}
	if !j.moved {
		j.at = s.since(due)
	}
	j.moved = false
	s.queue.push(j)
	s.poke()
}

// runOne runs a test started at start within its limit; a panic is a
// failed test of that monitor alone, retried after a minute.
func (s *Scheduler) runOne(ctx context.Context, r run, start time.Time) (next time.Duration) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("test panicked", "monitor", r.job.id, "panic", fmt.Sprint(p))
			next = time.Minute
		}
	}()
	var deadline time.Time
	if r.limit > 0 {
		deadline = start.Add(r.limit)
	}
	next = s.test(ctx, r.job.id, deadline)
	if next <= 0 {
		next = time.Minute
	}
	return next
}

// Stats is the scheduler's own health.
type Stats struct {
	Monitors int
	InFlight int
	Started  int64         // tests started since Run
	LagP50   time.Duration // delay between a test's due time and its start
	LagP99   time.Duration
	LagMax   time.Duration
}

// Stats reports the scheduler's health.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	n := len(s.jobs)
	s.mu.Unlock()
	p50, p99, max := s.lags.quantiles()
	return Stats{Monitors: n, InFlight: int(s.inFlight.Load()), Started: s.started.Load(), LagP50: p50, LagP99: p99, LagMax: max}
}

// queue is a min-heap of jobs by due time. Each entry holds its job's due
// time beside the pointer: ordering the heap reads the array alone, not
// the jobs (at 100,000 monitors, scattered in memory, a pointer chased for
// every comparison was 1.3 % of serve's CPU).
type queue []entry

type entry struct {
	at time.Duration // the job's at when queued or last fixed
	j  *job
}

// first is the job due first; the queue must not be empty.
func (q queue) first() *job { return q[0].j }

func (q *queue) push(j *job) {
	j.index = len(*q)
	*q = append(*q, entry{at: j.at, j: j})
	q.up(j.index)
}

// pop removes and returns the job due first.
func (q *queue) pop() *job { return q.remove(0) }

// remove removes and returns the job at i.
func (q *queue) remove(i int) *job {
	h := *q
	j := h[i].j
	last := len(h) - 1
	if i != last {
		h.swap(i, last)
	}
	h[last] = entry{}
	*q = h[:last]
	if i != last {
		q.fix(i)
	}
	j.index = -1
	return j
}

// fix restores the order after the job at i changed its due time.
func (q queue) fix(i int) {
	q[i].at = q[i].j.at
	if !q.down(i) {
		q.up(i)
	}
}

func (q queue) swap(a, b int) {
	q[a], q[b] = q[b], q[a]
	q[a].j.index, q[b].j.index = a, b
}

func (q queue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if q[p].at <= q[i].at {
			return
		}
		q.swap(p, i)
		i = p
	}
}

// down moves the entry at i towards the leaves; it reports whether it moved.
func (q queue) down(i int) bool {
	i0, n := i, len(q)
	for {
		c := 2*i + 1
		if c >= n || c < 0 {
			break
		}
		if r := c + 1; r < n && q[r].at < q[c].at {
			c = r
		}
		if q[i].at <= q[c].at {
			break
		}
		q.swap(i, c)
		i = c
	}
	return i > i0
}

// lagRing keeps the most recent lags for quantiles.
type lagRing struct {
	mu   sync.Mutex
	buf  [4096]time.Duration
	n    int
	next int
}

func (r *lagRing) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	r.mu.Lock()
	r.buf[r.next] = d
	r.next = (r.next + 1) % len(r.buf)
	if r.n < len(r.buf) {
		r.n++
	}
	r.mu.Unlock()
}

func (r *lagRing) quantiles() (p50, p99, max time.Duration) {
	r.mu.Lock()
	v := append([]time.Duration(nil), r.buf[:r.n]...)
	r.mu.Unlock()
	if len(v) == 0 {
		return 0, 0, 0
	}
	sort.Slice(v, func(a, b int) bool { return v[a] < v[b] })
	return v[len(v)/2], v[len(v)*99/100], v[len(v)-1]
}

// Has reports whether monitor id is scheduled (or being tested, and not
// removed).
func (s *Scheduler) Has(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	return ok && !j.removed
}

// Due returns when monitor id is next due, and whether it is scheduled
// and not being tested now.
func (s *Scheduler) Due(id int64) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok || j.running || j.removed {
		return time.Time{}, false
	}
	return s.epoch.Add(j.at), true
}
