//go:build !unix

package transport_test

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
