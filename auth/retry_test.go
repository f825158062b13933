package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfmtls/sfmtls/internal/retry"
)

// retryAfterEndpoint is a token endpoint that answers 503 with retryAfter
// (a fresh value from each call) until it has failed fails times, then a token.
func retryAfterEndpoint(t *testing.T, fails int64, retryAfter func() string) (*JWTBearer, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) <= fails {
			w.Header().Set("Retry-After", retryAfter())
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"00Dx!AQ","instance_url":"https://acme.my.salesforce.com","token_type":"Bearer"}`))
	}))
	t.Cleanup(srv.Close)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewJWTBearer(JWTBearerConfig{LoginURL: srv.URL, ConsumerKey: "ck", Username: "u@example.com", Signer: key,
		HTTPClient: srv.Client(), Retry: retry.Backoff{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}.Or(retry.Login)})
	if err != nil {
		t.Fatal(err)
	}
	return src, &n
}

// TestTokenRequestHonoursRetryAfter: a 503's Retry-After is waited out in
// full, as seconds or as an HTTP-date, even past MaxDelay; one longer than the
// caller's deadline fails at once instead of sleeping into the deadline.
func TestTokenRequestHonoursRetryAfter(t *testing.T) {
	for name, value := range map[string]func() string{
		"seconds":   func() string { return "1" },
		"HTTP-date": func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) },
	} {
		t.Run(name, func(t *testing.T) {
			src, n := retryAfterEndpoint(t, 1, value)
			start := time.Now()
			if _, err := src.Token(t.Context()); err != nil {
				t.Fatal(err)
			}
			if waited := time.Since(start); waited < time.Second {
				t.Errorf("retried after %v, before the Retry-After", waited)
			}
			if n.Load() != 2 {
				t.Errorf("%d requests, want 2", n.Load())
			}
		})
	}
	t.Run("longer than the deadline", func(t *testing.T) {
		src, n := retryAfterEndpoint(t, 10, func() string { return "30" })
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := src.Token(ctx)
		var re *ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("got %v, want the 503", err)
		}
		if waited := time.Since(start); waited > time.Second {
			t.Errorf("returned after %v; the deadline was 2s and the wait 30s: it should not wait", waited)
		}
		if n.Load() != 1 {
			t.Errorf("%d requests, want 1", n.Load())
		}
	})
}
