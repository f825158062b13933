package settings

import (
	"fmt"
	"os"

	"github.com/sfmtls/sfmtls/internal/secretfile"
)

// FileModeError is a secret file the tool refuses: other users (group or
// others) can write it, so the key or password in it may not be the user's.
type FileModeError struct {
	What string // the flag or argument that named it, e.g. "--password-file"
	Path string
	Mode os.FileMode
}

func (e *FileModeError) Error() string {
	return fmt.Sprintf("%s: %s has mode %04o: other users can write it", e.What, e.Path, e.Mode)
}

// Fix says how to mend it.
func (e *FileModeError) Fix() string { return secretfile.Fix(e.Path) }

// CheckSecretFile refuses a file holding a secret (a keystore, a key, a
// password, an encryption key) that other users can write, with a
// *FileModeError; when secret, one they can read is allowed and described in
// warning, which names the fix, as ssh does for a key. A certificate-only file
// (secret false) may be read by all. A file that cannot be stat'ed is left to
// its reader, which says why. Where files have no Unix modes (Windows, Plan 9,
// js, wasip1) nothing is checked: their ACLs decide. The SDK's
// client.ConfigFromEnv checks the connection's files the same way.
func CheckSecretFile(what, path string, secret bool) (warning string, err error) {
	switch exposure, perm := secretfile.Check(path); {
	case exposure == secretfile.Writable:
		return "", &FileModeError{What: what, Path: path, Mode: perm}
	case exposure == secretfile.Readable && secret:
		return fmt.Sprintf("%s: %s has mode %04o: other users can read it (chmod 600 %s)", what, path, perm, path), nil
	}
	return "", nil
}
