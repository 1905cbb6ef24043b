package wire

import (
	"bufio"
	"io"
	"net"
	"sync"
)

// A connection's line reader (MaxLine bytes, 4 KiB by default) was its
// largest allocation: 15% of the bytes serve allocated at 100,000
// monitors, all of it garbage a second later. Readers of the default size
// are reused across connections.
//
// A reader goes back to the pool only when nothing can still use it: Close
// finds no read under way (an IMAP IDLE reads on a goroutine of its own)
// and nothing buffered; any read after that reports net.ErrClosed.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, DefaultLimits().MaxLine) }}

// reader states (Conn.rs)
const (
	readerIdle = iota
	readerBusy
	readerGone // back in the pool
)

// newReader is a reader of size bytes over r, from the pool if it has
// that size.
func newReader(r io.Reader, size int) *bufio.Reader {
	if size != DefaultLimits().MaxLine {
		return bufio.NewReaderSize(r, size)
	}
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// putReader returns br to the pool if it came from there.
func putReader(br *bufio.Reader) {
	if br.Size() == DefaultLimits().MaxLine {
		br.Reset(nil)
		readers.Put(br)
	}
}

// reading marks a read of c.br under way; false once the reader is gone.
func (c *Conn) reading() bool { return c.rs.CompareAndSwap(readerIdle, readerBusy) }

func (c *Conn) doneReading() { c.rs.CompareAndSwap(readerBusy, readerIdle) }

// releaseReader gives c.br back to the pool if no read is under way and
// nothing is left in it.
func (c *Conn) releaseReader() {
	if c.br == nil || !c.rs.CompareAndSwap(readerIdle, readerBusy) {
		return
	}
	if c.br.Buffered() > 0 {
		c.rs.Store(readerIdle)
		return
	}
	putReader(c.br)
	c.br = nil
	c.rs.Store(readerGone)
}

var errReaderGone = net.ErrClosed
