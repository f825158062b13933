package auth

// SignedAhead reports whether an assertion signed ahead waits for the next
// exchange.
func (ts *JWTBearer) SignedAhead() bool { return ts.ahead.Load() != nil }
