package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// handOver replaces this process by "mailmon check ARGS…" (same
// arguments, environment, standard streams and process, so the monitoring
// system sees mailmon's output and exit code as this check's). mailmon is
// looked for next to mailmon-check first (the packages install both in
// /usr/bin), then on PATH. It returns only when that fails.
func handOver(args []string) error {
	path, err := mailmonPath()
	if err != nil {
		return err
	}
	err = syscall.Exec(path, append([]string{path, "check"}, args...), os.Environ())
	return fmt.Errorf("mailmon-check hands this check to %s check, which did not start: %v", path, err)
}

// mailmonPath is the mailmon binary beside this one, or on PATH.
func mailmonPath() (string, error) {
	var beside string
	if exe, err := os.Executable(); err == nil {
		beside = filepath.Join(filepath.Dir(exe), "mailmon")
		if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return beside, nil
		}
	}
	if p, err := exec.LookPath("mailmon"); err == nil {
		return p, nil
	}
	where := "on PATH"
	if beside != "" {
		where = "at " + beside + " or on PATH"
	}
	return "", errors.New("mailmon-check hands this check to mailmon check, and found no mailmon " + where +
		": install the mailmon package (it has both), or put mailmon on PATH")
}
