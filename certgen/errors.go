package certgen

import (
	"errors"
	"strings"
)

// Sentinel errors, matched with errors.Is against any error this package returns.
// A key that does not belong to its certificate, and a chain out of order, match
// keystore.ErrKeyMismatch and keystore.ErrChainOrder, as they do when loading.
var (
	// ErrUnsupportedKey: the key type or size is not one Salesforce accepts for the
	// purpose (RSA of 2048 bits or more, ECDSA P-256/P-384 for mutual TLS; RSA only
	// for the JWT bearer flow).
	ErrUnsupportedKey = errors.New("unsupported key")
	// ErrBadSubject: the subject lacks a common name or has a malformed field.
	ErrBadSubject = errors.New("bad certificate subject")
	// ErrBadValidity: the requested validity period is not positive.
	ErrBadValidity = errors.New("bad validity period")
	// ErrIncompleteChain: an issuer between the leaf and a trusted root is missing.
	ErrIncompleteChain = errors.New("certificate chain incomplete")
)

// Error says what was wrong and how to fix it. Kind is one of the sentinel errors;
// errors.Is matches it and errors.As finds the *Error. It never holds key material.
type Error struct {
	Kind   error  // one of the sentinel errors
	Detail string // what exactly was wrong
	Hint   string // how to fix it, when known
	Err    error  // the underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("certgen: ")
	b.WriteString(e.Kind.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the sentinel kind and the underlying cause.
func (e *Error) Unwrap() []error {
	errs := []error{e.Kind}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}
