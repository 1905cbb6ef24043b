package procstat

import (
	"syscall"
	"time"
)

// Self is this process's CPU time so far and its threads' voluntary
// context switches (each a thread that went to sleep and was woken): an
// in-process benchmark reports both per operation.
func Self() (cpu time.Duration, sleeps int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Nvcsw
}
