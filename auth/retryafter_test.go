package auth

import (
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
