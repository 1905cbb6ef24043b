//go:build !unix

package proctune

import "time"

// processCPU cannot be read here: the tuner leaves the runtime alone.
func processCPU() (time.Duration, bool) { return 0, false }
