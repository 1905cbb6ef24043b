// Package procstat reads what the benchmarks measure of a process from
// /proc: CPU time, resident memory, descriptors, threads; and describes the
// machine for the results.
package procstat

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// CPUSeconds is a process's user + system CPU time.
func CPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // clock ticks (USER_HZ is 100 on Linux)
}

// RSSMiB is a process's resident memory now.
func RSSMiB(pid int) float64 { return statusMiB(pid, "VmRSS:") }

func statusMiB(pid int, field string) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
			return kb / 1024
		}
	}
	return 0
}

// FDs counts a process's open file descriptors.
func FDs(pid int) int {
	es, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(es)
}

// Machine describes this machine in one line: CPU model, cores, memory,
// kernel.
func Machine() string {
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%s, %d cores, %s, Linux %s", cpuModel(), runtime.NumCPU(), memTotal(), strings.TrimSpace(string(kernel)))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
			return fmt.Sprintf("%.0f GiB RAM", kb/1024/1024)
		}
	}
	return ""
}

// ExitedCPU is a finished child's user + system CPU time, from its
// rusage: exact to the microsecond, where CPUSeconds counts clock ticks
// (10 ms), too coarse for a process that lives a few milliseconds.
func ExitedCPU(ps *os.ProcessState) float64 {
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

// ExitedPeakRSSMiB is a finished child's peak resident memory, or 0 where
// the system does not tell.
func ExitedPeakRSSMiB(ps *os.ProcessState) float64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024
	}
	return 0
}

// Counters are a process's cumulative counters from /proc that tell where
// its CPU went: user and system seconds, page faults, and its read and
// write system calls and bytes.
type Counters struct {
	User, Sys             float64 // CPU seconds
	MinFlt, MajFlt        int64   // page faults
	SysR, SysW            int64   // read and write system calls
	ReadBytes, WriteBytes int64   // bytes that went to or came from the storage layer
	Threads               int64
}

// Count reads a process's counters; what /proc does not tell stays 0.
func Count(pid int) Counters {
	var c Counters
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		num := func(i int) int64 { n, _ := strconv.ParseInt(f[i], 10, 64); return n }
		c.MinFlt, c.MajFlt = num(7), num(9)
		c.User, c.Sys = float64(num(11))/100, float64(num(12))/100
		c.Threads = num(17)
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(l, ": ")
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			switch k {
			case "syscr":
				c.SysR = n
			case "syscw":
				c.SysW = n
			case "read_bytes":
				c.ReadBytes = n
			case "write_bytes":
				c.WriteBytes = n
			}
		}
	}
	return c
}

// Sub is c's counters since an earlier reading, o; Threads stays c's.
func (c Counters) Sub(o Counters) Counters {
	return Counters{User: c.User - o.User, Sys: c.Sys - o.Sys, MinFlt: c.MinFlt - o.MinFlt, MajFlt: c.MajFlt - o.MajFlt,
		SysR: c.SysR - o.SysR, SysW: c.SysW - o.SysW, ReadBytes: c.ReadBytes - o.ReadBytes, WriteBytes: c.WriteBytes - o.WriteBytes, Threads: c.Threads}
}
