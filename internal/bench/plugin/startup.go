package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// startup is what one tool's start goes to, besides its rusage medians:
// its binary's size, and Go's package initialisation or the dynamic
// loader's work.
type startup struct {
	size  int64  // bytes of the binary; 0 when not known
	extra string // inittrace or LD_DEBUG figures, or ""
}

// probes are the runs of each tool taken for the start-up detail, apart
// from the measured ones (they print to stderr, which costs time).
const probes = 7

// startupDetail looks at each tool of the start-up case: the Go ones
// under GODEBUG=inittrace=1, the dynamically linked ones under
// LD_DEBUG=statistics.
func startupDetail(t tools, c *bench) []startup {
	var out []startup
	for _, tl := range c.tools {
		var s startup
		if fi, err := os.Stat(tl.argv[0]); err == nil {
			s.size = fi.Size()
		}
		if len(tl.env) == 0 {
			if isGo(tl.argv[0]) {
				s.extra = inittrace(tl.argv)
			} else {
				s.extra = loaderStats(tl.argv)
			}
		}
		out = append(out, s)
	}
	return out
}

// isGo reports whether bin is a Go program (its build ID note).
func isGo(bin string) bool {
	out, err := exec.Command("go", "version", bin).CombinedOutput()
	return err == nil && !strings.Contains(string(out), "not a Go executable") && !strings.Contains(string(out), "could not read")
}

// inittrace is the median of the summed package initialisation clock and
// the bytes allocated at init, over probes runs, and the packages that
// took most.
func inittrace(argv []string) string {
	var clocks []float64
	var bytes, pkgs int
	per := map[string][]float64{}
	for range probes {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		cmd.Run()
		sum, b, n := 0.0, 0, 0
		for _, l := range strings.Split(stderr.String(), "\n") {
			// init PKG @T ms, C ms clock, B bytes, A allocs
			f := strings.Fields(l)
			if len(f) != 11 || f[0] != "init" || f[8] != "bytes," {
				continue
			}
			c, _ := strconv.ParseFloat(f[4], 64)
			nb, _ := strconv.Atoi(f[7])
			sum += c
			b += nb
			n++
			per[f[1]] = append(per[f[1]], c)
		}
		clocks = append(clocks, sum)
		bytes, pkgs = b, n
	}
	if pkgs == 0 {
		return ""
	}
	slices.Sort(clocks)
	type pc struct {
		pkg string
		ms  float64
	}
	var top []pc
	for p, cs := range per {
		slices.Sort(cs)
		top = append(top, pc{p, cs[len(cs)/2]})
	}
	slices.SortFunc(top, func(a, b pc) int { return int((b.ms - a.ms) * 1e6) })
	var names []string
	for _, p := range top[:min(3, len(top))] {
		names = append(names, fmt.Sprintf("%s %.2f", p.pkg, p.ms))
	}
	return fmt.Sprintf("Go init: %.2f ms, %.0f KiB in %d packages (most: %s ms)", clocks[len(clocks)/2], float64(bytes)/1024, pkgs, strings.Join(names, ", "))
}

var (
	loaderTime = regexp.MustCompile(`total startup time in dynamic loader: (\d+) cycles`)
	loaderRel  = regexp.MustCompile(`final number of relocations: (\d+)`)
)

// loaderStats is the dynamic loader's own count of its start-up
// (LD_DEBUG=statistics, in TSC cycles, shown as time at the CPU's
// nominal clock), median of probes runs, and the relocations done.
func loaderStats(argv []string) string {
	var cycles []float64
	rel := ""
	for range probes {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "LD_DEBUG=statistics")
		out, _ := cmd.CombinedOutput()
		if m := loaderTime.FindSubmatch(out); m != nil {
			c, _ := strconv.ParseFloat(string(m[1]), 64)
			cycles = append(cycles, c)
		}
		if m := loaderRel.FindSubmatch(out); m != nil {
			rel = string(m[1])
		}
	}
	if len(cycles) == 0 {
		return ""
	}
	slices.Sort(cycles)
	c := cycles[len(cycles)/2]
	s := fmt.Sprintf("dynamic loader: %.1f M cycles", c/1e6)
	if mhz := cpuMHz(); mhz > 0 {
		s += fmt.Sprintf(" (about %.2f ms at %.0f MHz)", c/mhz/1e3, mhz)
	}
	if rel != "" {
		s += ", " + rel + " symbol relocations"
	}
	return s
}

// cpuMHz is the first CPU's clock from /proc/cpuinfo, 0 when unknown.
func cpuMHz() float64 {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "cpu MHz"); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":")), 64)
			return f
		}
	}
	return 0
}

func kib(n int64) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", float64(n)/1024)
}
