//go:build unix

package transport_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the test process has used: on a machine shared with
// other work, CPU time per operation is steadier than wall time, which
// includes waiting for a core.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
