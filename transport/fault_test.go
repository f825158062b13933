package transport_test

// The fault and abuse suite: sessions expiring under load, a misbehaving token
// endpoint, TLS failures, and no goroutine left behind. Every server here is on
// loopback; every loop is bounded in count and time.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// TestExpiryUnderLoad: 1,000 callers for three seconds while the org ends every
// session each second. No request fails, and each expiry costs one token request.
func TestExpiryUnderLoad(t *testing.T) {
	org := startOrg(t)
	tr := newTransport(t, configFor(org))
	c := tr.Client()
	url := org.InstanceURL + "/services/data/v65.0/limits"
	_, err := tr.Token(t.Context())
	require.NoError(t, err)
	tokensBefore := org.Stats().TokenRequests

	const callers = 1000
	const duration = 3 * time.Second
	stop := time.Now().Add(duration)
	var requests atomic.Int64
	var failures failureCount
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				requests.Add(1)
				failures.record(getOK(c, url))
			}
		}()
	}
	expiries := 0
	for tick := time.NewTicker(time.Second); time.Now().Add(time.Second).Before(stop); {
		<-tick.C
		org.Faults().ExpireAllSessions()
		expiries++
	}
	wg.Wait()

	st, ts := org.Stats(), tr.Stats()
	t.Logf("%d requests by %d callers in %v, %d expiries; org %+v; transport %+v", requests.Load(), callers, duration, expiries, st, ts)
	assert.Zero(t, failures.n.Load(), "first failure: %v", failures.first.Load())
	assert.InDelta(t, expiries, st.TokenRequests-tokensBefore, 1, "one token request per expiry")
	assert.Positive(t, expiries)
}

// goroutinesSettle waits for the goroutine count to fall back to at most before
// (plus a small allowance for the runtime), failing if it does not. Idle
// connections are closed on each look: a cancelled request's connection becomes
// idle a moment after the call returns.
func goroutinesSettle(t *testing.T, tr *transport.Transport, before int) {
	t.Helper()
	require.Eventually(t, func() bool {
		tr.CloseIdleConnections()
		return runtime.NumGoroutine() <= before+2
	}, 5*time.Second, 20*time.Millisecond, "goroutines: %d before, %d now\n%s", before, runtime.NumGoroutine(), stacks())
}

func stacks() string {
	buf := make([]byte, 1<<16)
	return string(buf[:runtime.Stack(buf, true)])
}

// slowToken is how long the token endpoint takes in the slow-answer case.
const slowToken = 8 * time.Second

func TestTokenEndpointFaults(t *testing.T) {
	org := startOrg(t)
	url := org.InstanceURL + "/services/data/"
	cases := []struct {
		name  string
		fault func()
		ctx   time.Duration
		check func(t *testing.T, err error, tokenRequests int64)
	}{
		{"503 three times, then success", func() { org.Faults().FailTokenRequests(3, http.StatusServiceUnavailable) }, 0,
			func(t *testing.T, err error, n int64) {
				require.NoError(t, err)
				assert.Equal(t, int64(4), n)
			}},
		{"connection cut mid-answer, then success", func() { org.Faults().FailTokenRequestsWith(1, salesforcetest.AbortMidResponse) }, 0,
			func(t *testing.T, err error, n int64) {
				require.NoError(t, err)
				assert.Equal(t, int64(2), n)
			}},
		{"a body that is not JSON", func() {
			org.Faults().FailTokenRequestsWith(1, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = io.WriteString(w, "<html>Maintenance</html>")
			}))
		}, 0, func(t *testing.T, err error, n int64) {
			var re *auth.ResponseError
			require.ErrorAs(t, err, &re)
			assert.Contains(t, err.Error(), `Content-Type "text/html"`)
			assert.Equal(t, int64(1), n, "a 200 that is not a token is not retried")
		}},
		// The caller returns at its deadline; the login it started is not wasted:
		// it completes on its own bound and is cached, so the next caller needs
		// no new token request. The delay is well above the returned-at-the-
		// deadline margin below, so a loaded machine cannot blur the two.
		{"answers slower than the caller's deadline", func() { org.Faults().SetTokenDelay(slowToken) }, 200 * time.Millisecond,
			func(t *testing.T, err error, n int64) {
				require.ErrorIs(t, err, context.DeadlineExceeded)
				org.Faults().SetTokenDelay(0)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			tr, err := transport.New(configFor(org))
			require.NoError(t, err)
			c.fault()
			requestsBefore := org.Stats().TokenRequests
			ctx := t.Context()
			if c.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.ctx)
				defer cancel()
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			start := time.Now()
			resp, err := tr.Client().Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if c.ctx > 0 {
				assert.Less(t, time.Since(start), c.ctx+slowToken/2, "returned at the deadline, not when the token came")
			}
			c.check(t, err, org.Stats().TokenRequests-requestsBefore)
			if c.ctx > 0 {
				// The abandoned fetch completes and its token is cached.
				require.Eventually(t, func() bool {
					ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
					defer cancel()
					_, err := tr.Token(ctx)
					return err == nil
				}, 3*slowToken, 50*time.Millisecond)
				assert.Equal(t, int64(1), org.Stats().TokenRequests-requestsBefore, "the abandoned login served the next caller")
			}
			goroutinesSettle(t, tr, before)
		})
	}
}

// TestTLSFaultsNameTheCause: each TLS failure comes back as an error that says
// what TLS refused.
func TestTLSFaultsNameTheCause(t *testing.T) {
	org := startOrg(t)
	serve := func(t *testing.T, cfg *tls.Config) string {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.TLS = cfg
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	otherName, err := org.PKI.ServerTLSCertificate("other.example")
	require.NoError(t, err)
	right, err := org.PKI.ServerTLSCertificate("127.0.0.1")
	require.NoError(t, err)
	stranger, err := salesforcetest.NewPKI()
	require.NoError(t, err)

	cases := []struct {
		name  string
		edit  func(t *testing.T, cfg *transport.Config)
		cause []string // any of these
	}{
		{"server does not trust the client CA", func(_ *testing.T, cfg *transport.Config) { cfg.MTLS = stranger.ClientIdentity },
			[]string{"bad certificate", "refused client certificate"}},
		{"server certificate for another name", func(t *testing.T, cfg *transport.Config) {
			cfg.LoginURL = strings.Replace(serve(t, &tls.Config{Certificates: []tls.Certificate{otherName}}), "127.0.0.1", "localhost", 1)
		}, []string{"x509: certificate is valid for other.example, not localhost"}},
		{"server that speaks only TLS 1.1", func(t *testing.T, cfg *transport.Config) {
			cfg.LoginURL = serve(t, &tls.Config{Certificates: []tls.Certificate{right}, MaxVersion: tls.VersionTLS11})
		}, []string{"protocol version"}},
		{"server not trusted", func(_ *testing.T, cfg *transport.Config) {
			cfg.RootCAs = x509.NewCertPool()
			cfg.RootCAs.AddCert(stranger.ServerCA)
		},
			[]string{"certificate signed by unknown authority"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := configFor(org)
			cfg.LoginRetry = transport.Backoff{MaxAttempts: 2, BaseDelay: time.Millisecond}
			c.edit(t, &cfg)
			tr := newTransport(t, cfg)
			// The login host is the one host sure to be the org's before any token.
			_, err := tr.Client().Get(cfg.LoginURL + "/services/data/")
			require.Error(t, err)
			var ne *auth.NetworkError
			require.ErrorAs(t, err, &ne, "%v", err)
			matched := false
			for _, cause := range c.cause {
				matched = matched || strings.Contains(err.Error(), cause) || strings.Contains(ne.Fix(), cause)
			}
			assert.True(t, matched, "error %q (fix %q) names none of %q", err, ne.Fix(), c.cause)
		})
	}
}
