//go:build !linux

package realmail

import "syscall"

// The harness runs the daemons on Linux only (start refuses elsewhere);
// these stubs keep the package building on other systems.

func sysProcAttr(bool) *syscall.SysProcAttr { return nil }

func groupAlive(int) bool { return false }

func killGroup(int, syscall.Signal) {}

func processGroup(int) int { return 0 }

func pidAlive(int) bool { return true }
