// Package syncbuf is a buffer that one goroutine (a logger, a child
// process's output) writes while a test reads it.
package syncbuf

import (
	"strings"
	"sync"
)

// Buffer is safe for one writer and readers at once. The zero value is
// empty and ready.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
