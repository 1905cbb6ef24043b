package realmail

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr asks the kernel to send SIGTERM to a daemon's master when the
// test binary dies without calling Stop (a panic, a -timeout kill). That is
// a first line only: a master that changes its effective IDs loses it, so
// a watchdog process (see guardScript) backs it up. setpgid puts the master
// and its children in a process group of their own that Stop can sweep
// (Postfix's master makes its own session).
func sysProcAttr(setpgid bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: setpgid, Pdeathsig: syscall.SIGTERM}
}

// groupAlive reports whether a process of group pgid still runs. Zombies do
// not count: when PID 1 of a container does not reap orphans, they stay.
func groupAlive(pgid int) bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return syscall.Kill(-pgid, 0) == nil
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			return true
		}
	}
	return false
}

func killGroup(pgid int, sig syscall.Signal) { _ = syscall.Kill(-pgid, sig) }

func processGroup(pid int) int {
	g, err := syscall.Getpgid(pid)
	if err != nil {
		return 0
	}
	return g
}

func pidAlive(pid int) bool { return syscall.Kill(pid, 0) != syscall.ESRCH }
