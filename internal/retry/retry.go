// Package retry is the SDK's one retry mechanism, shared by the token request
// (auth), API calls (transport), sObject Collections (client) and, through the
// transport, Bulk: the backoff, the Retry-After parser, the budget, and the
// classifier of failures that got no answer. Users choose the pace with
// transport.RetryPolicy; what may be sent again is decided here and in the
// transport, never by a policy.
package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Failure describes a failed attempt to a Policy.
type Failure struct {
	StatusCode int           // 0 when the request got no answer
	ErrorCode  string        // Salesforce's errorCode (or OAuth error), if the answer had one
	Err        error         // the transport error when there was no answer
	RetryAfter time.Duration // the answer's Retry-After, 0 when none
}

// Policy paces retries: after attempt (1 for the first send) failed with f, it
// returns the wait before the next attempt, or false to give up.
type Policy interface {
	Backoff(attempt int, f Failure) (time.Duration, bool)
}

// Backoff is exponential backoff with full jitter, at least the answer's
// Retry-After. Zero fields take the defaults of the policy it stands in for
// (see Calls and Login).
type Backoff struct {
	MaxAttempts   int           // attempts in all, the first included
	BaseDelay     time.Duration // first backoff window
	MaxDelay      time.Duration // backoff cap
	MaxRetryAfter time.Duration // a longer Retry-After gives up instead
}

// Calls are the defaults for API calls: 3 attempts from 100ms.
var Calls = Backoff{MaxAttempts: 3, BaseDelay: 100 * time.Millisecond, MaxDelay: 5 * time.Second, MaxRetryAfter: time.Minute}

// Login are the defaults for the token request: 4 attempts from 200ms.
var Login = Backoff{MaxAttempts: 4, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second, MaxRetryAfter: time.Minute}

// Or fills b's zero fields from def.
func (b Backoff) Or(def Backoff) Backoff {
	if b.MaxAttempts <= 0 {
		b.MaxAttempts = def.MaxAttempts
	}
	if b.BaseDelay <= 0 {
		b.BaseDelay = def.BaseDelay
	}
	if b.MaxDelay <= 0 {
		b.MaxDelay = def.MaxDelay
	}
	if b.MaxRetryAfter <= 0 {
		b.MaxRetryAfter = def.MaxRetryAfter
	}
	return b
}

// Backoff implements Policy; b must have its defaults filled (Or).
func (b Backoff) Backoff(attempt int, f Failure) (time.Duration, bool) {
	if attempt >= b.MaxAttempts || f.RetryAfter > b.MaxRetryAfter {
		return 0, false
	}
	window := b.BaseDelay << min(attempt-1, 20)
	if window <= 0 || window > b.MaxDelay {
		window = b.MaxDelay
	}
	return max(time.Duration(rand.Int64N(int64(window))+1), f.RetryAfter), true
}

// Budget bounds retries across one Transport, so that retries cannot multiply
// the load on an org that is failing: each retry spends one token, each call
// that succeeds earns back a tenth of one, and a retry with no whole token
// left is not made (the failure goes to the caller). With every call failing,
// retries add at most the budget's size and then a tenth of the calls; the
// idea is gRPC's retry throttling. The token request and the API calls of a
// Transport spend from the same Budget.
type Budget struct {
	milli atomic.Int64 // thousandths of a token
	max   int64
}

const (
	tokenCost   = 1000 // one retry
	tokenReward = 100  // one success
)

// NewBudget returns a full budget of size retries; 0 allows none.
func NewBudget(size int) *Budget {
	b := &Budget{max: int64(max(size, 0)) * tokenCost}
	b.milli.Store(b.max)
	return b
}

// Spend takes one token for a retry, or reports false when none is left. A nil
// Budget always has one.
func (b *Budget) Spend() bool {
	if b == nil {
		return true
	}
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

// Earn credits a success. A full budget, the usual state, costs one load.
func (b *Budget) Earn() {
	if b == nil {
		return
	}
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

// Decision is Next's answer.
type Decision int

const (
	// Retry: wait, then send again. One token of the budget is spent.
	Retry Decision = iota
	// GiveUp: the policy stops here.
	GiveUp
	// PastDeadline: the wait would end after the caller's deadline, so the
	// failure goes back now rather than after a sleep into the deadline.
	PastDeadline
	// OutOfBudget: the Transport's retry budget is spent.
	OutOfBudget
)

// Next decides whether attempt, which failed with f, is followed by another,
// and after how long: the policy's wait, at least f.RetryAfter, never ending
// past ctx's deadline, paid from budget (nil: unbounded).
func Next(ctx context.Context, p Policy, budget *Budget, attempt int, f Failure) (time.Duration, Decision) {
	wait, ok := p.Backoff(attempt, f)
	if !ok {
		return 0, GiveUp
	}
	wait = max(wait, f.RetryAfter)
	if dl, has := ctx.Deadline(); has && time.Until(dl) <= wait {
		return 0, PastDeadline
	}
	if !budget.Spend() {
		return 0, OutOfBudget
	}
	return wait, Retry
}

// Sleep waits d, or until ctx ends (its error).
func Sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// ParseRetryAfter reads an HTTP Retry-After value (RFC 9110 §10.2.3): either
// delay-seconds or an HTTP-date, which is turned into the wait from now. It
// reports false for an empty, malformed or negative value; a date in the past
// is a wait of zero.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if value[0] >= '0' && value[0] <= '9' {
		s, err := strconv.ParseInt(value, 10, 64)
		if err != nil || s < 0 {
			return 0, false
		}
		// Cap before multiplying: a huge value must not overflow into a short wait.
		const maxSeconds = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(s, maxSeconds)) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

// RetryAfter is the wait an answer's Retry-After asks for; 0 when none.
func RetryAfter(h http.Header) time.Duration {
	d, _ := ParseRetryAfter(h.Get("Retry-After"), time.Now())
	return d
}

// NoAnswer is the classifier's verdict on a request that got no answer.
type NoAnswer int

const (
	// Final: cancellation, a deadline, or a certificate or handshake refusal
	// by either side; sending again cannot heal it.
	Final NoAnswer = iota
	// NotSent: the request never reached the server (the dial failed), so it
	// may be sent again whatever its method.
	NotSent
	// MaybeProcessed: the request may have been written and processed before
	// the connection failed (a reset, an EOF, a timeout); only a request that
	// is safe to repeat may be sent again.
	MaybeProcessed
)

// Classify gives the verdict on err, the error of a request that got no
// answer.
//
// HTTP/2 GOAWAY for a stream the server never processed, REFUSED_STREAM, and
// an HTTP/1.1 connection that failed before anything was written are resent
// by net/http itself (it knows which of these happened; the error values are
// unexported), so they arrive here only when that failed too, and count as
// MaybeProcessed. The transport's refusal to present an expired client
// certificate unwraps to an x509.CertificateInvalidError, and is Final.
func Classify(err error) NoAnswer {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || TLSRefusal(err) {
		return Final
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return NotSent
	}
	return MaybeProcessed
}

// TLSRefusal reports a certificate or handshake refusal, by either side. An
// alert the server sent arrives as a net.OpError "remote error"; tls.AlertError
// covers the alerts this side sends.
func TLSRefusal(err error) bool {
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

// Dropped reports a connection that ended without an answer and without a TLS
// alert: under TLS 1.3 that is how a refused client certificate often shows.
func Dropped(err error) bool {
	if TLSRefusal(err) {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || strings.Contains(err.Error(), "http2: client conn could not be established")
}

// Idempotent reports the methods RFC 9110 §9.2.2 defines as idempotent.
// Sending one twice has the effect of sending it once, so it may be retried
// even when the first attempt may have been processed. (A DELETE repeated
// after it was processed is answered 404 ENTITY_IS_DELETED; the record is
// deleted either way.)
func Idempotent(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

type answeredOnlyKey struct{}

// AnsweredOnly returns a context whose API calls are sent again only after a
// failure that came with an answer saying Salesforce did not process them: a
// call that got no answer is not resent, whatever its method. sObject
// Collections' DELETE needs it: a second send would report the records the
// first one deleted as ENTITY_IS_DELETED and hide that they were deleted.
func AnsweredOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, answeredOnlyKey{}, true)
}

// IsAnsweredOnly reports whether ctx came from AnsweredOnly.
func IsAnsweredOnly(ctx context.Context) bool {
	on, _ := ctx.Value(answeredOnlyKey{}).(bool)
	return on
}

type repeatableKey struct{}

// Repeatable returns a context whose API calls are safe to send twice
// whatever their method, such as sObject Collections' retrieve, a read sent
// as a POST: after a failure without an answer they are retried as an
// idempotent call would be.
func Repeatable(ctx context.Context) context.Context {
	return context.WithValue(ctx, repeatableKey{}, true)
}

// IsRepeatable reports whether ctx came from Repeatable.
func IsRepeatable(ctx context.Context) bool {
	on, _ := ctx.Value(repeatableKey{}).(bool)
	return on
}
