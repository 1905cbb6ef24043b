package metrics

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/mailmon/mailmon/internal/bench/procstat"
)

// BenchmarkScrapeParallelGzip: the gzipped per-monitor text of 100,000
// monitors compressed as serve does (one stream, one goroutine) and in
// 256 KiB chunks compressed on goroutines, each chunk a gzip member. Not
// kept in serve: with both cores busy (a daemon testing 100,000 monitors,
// and other work on the machine) the chunks cost ~18% more CPU and gained
// no wall time (2026-12-06, load ~10: 165-233 ms a scrape in one stream,
// 251-300 ms in chunks; 1.64-1.70 vs 1.97-2.04 CPU µs a monitor); and
// curl 7.88 reads the first member of such a stream, then fails. Kept
// here to measure again on a quieter machine, where idle cores may differ.
func BenchmarkScrapeParallelGzip(b *testing.B) {
	const n = 100_000
	snap := leanSnapshot(n)
	pools := newGzipPools()
	x := newExpositor("")
	for _, chunked := range []bool{false, true} {
		b.Run(fmt.Sprint("chunks=", chunked), func(b *testing.B) {
			var w countingWriter
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, _ := procstat.Self()
			for range b.N {
				if !chunked {
					x.write(&w, true, snap, nil)
					continue
				}
				g := newGzipChunks(&w, 256<<10, 2*runtime.GOMAXPROCS(0), pools)
				ex := &exposition{w: g, buf: make([]byte, 0, flushAt+4<<10)}
				writeMonitors(ex, snap, x.layouts)
				ex.flush()
				g.Close()
			}
			cpu1, _ := procstat.Self()
			per := float64(b.N) * n
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/per, "µs/monitor")
			b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/1e3/per, "cpu-µs/monitor")
			b.ReportMetric(float64(w.n)/float64(b.N)/1e6, "MB/scrape")
		})
	}
}

// gzipChunks compresses what is written to it on several goroutines: the
// text is cut into chunks, each compressed into a gzip member of its own
// (RFC 1952 allows several members one after another; Go's gzip.Reader,
// so Prometheus, reads them as one stream), and the members are written
// to out in order. At most inflight chunks are held at once.
type gzipChunks struct {
	out      io.Writer
	err      error // out's first error
	size     int   // bytes a chunk
	cur      *bytes.Buffer
	queue    []*member // in order, compressing or done
	inflight int
	pools    *gzipPools
}

// member is one chunk being compressed; done is closed with out filled.
type member struct {
	in, out *bytes.Buffer
	done    chan struct{}
}

// gzipPools are the buffers and compressors reused between scrapes.
type gzipPools struct {
	bufs sync.Pool // *bytes.Buffer
	zips sync.Pool // *gzip.Writer at BestSpeed
}

func newGzipPools() *gzipPools {
	return &gzipPools{bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }},
		zips: sync.Pool{New: func() any {
			z, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
			return z
		}}}
}

func newGzipChunks(out io.Writer, size, inflight int, p *gzipPools) *gzipChunks {
	return &gzipChunks{out: out, size: size, inflight: inflight, pools: p}
}

// Write adds p to the current chunk, handing the chunk to a goroutine
// when it is full.
func (g *gzipChunks) Write(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.cur == nil {
		g.cur = g.pools.bufs.Get().(*bytes.Buffer)
		g.cur.Reset()
	}
	g.cur.Write(p)
	if g.cur.Len() >= g.size {
		g.submit()
	}
	return len(p), g.err
}

// submit compresses the current chunk on a goroutine of its own, after
// writing out the oldest member if inflight are under way.
func (g *gzipChunks) submit() {
	if len(g.queue) == g.inflight {
		g.writeOldest()
	}
	m := &member{in: g.cur, out: g.pools.bufs.Get().(*bytes.Buffer), done: make(chan struct{})}
	g.cur = nil
	m.out.Reset()
	g.queue = append(g.queue, m)
	go func() {
		defer close(m.done)
		z := g.pools.zips.Get().(*gzip.Writer)
		z.Reset(m.out)
		z.Write(m.in.Bytes())
		z.Close()
		z.Reset(nil)
		g.pools.zips.Put(z)
	}()
}

// writeOldest waits for the oldest member and writes it out.
func (g *gzipChunks) writeOldest() {
	m := g.queue[0]
	g.queue = g.queue[1:]
	<-m.done
	if g.err == nil {
		_, g.err = g.out.Write(m.out.Bytes())
	}
	g.pools.bufs.Put(m.in)
	g.pools.bufs.Put(m.out)
}

// Close compresses what is left and writes out every member.
func (g *gzipChunks) Close() error {
	if g.cur != nil && g.cur.Len() > 0 {
		g.submit()
	}
	for len(g.queue) > 0 {
		g.writeOldest()
	}
	return g.err
}
