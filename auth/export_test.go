package auth

import "time"

// SignedAhead reports whether an assertion signed ahead waits for the next
// exchange.
func (ts *JWTBearer) SignedAhead() bool { return ts.ahead.Load() != nil }

// SetSignAheadDelay sets how long after a fetch the next assertion is signed
// ahead.
func (ts *JWTBearer) SetSignAheadDelay(d time.Duration) { ts.signAheadAfter = d }
