package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// RetryPolicy decides whether an API call that failed transiently is sent
// again, and after how long. The Transport asks it only about failures after
// which sending again is safe (see RoundTrip): the policy chooses the pace and
// the number of attempts, never whether a write may be repeated. Set one for a
// Transport in Config.CallRetry, or for one call with WithRetryPolicy.
type RetryPolicy interface {
	// Backoff is called after attempt (1 for the first send) failed with f. It
	// returns the wait before the next attempt, or false to give up and return
	// f's answer or error to the caller.
	Backoff(attempt int, f Failure) (time.Duration, bool)
}

// Failure describes a failed attempt for a RetryPolicy.
type Failure struct {
	StatusCode int           // 0 when the request got no answer
	ErrorCode  string        // Salesforce's errorCode, if the answer had one
	Err        error         // the transport error when there was no answer
	RetryAfter time.Duration // the answer's Retry-After, 0 when none
}

// Backoff is the default RetryPolicy: exponential backoff with full jitter,
// at least the server's Retry-After. Zero fields take the defaults.
type Backoff struct {
	MaxAttempts   int           // attempts in all, the first included; default 3
	BaseDelay     time.Duration // first backoff window; default 100ms
	MaxDelay      time.Duration // backoff cap; default 5s
	MaxRetryAfter time.Duration // a longer Retry-After gives up instead; default 1m
}

func (b Backoff) withDefaults() Backoff {
	if b.MaxAttempts <= 0 {
		b.MaxAttempts = 3
	}
	if b.BaseDelay <= 0 {
		b.BaseDelay = 100 * time.Millisecond
	}
	if b.MaxDelay <= 0 {
		b.MaxDelay = 5 * time.Second
	}
	if b.MaxRetryAfter <= 0 {
		b.MaxRetryAfter = time.Minute
	}
	return b
}

// Backoff implements RetryPolicy.
func (b Backoff) Backoff(attempt int, f Failure) (time.Duration, bool) {
	b = b.withDefaults()
	if attempt >= b.MaxAttempts || f.RetryAfter > b.MaxRetryAfter {
		return 0, false
	}
	window := b.BaseDelay << min(attempt-1, 20)
	if window <= 0 || window > b.MaxDelay {
		window = b.MaxDelay
	}
	return max(time.Duration(rand.Int64N(int64(window))+1), f.RetryAfter), true
}

// NoRetry is a RetryPolicy that never retries; with WithRetryPolicy it turns
// retries off for one call. Session refreshes still replay the call.
var NoRetry RetryPolicy = noRetry{}

type noRetry struct{}

func (noRetry) Backoff(int, Failure) (time.Duration, bool) { return 0, false }

type retryPolicyKey struct{}

// WithRetryPolicy returns a context whose API calls are retried by p instead
// of the Transport's policy.
func WithRetryPolicy(ctx context.Context, p RetryPolicy) context.Context {
	return context.WithValue(ctx, retryPolicyKey{}, p)
}

// RetryPolicyFor returns the policy that paces the retries of a call made with
// ctx: the one WithRetryPolicy put in ctx, else Config.CallRetry (default
// Backoff). A caller that narrows what is retried wraps it, so that the
// user's pace and number of attempts still apply.
func (t *Transport) RetryPolicyFor(ctx context.Context) RetryPolicy { return t.policyFor(ctx) }

func (t *Transport) policyFor(ctx context.Context) RetryPolicy {
	if p, ok := ctx.Value(retryPolicyKey{}).(RetryPolicy); ok && p != nil {
		return p
	}
	return t.retry
}

// budget bounds retries across the whole Transport, so that retries cannot
// multiply the load on an org that is failing: each retry spends one token,
// each call that succeeds earns back a tenth of one, and a retry with no
// whole token left is not made (the failure goes to the caller). With every
// call failing, retries add at most the budget's size and then a tenth of the
// calls; the idea is gRPC's retry throttling.
type budget struct {
	milli atomic.Int64 // thousandths of a token
	max   int64
}

const (
	tokenCost   = 1000 // one retry
	tokenReward = 100  // one success
)

func newBudget(size int) *budget {
	b := &budget{max: int64(size) * tokenCost}
	b.milli.Store(b.max)
	return b
}

// spend takes one token for a retry, or reports false when none is left.
func (b *budget) spend() bool {
	for {
		n := b.milli.Load()
		if n < tokenCost {
			return false
		}
		if b.milli.CompareAndSwap(n, n-tokenCost) {
			return true
		}
	}
}

// earn credits a success. A full budget, the usual state, costs one load.
func (b *budget) earn() {
	for {
		n := b.milli.Load()
		if n >= b.max {
			return
		}
		if b.milli.CompareAndSwap(n, min(n+tokenReward, b.max)) {
			return
		}
	}
}

// idempotent: the methods RFC 9110 §9.2.2 defines as idempotent. Sending one
// twice has the effect of sending it once, so it may be retried even when the
// first attempt may have been processed. (A DELETE repeated after it was
// processed is answered 404 ENTITY_IS_DELETED; the record is deleted either way.)
func idempotent(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// replayable: the request has no body, or one that GetBody makes anew.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// classifyError gives the verdict on a request that got no answer.
//
//   - A failed dial never reached the server: not processed, whatever the method.
//   - HTTP/2 GOAWAY for a stream the server never processed, REFUSED_STREAM, and
//     an HTTP/1.1 connection that failed before anything was written are
//     resent by net/http itself (it knows which of these happened; the error
//     values are unexported), so they arrive here only when that failed too.
//   - Any other failure (a reset, an EOF, a timeout) may come after the request
//     was written and processed: only an idempotent request is sent again.
//   - Cancellation, a deadline, a TLS refusal and a local refusal of the client
//     certificate do not heal by retrying.
func classifyError(err error) verdict {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || tlsRefusal(err) {
		return verdictOK
	}
	var local *ClientCertificateError
	if errors.As(err, &local) {
		return verdictOK
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return retryNotProcessed
	}
	return retryIfIdempotent
}

// tlsRefusal: a certificate or handshake refusal, by either side.
func tlsRefusal(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return true
	}
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recordHeader tls.RecordHeaderError
	return errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &unknownCA) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &recordHeader)
}

// MaybeProcessedError: a request that is not idempotent failed after it may
// have reached Salesforce (the connection broke before an answer came), so it
// was not sent again. Salesforce may or may not have processed it.
type MaybeProcessedError struct {
	Method, URL string
	Err         error
}

func (e *MaybeProcessedError) Error() string {
	return fmt.Sprintf("sfmtls: %s %s: %v; not sent again: %s", e.Method, e.URL, e.Err, e.Fix())
}

// Fix says what to do about it.
func (e *MaybeProcessedError) Fix() string {
	return "the connection failed after the request was sent, so Salesforce may have processed it; " +
		"check (query by an external ID, say) before sending it again, or use an upsert, which is safe to repeat"
}

func (e *MaybeProcessedError) Unwrap() error { return e.Err }

// ClientCertificateError: the Transport refused to present its client
// certificate at a handshake, because it is outside its validity period. No
// retry helps; rotate the certificate (SetMTLSIdentity, Reloader).
type ClientCertificateError struct {
	Err  error
	leaf *x509.Certificate
}

func (e *ClientCertificateError) Error() string {
	return fmt.Sprintf("sfmtls: client certificate not presented: %v; %s", e.Err, e.Fix())
}

// Fix says what to do about it.
func (e *ClientCertificateError) Fix() string {
	return "renew the Mutual Authentication Certificate, upload it, and rotate it in (SetMTLSIdentity or a Reloader)"
}

// Unwrap gives the validity error and, so that retry loops that know only the
// standard library (the token request's) treat it as final, the
// x509.CertificateInvalidError it amounts to.
func (e *ClientCertificateError) Unwrap() []error {
	return []error{e.Err, x509.CertificateInvalidError{Cert: e.leaf, Reason: x509.Expired, Detail: e.Err.Error()}}
}
