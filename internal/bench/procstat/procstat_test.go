package procstat

import (
	"os"
	"runtime"
	"testing"
)

func TestCountReadsThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	c0 := Count(os.Getpid())
	for range 20 {
		if _, err := os.ReadFile("/proc/self/stat"); err != nil {
			t.Fatal(err)
		}
	}
	c := Count(os.Getpid())
	d := c.Sub(c0)
	if c.Threads < 1 || c.MinFlt <= 0 || c.User+c.Sys < 0 {
		t.Errorf("counters %+v: no threads, no page faults or negative CPU", c)
	}
	if d.SysR < 20 || d.Threads != c.Threads {
		t.Errorf("20 files read: %d read calls counted (Sub %+v)", d.SysR, d)
	}
}
