package realprom

import "syscall"

// sysProcAttr has the kernel end Prometheus if the test binary dies
// without its cleanup (a panic, a -timeout kill).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
