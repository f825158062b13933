package auth

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads an HTTP Retry-After value (RFC 9110 §10.2.3): either
// delay-seconds or an HTTP-date, which is turned into the wait from now. It
// reports false for an empty, malformed or negative value; a date in the past
// is a wait of zero. The transport's API-call retries and the token request's
// retries share it.
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
