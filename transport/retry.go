package transport

import (
	"context"
	"time"

	"github.com/sfmtls/sfmtls/internal/retry"
)

// RetryPolicy paces retries: Config.CallRetry those of API calls,
// Config.LoginRetry those of the token request, WithRetryPolicy those of one
// call. The Transport asks it only about failures after which sending again
// is safe (see RoundTrip): the policy chooses the pace and the number of
// attempts, never whether a write may be repeated. Every wait is at least the
// answer's Retry-After, never ends past the caller's deadline (the failure
// goes back at once instead), and spends from the Transport's RetryBudget.
type RetryPolicy interface {
	// Backoff is called after attempt (1 for the first send) failed with f. It
	// returns the wait before the next attempt, or false to give up and return
	// f's answer or error to the caller.
	Backoff(attempt int, f Failure) (time.Duration, bool)
}

// Failure describes a failed attempt for a RetryPolicy.
type Failure struct {
	StatusCode int           // 0 when the request got no answer
	ErrorCode  string        // Salesforce's errorCode (the OAuth error for the token request), if any
	Err        error         // the transport error when there was no answer
	RetryAfter time.Duration // the answer's Retry-After, 0 when none
}

// Backoff is the default RetryPolicy: exponential backoff with full jitter,
// at least the server's Retry-After. Zero fields take the defaults of what it
// paces: for API calls 3 attempts from 100ms, for the token request 4 from
// 200ms; both cap the backoff at 5s and give up on a Retry-After over a minute.
type Backoff struct {
	MaxAttempts   int           // attempts in all, the first included
	BaseDelay     time.Duration // first backoff window
	MaxDelay      time.Duration // backoff cap
	MaxRetryAfter time.Duration // a longer Retry-After gives up instead
}

// Backoff implements RetryPolicy, with the defaults of API calls.
func (b Backoff) Backoff(attempt int, f Failure) (time.Duration, bool) {
	return retry.Backoff(b).Or(retry.Calls).Backoff(attempt, retry.Failure(f))
}

// NoRetry is a RetryPolicy that never retries; with WithRetryPolicy it turns
// retries off for one call. Session refreshes still replay the call.
var NoRetry RetryPolicy = noRetry{}

type noRetry struct{}

func (noRetry) Backoff(int, Failure) (time.Duration, bool) { return 0, false }

type retryPolicyKey struct{}

// WithRetryPolicy returns a context whose API calls are retried by p instead
// of Config.CallRetry.
func WithRetryPolicy(ctx context.Context, p RetryPolicy) context.Context {
	return context.WithValue(ctx, retryPolicyKey{}, p)
}

// policyFor returns the policy that paces the retries of a call made with
// ctx: the one WithRetryPolicy put in ctx, else Config.CallRetry.
func (t *Transport) policyFor(ctx context.Context) retry.Policy {
	if p, ok := ctx.Value(retryPolicyKey{}).(RetryPolicy); ok && p != nil {
		return pacer(p, retry.Calls)
	}
	return t.retry
}

// pacer turns a user's policy into the shared mechanism's; a Backoff's zero
// fields take def.
func pacer(p RetryPolicy, def retry.Backoff) retry.Policy {
	switch b := p.(type) {
	case Backoff:
		return retry.Backoff(b).Or(def)
	case *Backoff:
		if b == nil {
			return def
		}
		return retry.Backoff(*b).Or(def)
	}
	return userPolicy{p}
}

// userPolicy adapts a RetryPolicy to the shared mechanism.
type userPolicy struct{ p RetryPolicy }

func (u userPolicy) Backoff(attempt int, f retry.Failure) (time.Duration, bool) {
	return u.p.Backoff(attempt, Failure(f))
}
