package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// check prints each step as it ends: against a token endpoint that does not
// answer, the first three steps are on the screen while the token request
// still hangs, not all at once after the step's 30 s timeout.
func TestCheckPrintsEachStepAsItEnds(t *testing.T) {
	org, vars := orgEnv(t)
	hanging, release := make(chan struct{}), make(chan struct{})
	org.Faults().FailTokenRequestsWith(1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(hanging)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"user hasn't approved this consumer"}`))
	}))
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"check"}, &env{ctx: t.Context(), stdout: out, stderr: out, getenv: func(k string) string { return vars[k] }})
	}()
	select {
	case <-hanging:
	case <-time.After(20 * time.Second):
		t.Fatalf("the token request never came; output so far:\n%s", out.String())
	}
	// The token request is hanging now: the steps before it are printed.
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "[3/5] TLS handshake") }, 10*time.Second, 5*time.Millisecond, out.String())
	during := out.String()
	for _, step := range []string{"[1/5] mTLS keystore", "[2/5] JWT keystore", "[3/5] TLS handshake"} {
		assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(step)+`\s+ok\s`, during)
	}
	assert.NotContains(t, during, "[4/5]", "the token step has not ended")
	assert.NotContains(t, during, "Connection")

	close(release)
	select {
	case code := <-done:
		assert.Equal(t, 1, code, out.String())
	case <-time.After(20 * time.Second):
		t.Fatal("check did not end after the token endpoint answered")
	}
	assert.True(t, strings.HasPrefix(out.String(), during), "later output only follows what was printed")
	assert.Regexp(t, `(?m)^\[4/5\] JWT bearer token\s+FAILED\s`, out.String())
	assert.Contains(t, out.String(), "Connection FAILED at step 4 (JWT bearer token).")
	assert.NotContains(t, out.String(), "[5/5]")
}
