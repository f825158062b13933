package retry

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestParseRetryAfter: RFC 9110 §10.2.3 allows delay-seconds or an HTTP-date.
func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Sunday, 30-Nov-26 23:00:30 GMT", 30 * time.Second, true}, // RFC 850 form
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},     // in the past: no wait
		{"99999999999999999999", 0, false},                         // overflows int64
		{"9223372036854775807", time.Duration(1<<63-1) / time.Second * time.Second, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Mon, 30 Nov 2026 23:00:00 GMT", "-1", "", "1e9"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := ParseRetryAfter(s, now); d < 0 || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}

// TestNext: the policy's wait, at least Retry-After; a wait past the deadline
// gives up at once; the budget is spent only on a retry.
func TestNext(t *testing.T) {
	ctx := t.Context()
	p := Backoff{MaxAttempts: 3}.Or(Calls)
	wait, d := Next(ctx, p, nil, 1, Failure{StatusCode: 503, RetryAfter: 2 * time.Second})
	if d != Retry || wait < 2*time.Second {
		t.Errorf("Next = %v, %v; want Retry after at least 2s", wait, d)
	}
	if _, d := Next(ctx, p, nil, 3, Failure{StatusCode: 503}); d != GiveUp {
		t.Errorf("the third failure of 3 attempts: %v, want GiveUp", d)
	}
	if _, d := Next(ctx, p, nil, 1, Failure{StatusCode: 503, RetryAfter: 2 * time.Minute}); d != GiveUp {
		t.Errorf("a Retry-After past MaxRetryAfter: %v, want GiveUp", d)
	}
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	budget := NewBudget(1)
	if _, d := Next(dctx, p, budget, 1, Failure{StatusCode: 429, RetryAfter: 5 * time.Second}); d != PastDeadline {
		t.Errorf("a wait past the deadline: %v, want PastDeadline", d)
	}
	if _, d := Next(ctx, p, budget, 1, Failure{StatusCode: 503}); d != Retry {
		t.Errorf("with one token left: %v, want Retry", d)
	}
	if _, d := Next(ctx, p, budget, 1, Failure{StatusCode: 503}); d != OutOfBudget {
		t.Errorf("with none left: %v, want OutOfBudget", d)
	}
	for range 10 {
		budget.Earn()
	}
	if !budget.Spend() || budget.Spend() {
		t.Error("ten successes earn one retry, and the budget holds no more than its size")
	}
}

// TestConcurrentLimit: the limit's name is the message's first word, whole.
func TestConcurrentLimit(t *testing.T) {
	for msg, want := range map[string]bool{
		"ConcurrentPerOrgLongTxn Limit exceeded.":                      true,
		"ConcurrentRequests (Concurrent API Requests) Limit exceeded.": true,
		"TotalRequests Limit exceeded.":                                false,
		"ConcurrentRequestsX Limit exceeded.":                          false,
		"Limit exceeded: ConcurrentPerOrgLongTxn":                      false,
		"": false,
	} {
		if got := concurrentLimit(msg); got != want {
			t.Errorf("concurrentLimit(%q) = %v, want %v", msg, got, want)
		}
	}
}

// NotProcessed names the answers after which the transport resends any
// method ("Status Codes and Error Responses"); the daily request limit and a
// plain 500 are not among them.
func TestNotProcessed(t *testing.T) {
	for _, tc := range []struct {
		status        int
		code, message string
		want          bool
	}{
		{429, "", "", true},
		{503, "", "", true},
		{500, "SERVER_UNAVAILABLE", "", true},
		{400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record", true},
		{403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded.", true},
		{403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", false},
		{500, "UNKNOWN_EXCEPTION", "", false},
		{502, "", "", false},
		{400, "INVALID_FIELD", "UNABLE_TO_LOCK_ROW", false},
	} {
		if got := NotProcessed(tc.status, tc.code, tc.message); got != tc.want {
			t.Errorf("NotProcessed(%d, %s, %q) = %t, want %t", tc.status, tc.code, tc.message, got, tc.want)
		}
	}
}
