// Command benchtable reads "go test -bench" output and prints, for each
// pair BenchmarkXRaw / BenchmarkXMailmon, mailmon's cost relative to the raw
// baseline, as a Markdown table. Goals: banner ≤ 1.2×, STARTTLS ≤ 1.1×.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^Benchmark(\w+?)(Raw|Mailmon)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) B/op\s+(\d+) allocs/op)?`)

type figures struct{ ns, bytes, allocs []float64 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

var goals = map[string]float64{"Banner": 1.2, "StartTLS": 1.1}

func main() {
	runs := map[string]map[string]*figures{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fmt.Println(sc.Text())
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if runs[m[1]] == nil {
			runs[m[1]] = map[string]*figures{"Raw": {}, "Mailmon": {}}
		}
		f := runs[m[1]][m[2]]
		ns, _ := strconv.ParseFloat(m[3], 64)
		b, _ := strconv.ParseFloat(m[4], 64)
		a, _ := strconv.ParseFloat(m[5], 64)
		f.ns, f.bytes, f.allocs = append(f.ns, ns), append(f.bytes, b), append(f.allocs, a)
	}
	names := make([]string, 0, len(runs))
	for n := range runs {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Println("\n| check | raw µs/op | mailmon µs/op | ratio | goal | raw allocs/op | mailmon allocs/op | mailmon B/op |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, n := range names {
		r, m := runs[n]["Raw"], runs[n]["Mailmon"]
		if len(r.ns) == 0 || len(m.ns) == 0 {
			continue
		}
		goal := "—"
		if g, ok := goals[n]; ok {
			goal = fmt.Sprintf("≤ %.1f×", g)
		}
		fmt.Printf("| %s | %.1f | %.1f | %.2f× | %s | %.0f | %.0f | %.0f |\n", strings.ToLower(n),
			median(r.ns)/1e3, median(m.ns)/1e3, median(m.ns)/median(r.ns), goal,
			median(r.allocs), median(m.allocs), median(m.bytes))
	}
}
