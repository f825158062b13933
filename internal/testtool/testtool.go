// Package testtool lets a test use a program that a developer's machine may
// lack (openssl, keytool, pk12util, redis-server, curl, python3): without it the test is
// skipped with one line naming the Debian package, except under CI=true,
// where .ci/run has installed every program and a missing one is a failure.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// packages names the Debian package of each program the tests start.
var packages = map[string]string{
	"openssl":      "openssl",
	"keytool":      "openjdk-17-jre-headless",
	"pk12util":     "libnss3-tools",
	"redis-server": "redis-server",
	"curl":         "curl",
	"python3":      "python3",
}

// Need returns the path of program, or ends the test: skipped on a
// developer's machine, failed under CI=true.
func Need(tb testing.TB, program string) string {
	tb.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	pkg := packages[program]
	if pkg == "" {
		pkg = program
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is not installed, and CI must run every test: .ci/run installs Debian's %s", program, pkg)
	}
	tb.Skipf("needs %s (Debian: apt-get install %s)", program, pkg)
	return ""
}
