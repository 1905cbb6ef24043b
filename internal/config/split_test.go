package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"

	"github.com/mailmon/mailmon/internal/bench/applygen"
)

// TestSplitDecodesAsWhole: a file decoded a monitor at a time is the file
// decoded whole, and a file the split cannot take safely is decoded whole.
func TestSplitDecodesAsWhole(t *testing.T) {
	spec, gen := specAndGenerated(t, 60)
	const devs = `devices:
  - name: a
    address: a.example.com
    monitors:
      - {name: tcp0, type: tcp, port: 25}
      # a comment between items
      - name: smtp1
        type: smtp
        port: 25

        ehlo: bench
    maintenance:
      - {start: "02:00", end: "04:00", days: [sat]}
  # a comment at the sequence's indentation
  - name: b
    address: b.example.com
`
	// Devices larger than groupBytes: their monitors are decoded a run at
	// a time.
	var big, bigFlat strings.Builder
	big.WriteString("alerts:\n  - {name: ops, webhook: {url: \"https://hooks.example.com/x\"}}\ndevices:\n")
	bigFlat.WriteString("devices:\n")
	for d := range 3 {
		fmt.Fprintf(&big, "  - name: d%d\n    address: d%d.example.com\n    monitors:\n", d, d)
		fmt.Fprintf(&bigFlat, "- name: d%d\n  address: d%d.example.com\n  monitors:\n", d, d)
		for i := range 1500 {
			fmt.Fprintf(&big, "      - {name: tcp%d, type: tcp, port: %d, notify: {alerts: [ops]}}\n", i, 1+i)
			fmt.Fprintf(&bigFlat, "  - name: smtp%d\n    type: smtp\n    port: %d\n", i, 1+i)
		}
		fmt.Fprintf(&big, "    maintenance:\n      - {start: \"02:00\", end: \"04:00\", days: [sat]}\n")
	}
	big.WriteString("  - {name: small, address: small.example.com}\n")
	bigFlat.WriteString("  maintenance:\n  - {start: \"02:00\", end: \"04:00\", days: [sun]}\n")
	if big.Len() < 3*groupBytes || bigFlat.Len() < 3*groupBytes {
		t.Fatalf("the large devices are %d and %d bytes, not more than %d each", big.Len(), bigFlat.Len(), groupBytes)
	}
	for _, c := range []struct {
		name  string
		yaml  string
		split bool // decodeSplit takes it
	}{
		{"large devices", big.String(), true},
		{"large devices, items at the keys' indentation", bigFlat.String(), true},
		{"large device, bad monitor", strings.Replace(bigFlat.String(), "port: 700\n", "port: 700\n    colour: red\n", 1), false},
		{"spec", string(spec), true},
		{"applygen", string(gen), true},
		{"devices first", devs + "alerts:\n  - {name: ops, webhook: {url: \"https://hooks.example.com/x\"}}\n", true},
		{"devices last", "alerts:\n  - {name: ops, webhook: {url: \"https://hooks.example.com/x\"}}\n" + devs, true},
		{"crlf", strings.ReplaceAll(devs, "\n", "\r\n"), true},
		{"no final newline", strings.TrimSuffix(devs, "\n"), true},
		{"items at the key's indentation", "devices:\n- name: a\n  address: a.example.com\n  monitors:\n  - {name: t, type: tcp, port: 25}\n  - {name: u, type: tcp, port: 26}\n  maintenance:\n  - {start: \"02:00\", end: \"04:00\", days: [sat]}\n- name: b\n  address: b.example.com\n", true},
		{"monitors on the dash line", "devices:\n  - monitors:\n      - {name: t, type: tcp, port: 25}\n    name: a\n    address: a.example.com\n", true},
		{"block scalar", "devices:\n  - name: a\n    address: a.example.com\n    monitors:\n      - name: t\n        type: tcp\n        port: 25\n        expect: |\n          - not an item\n          devices:\n", true},
		// not taken: the whole decode decides
		{"anchor", "devices:\n  - &d {name: a, address: a.example.com}\n", false},
		{"second document", "devices:\n  - {name: a, address: a.example.com}\n---\ndevices: []\n", false},
		{"flow sequence", "devices: [{name: a, address: a.example.com}]\n", false},
		{"devices twice", devs + devs, false},
		{"quoted scalar over lines", "devices:\n  - name: \"a\n  - b\"\n    address: a.example.com\n", false},
		{"unknown field", "devices:\n  - {name: a, address: a.example.com, colour: red}\n", false},
		{"invalid", "devices:\n  - {name: a}\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := decodeSplit([]byte(c.yaml))
			if ok != c.split {
				t.Fatalf("split %v, want %v", ok, c.split)
			}
			want, werr := parseWhole("f.yaml", []byte(c.yaml))
			if !ok {
				p, perr := Parse("f.yaml", []byte(c.yaml))
				if !reflect.DeepEqual(p, want) || !reflect.DeepEqual(perr, werr) {
					t.Errorf("Parse: %+v, %v; whole: %+v, %v", p, perr, want, werr)
				}
				return
			}
			if werr != nil {
				t.Fatalf("the whole decode: %v", werr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("split:\n%+v\nwhole:\n%+v", got, want)
			}
		})
	}
}

// TestParseHeapPerMonitor holds the live heap while a file of 20,000
// monitors is parsed to a per-monitor budget: the decoded file and no
// more (the whole file's YAML node tree cost three times as much). Not
// timed: bytes after the collections, the same on any machine.
func TestParseHeapPerMonitor(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 20,000 monitors")
	}
	const n = 20000
	var buf bytes.Buffer
	if err := applygen.Write(&buf, n); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// A collection at every tenth of growth: the live heap is sampled
	// close to its peak.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	before := liveHeap()
	stop := watchLiveHeap()
	f, err := Parse("gen.yaml", data)
	peak := stop()
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	kept := liveHeap()
	runtime.KeepAlive(f)
	runtime.KeepAlive(data)
	// Measured (applygen's monitors): peak 1,075-1,149 B, kept 959 B a
	// monitor; decoded whole, the peak was 5,676 B.
	const budget = 1300
	perPeak, perKept := int64(peak-before)/n, int64(kept-before)/n
	t.Logf("live heap a monitor: peak %d B, kept %d B", perPeak, perKept)
	if perPeak > budget {
		t.Errorf("parsing took a peak live heap of %d B a monitor, budget %d B", perPeak, budget)
	}
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// watchLiveHeap notes the live heap after each collection until stop,
// which returns the largest.
func watchLiveHeap() (stop func() uint64) {
	var mu sync.Mutex
	var peak uint64
	done := false
	var arm func()
	arm = func() {
		runtime.SetFinalizer(new([16]byte), func(*[16]byte) {
			mu.Lock()
			defer mu.Unlock()
			if !done {
				peak = max(peak, liveHeap())
				arm()
			}
		})
	}
	arm()
	return func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		done = true
		return max(peak, liveHeap())
	}
}

// FuzzSplitDecodesAsWhole: a file the split decode takes is the file the
// whole decode makes of the same text, with pieces of a few bytes so that
// every device and every large device's monitors are cut.
func FuzzSplitDecodesAsWhole(f *testing.F) {
	spec, gen := specAndGenerated(f, 4)
	f.Add(spec)
	f.Add(gen)
	f.Add([]byte("devices:\n  - name: a\n    address: a.example.com\n    monitors:\n      - {name: t, type: tcp, port: 25}\n" +
		"      # between\n      - name: s\n        type: smtp\n        port: 25\n  - name: b\n    address: b.example.com\n"))
	f.Add([]byte("devices:\n- name: a\n  address: a.example.com\n  monitors:\n  - name: s\n    type: smtp\n    port: 25\n    ehlo: |\n      x\n  - {name: t, type: tcp, port: 1}\n"))
	old := groupBytes
	groupBytes = 16
	f.Cleanup(func() { groupBytes = old })
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := decodeSplit(data)
		if !ok {
			return
		}
		want, err := parseWhole("fuzz.yaml", data)
		if err != nil {
			t.Fatalf("the split decode took a file the whole decode refuses: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("the split decode differs from the whole:\nsplit %+v\nwhole %+v", got, want)
		}
	})
}

// specAndGenerated is testdata/spec.yaml and a file of the bench's
// generator (applygen) with monitors monitors.
func specAndGenerated(tb testing.TB, monitors int) (spec, gen []byte) {
	tb.Helper()
	spec, err := os.ReadFile("testdata/spec.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := applygen.Write(&buf, monitors); err != nil {
		tb.Fatal(err)
	}
	return spec, buf.Bytes()
}
