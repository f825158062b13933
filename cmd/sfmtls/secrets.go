package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sfmtls/sfmtls/cmd/sfmtls/internal/settings"
	"github.com/sfmtls/sfmtls/keystore"
)

// errNoPassword: a keystore needs a password and none of its sources gave one.
var errNoPassword = errors.New("no password given")

// secretSource is where one password may come from: a file named by a flag, a
// variable, a terminal prompt. Passwords never come from a flag's value, so
// they stay out of shell history and process listings.
type secretSource struct {
	flag     string // the flag naming a password file, e.g. --password-file
	file     string // its value
	variable string // e.g. SF_KEYSTORE_PASSWORD
	label    string // the prompt, e.g. "Password for mtls.jks: "
}

// read returns the password from the file, else the variable, else a terminal
// prompt (asked twice when confirm, for a new password); "" when none gave one.
func (s secretSource) read(e *env, confirm bool) (keystore.Secret, error) {
	if s.file != "" {
		if err := checkSecret(e, s.flag, s.file, true); err != nil {
			return "", err
		}
		b, err := os.ReadFile(s.file)
		if err != nil {
			return "", fmt.Errorf("cannot read the password file %s named by %s: %w", s.file, s.flag, unwrapPath(err))
		}
		return keystore.Secret(strings.TrimRight(string(b), "\r\n")), nil
	}
	if s.variable != "" {
		if v := e.getenv(s.variable); v != "" {
			return keystore.Secret(v), nil
		}
	}
	if s.label == "" || e.prompt == nil {
		return "", nil
	}
	v, ok, err := e.prompt(s.label)
	if err != nil {
		return "", fmt.Errorf("cannot read the password: %w", err)
	}
	if !ok {
		return "", nil
	}
	if confirm {
		again, _, err := e.prompt("Again: ")
		if err != nil {
			return "", fmt.Errorf("cannot read the password: %w", err)
		}
		if again != v {
			return "", errors.New("the two passwords differ")
		}
	}
	return keystore.Secret(v), nil
}

// where names the sources, for an error that tells the user what to set.
func (s secretSource) where() string {
	return fmt.Sprintf("set %s or give %s FILE (on a terminal sfmtls asks)", s.variable, s.flag)
}

// required reads a password that must be there.
func (s secretSource) required(e *env, what string, confirm bool) (keystore.Secret, error) {
	pw, err := s.read(e, confirm)
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", fmt.Errorf("%w for %s: %s", errNoPassword, what, s.where())
	}
	return pw, nil
}

// unwrapPath drops os.PathError's repetition of the path.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// explainNoPassword adds, to a keystore's "wrong password" when no password was
// given at all, which variable or flag supplies it.
func explainNoPassword(err error, given keystore.Secret, src secretSource) error {
	if err == nil || given != "" || !errors.Is(err, keystore.ErrWrongPassword) {
		return err
	}
	return fmt.Errorf("%w; %s: %s", err, errNoPassword, src.where())
}

// checkSecret refuses a secret file (keystore, key, password) other users can
// write, and warns about one they can read, naming chmod 600; secret is false
// for a keystore file that holds only certificates (its key is in a key file).
func checkSecret(e *env, what, path string, secret bool) error {
	if path == "" {
		return nil
	}
	w, err := settings.CheckSecretFile(what, path, secret)
	if err != nil {
		return err
	}
	if w != "" {
		warn(e, []string{w})
	}
	return nil
}
