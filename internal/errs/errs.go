// Package errs holds the error sentinels the SDK's packages share.
package errs

import "errors"

// ErrConfig marks a configuration that cannot work; client.ErrConfig exports it.
var ErrConfig = errors.New("invalid configuration")
