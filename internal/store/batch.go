package store

import "context"

// Batcher is a Store that can make many changes of the configuration in
// one transaction: one commit instead of one per change, and all or
// nothing.
type Batcher interface {
	// Batch runs fn with the configuration seen through one transaction,
	// committed if fn returns nil and rolled back if it returns an error.
	// A method that fails inside it leaves nothing of its own work.
	Batch(ctx context.Context, fn func(Config) error) error
}

// Batch runs fn in one transaction where s is a Batcher, else on s
// itself, each change committed on its own.
func Batch(ctx context.Context, s Store, fn func(Config) error) error {
	if b, ok := s.(Batcher); ok {
		return b.Batch(ctx, fn)
	}
	return fn(s)
}
