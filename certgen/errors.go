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
	ErrUnsupportedKey = errors.New("certgen: unsupported key")
	// ErrBadSubject: the subject lacks a common name or has a malformed field.
	ErrBadSubject = errors.New("certgen: bad certificate subject")
	// ErrBadValidity: the requested validity period is not positive.
	ErrBadValidity = errors.New("certgen: bad validity period")
	// ErrIncompleteChain: an issuer between the leaf and a trusted root is missing.
	ErrIncompleteChain = errors.New("certgen: certificate chain incomplete")
)

// Error says what was wrong; Fix says how to mend it. Kind is one of the
// sentinel errors (or keystore.ErrKeyMismatch, keystore.ErrChainOrder);
// errors.Is matches it and errors.As finds the *Error. It never holds key material.
type Error struct {
	Kind   error  // one of the sentinel errors
	Detail string // what exactly was wrong
	Err    error  // the underlying cause, if any
	fix    string // how to mend it, when known
}

// Error says what was wrong: "certgen: KIND: DETAIL: CAUSE", each part when known.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("certgen: ")
	b.WriteString(strings.TrimPrefix(strings.TrimPrefix(e.Kind.Error(), "certgen: "), "keystore: "))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Fix says how to mend the problem, or "" when there is no advice beyond the
// error itself.
func (e *Error) Fix() string { return e.fix }

// Unwrap returns the sentinel kind and the underlying cause.
func (e *Error) Unwrap() []error {
	errs := []error{e.Kind}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}
