package schedule

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/syncbuf"
)

func TestSpreadIsStableAndEven(t *testing.T) {
	now := time.Unix(0, 0)
	const interval = time.Minute
	buckets := make([]int, 6) // 10 s each
	for id := int64(1); id <= 6000; id++ {
		a, b := Spread(id, interval, now), Spread(id, interval, now)
		if a != b || a.Before(now) || !a.Before(now.Add(interval)) {
			t.Fatalf("Spread(%d) = %v, %v", id, a, b)
		}
		buckets[a.Sub(now)/(10*time.Second)]++
	}
	for i, n := range buckets {
		if n < 800 || n > 1200 {
			t.Errorf("bucket %d holds %d of 6000 start times: not spread", i, n)
		}
	}
}

// Next keeps each monitor at its own place in the interval: the gap to the
// next test is between half and one and a half intervals the first time,
// exactly one interval after, and monitors started together end up spread.
func TestNextSpreadsABurst(t *testing.T) {
	const interval = time.Minute
	start := time.Unix(1_700_000_000, 123)
	buckets := make([]int, 6)
	for id := int64(1); id <= 6000; id++ {
		due := Next(id, start, interval)
		if gap := due.Sub(start); gap < interval/2 || gap >= interval*3/2 {
			t.Fatalf("Next(%d): gap %v", id, gap)
		}
		if again := Next(id, due, interval); again.Sub(due) != interval {
			t.Fatalf("Next(%d) from its own place: gap %v, want %v", id, again.Sub(due), interval)
		}
		buckets[due.UnixNano()%int64(interval)/int64(10*time.Second)]++
	}
	for i, n := range buckets {
		if n < 800 || n > 1200 {
			t.Errorf("bucket %d holds %d of 6000 next tests: not spread", i, n)
		}
	}
	if got := Next(1, start, 0); !got.Equal(start) {
		t.Errorf("Next with no interval = %v", got)
	}
}

// TestManyMonitorsNoneStarved runs 2,000 monitors at a 1 s interval
// with 64 tests in flight at most, each test a connection to a loopback
// server, among them one that hangs until its limit and one that panics:
// every other monitor is tested again and again, none twice at once, and
// the hung test delays none of the others.
//
// It runs until every monitor (but the panicking one) has been tested
// twice, which takes about 2 s on a quiet machine; a loaded one cannot
// start 2,000 tests a second, so the test waits for that event rather
// than a fixed 3.5 s (up to a minute: a scheduler that starves a monitor
// never gets there).
func TestManyMonitorsNoneStarved(t *testing.T) {
	const (
		n        = 2000
		interval = time.Second
		limit    = time.Second
		hung     = int64(7)
		panicker = int64(13)
		within   = time.Minute
	)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				// The client hangs up first, so the server side keeps no
				// TIME_WAIT that a reused client port would run into.
				c.Write([]byte("220 loopback\r\n"))
				c.Read(make([]byte, 1))
				c.Close()
			}()
		}
	}()
	var dialer net.Dialer
	var dialErrs atomic.Int64
	var (
		stopping  atomic.Bool // the run is ending: no new tests start
		mu        sync.Mutex
		runs      = map[int64]int{}
		active    = map[int64]bool{}
		overlap   atomic.Bool
		done      atomic.Int64 // tests of other monitors finished
		whileHung []int64      // of those, how many finished during each hung test
		twice     int          // monitors (the panicking one aside) tested twice
		allTwice  = make(chan struct{})
	)
	test := func(ctx context.Context, id int64) time.Duration {
		mu.Lock()
		if active[id] {
			overlap.Store(true)
		}
		active[id] = true
		runs[id]++
		if runs[id] == 2 && id != panicker {
			if twice++; twice == n-1 {
				close(allTwice)
			}
		}
		mu.Unlock()
		defer func() {
			mu.Lock()
			active[id] = false
			mu.Unlock()
		}()
		switch id {
		case hung:
			before := done.Load()
			<-ctx.Done() // hangs until the scheduler's limit
			if !stopping.Load() {
				mu.Lock()
				whileHung = append(whileHung, done.Load()-before)
				mu.Unlock()
			}
			return interval
		case panicker:
			panic("a prober bug")
		}
		defer done.Add(1)
		c, err := dialer.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			if ctx.Err() == nil {
				dialErrs.Add(1) // a SYN lost to a port still in TIME_WAIT from earlier tests: the loopback's, not the scheduler's
			}
			return interval
		}
		c.Read(make([]byte, 64))
		c.Close()
		return interval
	}
	s := New(test, 64, nil)
	start := time.Now()
	for id := int64(1); id <= n; id++ {
		s.Add(id, Spread(id, interval, start), limit)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-allTwice:
		case <-time.After(within):
		}
		stopping.Store(true)
		cancel()
	}()
	s.Run(ctx)
	elapsed := time.Since(start)

	if overlap.Load() {
		t.Error("a monitor was tested twice at once")
	}
	mu.Lock()
	defer mu.Unlock()
	starved, total, most := 0, int64(0), 0
	for id := int64(1); id <= n; id++ {
		total += int64(runs[id])
		if id != hung && id != panicker {
			if runs[id] < 2 {
				starved++
			}
			most = max(most, runs[id])
		}
	}
	if starved > 0 {
		t.Errorf("%d monitors ran fewer than twice in %v at a 1 s interval", starved, elapsed.Round(time.Millisecond))
	}
	// Fair turns: by the time the last monitor has been tested twice, no
	// other has been tested much more often, however slow the machine.
	// Due tests start in due order and a test's next due time is at least
	// half an interval after its start, so one monitor is tested about
	// three times to the last's two (three at most in 40 runs at load 15-20); a
	// scheduler that lets some monitors go first while others wait
	// reaches dozens.
	if most > 2*4 {
		t.Errorf("one monitor was tested %d times before every monitor had been tested twice: not in turn", most)
	}
	// Each hung test holds its slot for its whole limit, and is not
	// retried before it ends.
	if most := int(elapsed/limit) + 1; runs[hung] > most || runs[hung] < 2 {
		t.Errorf("the hung monitor ran %d times in %v (limit %v)", runs[hung], elapsed.Round(time.Millisecond), limit)
	}
	for i, k := range whileHung {
		if k == 0 {
			t.Errorf("no other test finished while the hung monitor's test %d held its slot for %v", i+1, limit)
		}
	}
	if runs[panicker] != 1 {
		t.Errorf("the panicking monitor ran %d times (retried after a minute)", runs[panicker])
	}
	st := s.Stats()
	t.Logf("stats: %+v, %d dials failed, every monitor tested twice in %v (one %d times), others' tests finished while the hung one waited: %v",
		st, dialErrs.Load(), elapsed.Round(time.Millisecond), most, whileHung)
	if dialErrs.Load() > int64(st.Started)/100 {
		t.Errorf("%d of %d dials to the loopback server failed", dialErrs.Load(), st.Started)
	}
	if st.Monitors != n || st.Started != total || st.InFlight != 0 {
		t.Errorf("stats %+v, want %d monitors, %d tests started, none in flight", st, n, total)
	}
}

func TestAddRemoveWhileRunning(t *testing.T) {
	started := make(chan int64, 10)
	release := make(chan struct{})
	var runs atomic.Int64
	test := func(ctx context.Context, id int64) time.Duration {
		runs.Add(1)
		started <- id
		<-release
		return time.Hour
	}
	s := New(test, 4, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	s.Add(1, time.Now(), time.Second)
	<-started
	s.Remove(1)
	s.Add(1, time.Now(), time.Second) // re-added while its test runs: no second run at once
	select {
	case <-started:
		t.Fatal("monitor 1 started twice at once")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	<-started // the re-add's due time wins: it runs again right away
	cancel()
	<-done
	if runs.Load() != 2 {
		t.Errorf("%d runs", runs.Load())
	}
}

// When every slot is taken, due tests wait and the scheduler says so once,
// naming the setting to raise.
func TestWarnsWhenSlotsAreFull(t *testing.T) {
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	release := make(chan struct{})
	var ran atomic.Int64
	test := func(ctx context.Context, id int64) time.Duration {
		ran.Add(1)
		if id == 1 {
			select { // a silent server: holds its slot until its limit
			case <-release:
			case <-ctx.Done():
			}
		}
		return time.Hour
	}
	s := New(test, 1, log)
	now := time.Now()
	s.Add(1, now, time.Minute)
	s.Add(2, now.Add(10*time.Millisecond), time.Minute)
	s.Add(3, now.Add(20*time.Millisecond), time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "every test slot is taken") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning; log: %s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	for ran.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if n := strings.Count(logs.String(), "every test slot is taken"); n != 1 {
		t.Errorf("%d warnings, want 1 (at most one a minute):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "max_in_flight=1") || ran.Load() != 3 {
		t.Errorf("ran %d; log: %s", ran.Load(), logs.String())
	}
}

// Due tells when a monitor is next due, and not while its test runs or
// once it is removed.
func TestDue(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	s := New(func(ctx context.Context, id int64) time.Duration {
		started <- struct{}{}
		<-release
		return time.Hour
	}, 4, nil)
	at := time.Now().Add(time.Hour)
	s.Add(1, at, time.Second)
	if due, ok := s.Due(1); !ok || !due.Equal(at) {
		t.Errorf("Due = %v %v, want %v", due, ok, at)
	}
	if _, ok := s.Due(2); ok {
		t.Error("an unknown monitor is due")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	s.Add(1, time.Now(), time.Second)
	<-started
	if _, ok := s.Due(1); ok {
		t.Error("a monitor being tested is due")
	}
	close(release)
	cancel()
	<-done
	s.Remove(1)
	if _, ok := s.Due(1); ok {
		t.Error("a removed monitor is due")
	}
}

// TestBatchesWakeUps: Run wakes at the end of the 10 ms slice the next
// test is due in and starts every test due by then at once, rather than
// once per test (each wake-up of an idle daemon costs tens of µs of CPU:
// BenchmarkRun).
func TestBatchesWakeUps(t *testing.T) {
	base := time.Unix(1_700_000_000, 0) // on a batch boundary
	for _, c := range []struct{ now, wait, want time.Duration }{
		{0, time.Millisecond, batch},
		{0, batch, batch},
		{3 * time.Millisecond, 2 * time.Millisecond, 7 * time.Millisecond},
		{3 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{3 * time.Millisecond, 8 * time.Millisecond, 17 * time.Millisecond},
		{0, time.Hour, time.Hour},
	} {
		if got := tick(base.Add(c.now), c.wait); got != c.want {
			t.Errorf("tick(+%v, %v) = %v, want %v", c.now, c.wait, got, c.want)
		}
	}

	const n = 5
	starts := make(chan time.Time, n)
	s := New(func(context.Context, int64) time.Duration { starts <- time.Now(); return time.Hour }, n, nil)
	// n tests due 1 ms apart within one batch, that batch at least 50 ms away.
	first := time.Now().Add(50 * time.Millisecond).Truncate(batch).Add(batch + time.Millisecond)
	for i := range n {
		s.Add(int64(i+1), first.Add(time.Duration(i)*time.Millisecond), time.Second)
	}
	last := first.Add((n - 1) * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	for range n {
		if at := <-starts; at.Before(last) {
			t.Errorf("a test started %v before the batch's last was due: one wake-up a test", last.Sub(at))
		}
	}
	cancel()
	<-done
}

// TestTimedTestGetsItsDeadline: a TimedTest gets the deadline its limit
// sets from its start, under a context of no deadline of its own that the
// end of Run does not cancel (a test in flight runs on to its limit), and
// no deadline when it has no limit.
func TestTimedTestGetsItsDeadline(t *testing.T) {
	type call struct {
		deadline time.Time
		ctx      context.Context
	}
	calls, release := make(chan call), make(chan struct{})
	s := NewTimed(func(ctx context.Context, id int64, deadline time.Time) time.Duration {
		calls <- call{deadline, ctx}
		<-release
		return time.Hour
	}, 4, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()

	const limit = 7 * time.Second
	before := time.Now()
	s.Add(1, before, limit)
	c := <-calls
	after := time.Now()
	if c.deadline.Before(before.Add(limit)) || c.deadline.After(after.Add(limit)) {
		t.Errorf("deadline %v, want between %v and %v", c.deadline, before.Add(limit), after.Add(limit))
	}
	if dl, ok := c.ctx.Deadline(); ok {
		t.Errorf("the test's context has a deadline of its own (%v)", dl)
	}
	cancel() // the daemon stops: the test in flight is not cut short
	time.Sleep(20 * time.Millisecond)
	if err := c.ctx.Err(); err != nil {
		t.Errorf("the end of Run ended a test in flight: %v", err)
	}
	release <- struct{}{}
	<-done

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	done = make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	s.Add(2, time.Now(), 0)
	if c := <-calls; !c.deadline.IsZero() {
		t.Errorf("a test with no limit got deadline %v", c.deadline)
	}
	close(release)
	cancel()
	<-done
}

// TestTestBoundedByItsLimit: a Test (New) runs under a context that ends
// at its start plus its limit.
func TestTestBoundedByItsLimit(t *testing.T) {
	ended := make(chan time.Duration, 1)
	var start time.Time
	s := New(func(ctx context.Context, id int64) time.Duration {
		<-ctx.Done()
		ended <- time.Since(start)
		return time.Hour
	}, 1, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	start = time.Now()
	s.Add(1, start, 100*time.Millisecond)
	if took := <-ended; took < 100*time.Millisecond || took > 5*time.Second {
		t.Errorf("the test's context ended after %v, want its limit 100 ms", took)
	}
	cancel()
	<-done
}

// TestAddWhileTestsRun: the engine re-adds a monitor (a changed setting)
// at any moment, also while its test is being started or runs; the
// scheduler must not read the due time or limit Add is writing (the race
// detector fails this test when it does), and the last Add's limit is the
// one the next test gets.
func TestAddWhileTestsRun(t *testing.T) {
	var runs atomic.Int64
	var after atomic.Bool
	deadlines := make(chan time.Duration, 1)
	s := NewTimed(func(ctx context.Context, id int64, deadline time.Time) time.Duration {
		runs.Add(1)
		if after.Load() {
			select {
			case deadlines <- time.Until(deadline):
			default:
			}
		}
		return time.Millisecond
	}, 4, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// Re-add for a while without waiting for any test: nothing but the
	// scheduler's lock orders these writes and the scheduler's reads.
	var limit time.Duration
	for i, end := 0, time.Now().Add(300*time.Millisecond); time.Now().Before(end); i++ {
		limit = time.Hour * time.Duration(1+i%2)
		s.Add(1, time.Now(), limit)
		if i%8 == 0 {
			runtime.Gosched()
		}
	}
	after.Store(true)
	// The first test to see after may have started before the last Add
	// (one monitor runs one test at a time): the second did not.
	<-deadlines
	if got := <-deadlines; got <= limit-time.Minute || got > limit {
		t.Errorf("a test after the last Add got %v until its deadline, want about the last limit given, %v", got, limit)
	}
	if runs.Load() < 10 {
		t.Errorf("%d tests ran while monitor 1 was re-added: too few to have tried the race", runs.Load())
	}
}
