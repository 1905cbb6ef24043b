//go:build race

package engine

// raceEnabled: the race detector is on, and changes what allocates
// (crypto/tls's handshake ~25 allocations more).
const raceEnabled = true
