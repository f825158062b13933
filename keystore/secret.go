package keystore

import (
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[REDACTED]"

// Secret holds a password or another secret string. It never prints its value:
// fmt (every verb), log/slog and encoding/json all see "[REDACTED]". Convert it
// with string(s) where the value itself is needed.
type Secret string

// String returns "[REDACTED]".
func (Secret) String() string { return redacted }

// GoString returns "[REDACTED]", so %#v hides the value too.
func (Secret) GoString() string { return redacted }

// Format writes "[REDACTED]" for every verb, including %x and %q.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue keeps the value out of log/slog records.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText keeps the value out of JSON and other text encodings.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
