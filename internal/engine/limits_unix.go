//go:build unix

package engine

import "syscall"

// openFilesLimit is the process's soft limit on open descriptors, or 0.
func openFilesLimit() uint64 {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	return rl.Cur
}
