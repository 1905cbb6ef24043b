package engine

import (
	"encoding/json"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
)

// TestConfigsShared: monitors whose settings are the same share one probe
// config, whatever their device's address, port and name (each test still
// gets its own target); a monitor whose settings differ has its own; a
// changed monitor, once reloaded, tests with its new settings while the
// monitors that shared its old ones keep them.
func TestConfigsShared(t *testing.T) {
	ctx := t.Context()
	st := openTestStore(t)
	timing := config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}
	spec := func(port int, ehlo string) json.RawMessage {
		b, _ := json.Marshal(config.Monitor{Port: port, EHLO: ehlo, Timing: timing})
		return b
	}
	d1, d2 := &store.Device{Name: "d1", Address: "192.0.2.1"}, &store.Device{Name: "d2", Address: "2001:db8::2"}
	must(t, st.PutDevice(ctx, d1))
	must(t, st.PutDevice(ctx, d2))
	put := func(m *store.Monitor) *store.Monitor {
		m.Type, m.Enabled = "smtp", true
		must(t, st.PutMonitor(ctx, m))
		return m
	}
	a1 := put(&store.Monitor{DeviceID: d1.ID, Name: "a1", Spec: spec(25, "x")})
	a2 := put(&store.Monitor{DeviceID: d2.ID, Name: "a2", Spec: spec(25, "x")})
	b := put(&store.Monitor{DeviceID: d1.ID, Name: "b", Spec: spec(587, "x")})
	c := put(&store.Monitor{DeviceID: d1.ID, Name: "c", Spec: spec(25, "y")})

	e := New(Options{Store: st})
	must(t, e.Load(ctx))
	loaded := func(m *store.Monitor) *entry {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.monitors[m.ID]
	}
	for _, w := range []struct {
		m          *store.Monitor
		host, ehlo string
		port       int
	}{{a1, "192.0.2.1", "x", 25}, {a2, "2001:db8::2", "x", 25}, {b, "192.0.2.1", "x", 587}, {c, "192.0.2.1", "y", 25}} {
		en := loaded(w.m)
		if en.err != nil {
			t.Fatalf("%s: %v", w.m.Name, en.err)
		}
		cfg := en.config()
		if cfg.Host != w.host || cfg.Port != w.port || cfg.Monitor != w.m.Name || cfg.EHLOName != w.ehlo || cfg.Type != "smtp" {
			t.Errorf("%s tests %s port %d as %q with EHLO %q, want %s port %d with EHLO %q",
				w.m.Name, cfg.Host, cfg.Port, cfg.Monitor, cfg.EHLOName, w.host, w.port, w.ehlo)
		}
		if got, err := e.MonitorConfig(w.m.ID); err != nil || !reflect.DeepEqual(got, cfg) {
			t.Errorf("%s: MonitorConfig is %+v, %v; want %+v", w.m.Name, got, err, cfg)
		}
	}
	if loaded(a1).cfg != loaded(a2).cfg || loaded(a1).cfg != loaded(b).cfg {
		t.Error("monitors of the same settings on other devices and ports do not share their config")
	}
	if loaded(a1).cfg == loaded(c).cfg {
		t.Error("monitors of other EHLO names share a config")
	}
	if n := e.configs.len(); n != 2 {
		t.Errorf("%d configs shared, want 2", n)
	}

	time.Sleep(2 * time.Millisecond) // a later updated_ms, not a synchronisation
	c.Spec = spec(25, "x")
	put(c)
	a1.Spec = spec(25, "z")
	put(a1)
	must(t, e.sync(ctx))
	if loaded(c).cfg != loaded(a2).cfg {
		t.Error("a monitor changed to the settings of others does not share their config")
	}
	if got := loaded(a1).config().EHLOName; got != "z" {
		t.Errorf("a1 changed to EHLO z tests with %q", got)
	}
	if got := loaded(a2).config().EHLOName; got != "x" {
		t.Errorf("a2, which shared a1's old settings, tests with EHLO %q, want x", got)
	}
}

// TestSameValueEveryField: two probe configs are the same settings only
// when every field is: a field made non-zero, in turn, makes them differ
// (and its config has a slot of its own), whatever fields probe.Config
// gains.
func TestSameValueEveryField(t *testing.T) {
	var tab configTable
	base := tab.intern(&probe.Config{})
	if again := tab.intern(&probe.Config{}); again != base {
		t.Fatal("an equal config is not shared")
	}
	typ := reflect.TypeFor[probe.Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		var c probe.Config
		set(t, reflect.ValueOf(&c).Elem().Field(i))
		if sameValue(reflect.ValueOf(c), reflect.ValueOf(probe.Config{})) {
			t.Errorf("a config with %s set is the same as one without", f.Name)
		}
		if tab.intern(&c) == base {
			t.Errorf("a config with %s set shares the config without", f.Name)
		}
		d := c // the same settings: a copy (pointers the same); a func never is
		if f.Type.Kind() != reflect.Func && !sameValue(reflect.ValueOf(c), reflect.ValueOf(d)) {
			t.Errorf("a config with %s set differs from its copy", f.Name)
		}
	}
	runtime.KeepAlive(base)
}

// set makes v, a settable zero value, non-zero.
func set(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
	case reflect.Func:
		v.Set(reflect.MakeFunc(v.Type(), func([]reflect.Value) []reflect.Value { return nil }))
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		set(t, s.Index(0))
		v.Set(s)
	case reflect.Struct:
		set(t, v.Field(0))
	default:
		t.Fatalf("no non-zero value for a %s", v.Type())
	}
}

// TestConfigsCollected: a shared config that no monitor uses any more is
// collected, and its slot in the table with it.
func TestConfigsCollected(t *testing.T) {
	var tab configTable
	for i := range 100 {
		tab.intern(&probe.Config{Port: i})
	}
	if n := tab.len(); n != 100 {
		t.Fatalf("%d configs shared, want 100", n)
	}
	for range 500 { // cleanups run after a GC, on their own goroutine
		runtime.GC()
		if tab.len() == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d configs no monitor uses are still in the table", tab.len())
}
