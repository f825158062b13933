// Package secretfile judges who besides its owner can touch a file that holds
// a secret (a keystore, a key, a password), as ssh does for a private key: the
// SDK's ConfigFromEnv and the sfmtls tool apply the same rule.
package secretfile

import (
	"os"
	"runtime"
)

// Exposure is who besides the owner can touch a file.
type Exposure int

const (
	// Private: only the owner (or the mode cannot tell).
	Private Exposure = iota
	// Readable: group or others can read it; use it, with a warning.
	Readable
	// Writable: group or others can write it, so its content may not be the
	// user's; refuse it.
	Writable
)

// Fix is the remedy for an exposed file.
func Fix(path string) string { return "chmod 600 " + path + " (and check that its content is yours)" }

// Check returns how exposed the file at path is, and its mode. A file that
// cannot be stat'ed is Private here: its reader says why it cannot be read.
// Where files have no Unix modes (Windows, Plan 9, js, wasip1) every file is
// Private: their ACLs decide.
func Check(path string) (Exposure, os.FileMode) {
	switch runtime.GOOS {
	case "windows", "plan9", "js", "wasip1":
		return Private, 0
	}
	info, err := os.Stat(path)
	if err != nil {
		return Private, 0
	}
	perm := info.Mode().Perm()
	switch {
	case perm&0o022 != 0:
		return Writable, perm
	case perm&0o044 != 0:
		return Readable, perm
	}
	return Private, perm
}
