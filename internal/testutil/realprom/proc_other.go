//go:build !linux

package realprom

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
