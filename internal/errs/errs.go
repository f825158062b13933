// Package errs holds the configuration error that every package of the SDK
// returns, so that one sentinel and one type serve them all. Users see them as
// client.ErrConfig and client.ConfigError.
package errs

import (
	"errors"
	"strings"
)

// ErrConfig marks a configuration that cannot work. Users match it as
// client.ErrConfig.
var ErrConfig = errors.New("invalid configuration")

// ConfigError is one problem with one field of client.Config (or of a value
// the SDK reads into it). Users name it client.ConfigError.
type ConfigError struct {
	// Field is the client.Config field, such as "LoginURL" or "MTLS".
	Field string
	// Setting is the SF_* variable the value came from, when it came from one
	// (client.ConfigFromEnv); empty otherwise.
	Setting string
	// Problem says what is wrong, without the remedy.
	Problem string
	// Remedy says how to mend it; Fix returns it.
	Remedy string
	// Err is the underlying error, such as a keystore's, when there is one.
	Err error
}

// Error says which field is wrong and why. It never holds a secret: the
// fields it names hold none, and Problem quotes only non-secret values.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("client: Config.")
	b.WriteString(e.Field)
	if e.Setting != "" {
		b.WriteString(" (")
		b.WriteString(e.Setting)
		b.WriteString(")")
	}
	if e.Problem != "" {
		b.WriteString(": ")
		b.WriteString(e.Problem)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Fix says how to mend the field; it names the SF_* variable when the value
// came from one.
func (e *ConfigError) Fix() string {
	if e.Remedy != "" {
		return e.Remedy
	}
	var f interface{ Fix() string }
	if errors.As(e.Err, &f) {
		return f.Fix()
	}
	return ""
}

// Is makes every ConfigError match ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// New returns a ConfigError for field.
func New(field, problem, remedy string) *ConfigError {
	return &ConfigError{Field: field, Problem: problem, Remedy: remedy}
}

// ErrLeaseLost reports that a process no longer holds the lease of its
// subscription: another process of the fleet took over. The stores (auth,
// redisstore) return it from SavePosition; users match it as
// events.ErrLeaseLost, the same value.
var ErrLeaseLost = errors.New("events: the subscription's lease is held by another process")
