package diag

import (
	"errors"
	"fmt"
)

// StepError is a check that failed at Step.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("diag: %s failed: %v", e.Step, e.Err) }

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// ErrNoLoginURL: a TokenSource without LoginURL leaves the handshake step no
// login host to probe, and the TokenSource gave no token to take the instance URL from.
var ErrNoLoginURL = errors.New("diag: no LoginURL to probe, and the TokenSource gave no token to take the instance URL from")

// ErrRefusedAfterHandshake: under TLS 1.3 the server dropped the connection
// right after a handshake in which the client certificate was sent, which is
// how a TLS 1.3 server refuses a certificate when its alert is lost.
var ErrRefusedAfterHandshake = errors.New("diag: the server closed the connection right after the TLS 1.3 handshake: bad certificate")

// ErrCertificateNotSent: the server answered with Salesforce's HTML page
// saying no client certificate was provided, though this side offered one.
var ErrCertificateNotSent = errors.New("diag: the server answered that no client certificate was provided")
