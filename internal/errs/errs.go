package errs

import "errors"

var ErrConfig = errors.New("invalid configuration")
