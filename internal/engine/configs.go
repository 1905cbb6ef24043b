package engine

import (
	"hash/maphash"
	"math"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"weak"

	"github.com/mailmon/mailmon/internal/probe"
)

// A loaded monitor's probe.Config is 640 B, most of it the same for many
// monitors (the type, TLS mode, ca: file, EHLO name, timeouts, limits, the
// engine's resolver and egress policy) and most of the rest zero. Entries
// share one copy of it for the monitors whose settings are equal, their
// target (host, port and name) left blank in it and kept on each entry
// (entry.config puts it back for a test).

// configTable interns the shared probe configs. It holds them weakly: a
// config no loaded monitor uses any more is collected, and its slot with
// it (runtime.AddCleanup).
type configTable struct {
	mu      sync.Mutex
	seed    maphash.Seed
	configs map[uint64][]weak.Pointer[probe.Config] // by hashConfig
}

// intern returns the config equal to c already shared, else c, which is
// shared from then on: neither may be changed.
func (t *configTable) intern(c *probe.Config) *probe.Config {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.configs == nil {
		t.seed, t.configs = maphash.MakeSeed(), map[uint64][]weak.Pointer[probe.Config]{}
	}
	var h maphash.Hash
	h.SetSeed(t.seed)
	cv := reflect.ValueOf(c).Elem()
	hashValue(&h, cv)
	k := h.Sum64()
	for _, w := range t.configs[k] {
		if p := w.Value(); p != nil && sameValue(reflect.ValueOf(p).Elem(), cv) {
			return p
		}
	}
	t.configs[k] = append(t.configs[k], weak.Make(c))
	runtime.AddCleanup(c, t.drop, k)
	return c
}

// drop forgets the collected configs of slot k.
func (t *configTable) drop(k uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	live := slices.DeleteFunc(t.configs[k], func(w weak.Pointer[probe.Config]) bool { return w.Value() == nil })
	if len(live) == 0 {
		delete(t.configs, k)
	} else {
		t.configs[k] = live
	}
}

// len is the number of configs shared (tests).
func (t *configTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, ws := range t.configs {
		n += len(ws)
	}
	return n
}

// sameValue reports whether a and b (of one type) are the same settings:
// every field compared, whatever fields the type gains, values by value
// and what they point to by identity (the engine's resolver, egress policy
// and a CA pool are shared objects, an OAuth flow each monitor's own; a
// deep comparison would also read what other goroutines may change).
// Funcs are the same only when both are nil.
func sameValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.UnsafePointer:
		return a.Pointer() == b.Pointer()
	case reflect.Func:
		return a.IsNil() && b.IsNil()
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() && b.IsNil()
		}
		return a.Elem().Type() == b.Elem().Type() && sameValue(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	panic("engine: cannot compare a " + a.Kind().String()) // a complex number: no config has one
}

// hashValue writes v to h, equal for values sameValue finds the same.
func hashValue(h *maphash.Hash, v reflect.Value) {
	var b [8]byte
	u64 := func(x uint64) {
		for i := range b {
			b[i] = byte(x >> (8 * i))
		}
		h.Write(b[:])
	}
	switch v.Kind() {
	case reflect.String:
		u64(uint64(v.Len()))
		h.WriteString(v.String())
	case reflect.Bool:
		if v.Bool() {
			u64(1)
		} else {
			u64(0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		u64(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u64(v.Uint())
	case reflect.Float32, reflect.Float64:
		u64(math.Float64bits(v.Float()))
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.UnsafePointer:
		u64(uint64(v.Pointer()))
	case reflect.Func, reflect.Interface:
		if v.IsNil() {
			u64(0)
		} else {
			u64(1)
		}
	case reflect.Slice:
		u64(uint64(v.Len()))
		if v.Type().Elem().Kind() == reflect.Uint8 {
			h.Write(v.Bytes())
			return
		}
		fallthrough
	case reflect.Array:
		for i := range v.Len() {
			hashValue(h, v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			hashValue(h, v.Field(i))
		}
	}
}
