package transport_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

const password = "fake-org-Passw0rd"

func startOrg(t testing.TB) *salesforcetest.Org {
	t.Helper()
	// The load tests send more calls than a Developer Edition org's daily
	// allocation (the fake's default, 15,000); the allocation is not under test.
	org, err := salesforcetest.Start(salesforcetest.Config{DailyAPIRequests: 1 << 40})
	require.NoError(t, err)
	t.Cleanup(org.Close)
	return org
}

func configFor(org *salesforcetest.Org) transport.Config {
	return transport.Config{
		LoginURL:    org.URL,
		ConsumerKey: org.ConsumerKey,
		Username:    org.Username,
		MTLS:        org.PKI.ClientIdentity,
		JWT:         org.PKI.JWTIdentity,
		RootCAs:     org.RootCAs(),
		Port:        org.Port,
		LoginRetry:  transport.Backoff{BaseDelay: time.Millisecond},
	}
}

// getOK GETs url, drains the body, and fails on an error or any status but 200.
func getOK(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// failureCount counts failures from many goroutines and keeps the first.
type failureCount struct {
	n     atomic.Int64
	first atomic.Value
}

func (f *failureCount) record(err error) {
	if err != nil {
		f.n.Add(1)
		f.first.CompareAndSwap(nil, err.Error())
	}
}

func newTransport(t testing.TB, cfg transport.Config) *transport.Transport {
	t.Helper()
	tr, err := transport.New(cfg)
	require.NoError(t, err)
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func get(t testing.TB, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestKeystoreInTwoHundredOutOneHandshake(t *testing.T) {
	org := startOrg(t)
	files, err := org.PKI.WriteFiles(t.TempDir(), password)
	require.NoError(t, err)
	mtls, err := keystore.LoadFile(files.MTLSJKS, keystore.Options{Password: password})
	require.NoError(t, err)
	jwtID, err := keystore.LoadFile(files.JWTPKCS12, keystore.Options{Password: password})
	require.NoError(t, err)

	cfg := configFor(org)
	cfg.MTLS, cfg.JWT = mtls, jwtID
	tr := newTransport(t, cfg)
	resp, err := tr.Client().Get(org.InstanceURL + "/services/data/v65.0/limits")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 2, resp.ProtoMajor, "HTTP/2 is negotiated")

	st := org.Stats()
	assert.Equal(t, int64(1), st.TLSHandshakes, "token request and API call share one connection")
	assert.Equal(t, int64(1), st.TokenRequests)
	assert.Equal(t, int64(1), st.APIRequests)

	u, err := tr.InstanceURL(t.Context())
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("https://127.0.0.1:%d", org.Port), u.String(), "instance_url gets the mutual TLS port")
}

// TestBurstAcrossSessionExpiry: 1,000 callers all holding the old token hit the
// expired session at once. One token request serves them all and none fails.
func TestBurstAcrossSessionExpiry(t *testing.T) {
	org := startOrg(t)
	tr := newTransport(t, configFor(org))
	c := tr.Client()
	url := org.InstanceURL + "/services/data/v65.0/limits"
	const callers = 1000

	var failures failureCount
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	call := func() { failures.record(getOK(c, url)) }
	for range callers {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			call() // with the first token
			ready.Done()
			<-release
			call() // every one of these meets the expired session
		}()
	}
	ready.Wait()
	org.Faults().ExpireAllSessions()
	close(release)
	done.Wait()

	st, ts := org.Stats(), tr.Stats()
	t.Logf("org: %+v; transport: %+v", st, ts)
	assert.Zero(t, failures.n.Load(), "no caller sees the expiry; first failure: %v", failures.first.Load())
	assert.Equal(t, int64(2), st.TokenRequests, "one token before, exactly one after the expiry")
	assert.Equal(t, int64(2), ts.TokenFetches)
	// Callers that start after the first 401 already get the new token; the rest
	// meet the expired session once each, and each such 401 costs one replay.
	assert.Positive(t, st.Unauthorized)
	assert.LessOrEqual(t, st.Unauthorized, int64(callers))
	assert.Equal(t, st.Unauthorized, ts.Replays)
	assert.Equal(t, st.Unauthorized, ts.Refreshes)
	assert.Equal(t, 2*int64(callers)+st.Unauthorized, st.APIRequests)
	// Bounded connections: a burst does not dial one connection per caller.
	assert.Less(t, st.TLSHandshakes, int64(100))
}

// trustedServer starts a second loopback server that clients of the org trust,
// recording the Authorization header of every request.
func trustedServer(t *testing.T, org *salesforcetest.Org) (*httptest.Server, func() []string) {
	t.Helper()
	cert, err := org.PKI.ServerTLSCertificate("127.0.0.1", "localhost")
	require.NoError(t, err)
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = io.WriteString(w, "elsewhere")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

func TestTokenNeverReachesAnotherHost(t *testing.T) {
	org := startOrg(t)
	other, seen := trustedServer(t, org)
	org.Setup().Handle("/services/apexrest/redirect", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
	}))
	tr := newTransport(t, configFor(org))
	c := tr.Client()

	status, body := get(t, c, org.InstanceURL+"/services/apexrest/redirect")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "elsewhere", body, "the redirect was followed")

	// An absolute URL to another host name.
	status, _ = get(t, c, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/absolute")
	assert.Equal(t, http.StatusOK, status)

	// Same host name as the instance, other port: not the org either.
	status, _ = get(t, c, other.URL+"/same-host")
	assert.Equal(t, http.StatusOK, status)

	got := seen()
	require.Len(t, got, 3, "the second server was reached each time")
	for _, h := range got {
		assert.Empty(t, h, "no token was sent to the second server")
	}
	assert.Equal(t, int64(1), org.Stats().TokenRequests)

	// Plain http to the instance host never carries the token either.
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/services/data/", nil)
	_, err := c.Do(req)
	require.Error(t, err)
}

func TestCertificateRotation(t *testing.T) {
	org := startOrg(t)
	dir := t.TempDir()
	files, err := org.PKI.WriteFiles(dir, password)
	require.NoError(t, err)
	first, err := keystore.LoadFile(files.MTLSJKS, keystore.Options{Password: password})
	require.NoError(t, err)
	cfg := configFor(org)
	cfg.MTLS = first
	tr := newTransport(t, cfg)
	url := org.InstanceURL + "/services/data/v65.0/limits"
	status, _ := get(t, tr.Client(), url)
	require.Equal(t, http.StatusOK, status)

	// The new certificate replaces the old one in Salesforce and in the keystore file.
	rotated, err := org.PKI.NewClientIdentity("integration.user@example.com", time.Time{}, time.Time{})
	require.NoError(t, err)
	org.Setup().RegisterMutualAuthCertificate(rotated.Leaf())
	org.Setup().UnregisterMutualAuthCertificate(first.Leaf())

	var reported []error
	reloader := &transport.Reloader{Path: files.MTLSJKS, Options: keystore.Options{Password: password},
		Apply: tr.SetMTLSIdentity, OnError: func(err error) { reported = append(reported, err) }}
	changed, err := reloader.Check() // records the file as it is
	require.NoError(t, err)
	require.True(t, changed)

	// A broken file keeps the identity in use and reports why.
	require.NoError(t, os.WriteFile(files.MTLSJKS, []byte("half a keystore"), 0o600))
	changed, err = reloader.Check()
	require.ErrorIs(t, err, keystore.ErrUnknownFormat)
	assert.False(t, changed)
	require.Len(t, reported, 1)

	require.NoError(t, keystore.WriteFile(files.MTLSJKS, rotated, keystore.WriteOptions{Format: keystore.FormatJKS, Alias: "mtls", Password: keystore.Secret(password), Overwrite: true}))
	future := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(files.MTLSJKS, future, future))
	changed, err = reloader.Check()
	require.NoError(t, err)
	require.True(t, changed)

	// Open connections keep their handshake; the next handshake presents the new certificate.
	tr.CloseIdleConnections()
	org.Faults().ExpireAllSessions()
	handshakes := org.Stats().TLSHandshakes
	status, _ = get(t, tr.Client(), url)
	assert.Equal(t, http.StatusOK, status, "the org now accepts only the rotated certificate")
	assert.Greater(t, org.Stats().TLSHandshakes, handshakes)
}

func TestReplayNeedsAReplayableBody(t *testing.T) {
	org := startOrg(t)
	tr := newTransport(t, configFor(org))
	c := tr.Client()
	url := org.InstanceURL + "/services/data/v65.0/sobjects/Account"
	_, err := tr.Token(t.Context())
	require.NoError(t, err)

	org.Faults().ExpireAllSessions()
	resp, err := c.Post(url, "application/json", strings.NewReader(`{"Name":"Acme"}`)) // GetBody is set
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, int64(1), tr.Stats().Replays)

	org.Faults().ExpireAllSessions()
	req, err := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader(`{"Name":"Acme"}`)))
	require.NoError(t, err)
	_, err = c.Do(req)
	var se *transport.SessionExpiredError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Fix(), "retry the call")
	assert.NotContains(t, err.Error(), se.Fix(), "the message says what went wrong; Fix says how to mend it")
	// The token was refreshed all the same: a retry succeeds.
	resp, err = c.Post(url, "application/json", strings.NewReader(`{"Name":"Acme"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
}

func TestBulkInvalidSessionIDIsRefreshed(t *testing.T) {
	org := startOrg(t)
	var calls atomic.Int64
	org.Setup().Handle("/services/async/65.0/job", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `<error><exceptionCode>InvalidSessionId</exceptionCode><exceptionMessage>Invalid session id</exceptionMessage></error>`)
			return
		}
		_, _ = io.WriteString(w, "<jobInfo/>")
	}))
	tr := newTransport(t, configFor(org))
	status, body := get(t, tr.Client(), org.InstanceURL+"/services/async/65.0/job")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "<jobInfo/>", body)
	assert.Equal(t, int64(2), org.Stats().TokenRequests)

	// Other 400s pass through untouched, body intact.
	status, body = get(t, tr.Client(), org.InstanceURL+"/services/data/v65.0/query?q=nonsense")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "MALFORMED_QUERY")
	assert.Equal(t, int64(2), org.Stats().TokenRequests)
}

func TestMutualAuthenticationFailedIsExplained(t *testing.T) {
	org := startOrg(t)
	var logs bytes.Buffer
	cfg := configFor(org)
	// API calls land on the org's standard port, as with a missing ":8443".
	cfg.Port = mustPort(t, org.StandardURL)
	cfg.LoginURL = org.URL
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	tr := newTransport(t, cfg)
	status, body := get(t, tr.Client(), org.InstanceURL+"/services/data/v65.0/limits")
	assert.Equal(t, http.StatusUnauthorized, status)
	var errs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &errs))
	assert.Equal(t, "MUTUAL_AUTHENTICATION_FAILED", errs[0]["errorCode"])
	assert.Contains(t, logs.String(), "MUTUAL_AUTHENTICATION_FAILED")
	assert.Contains(t, logs.String(), "port 8443")
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "a new token cannot fix it: no refresh")
}

func mustPort(t *testing.T, rawURL string) int {
	t.Helper()
	var port int
	_, err := fmt.Sscanf(rawURL[strings.LastIndex(rawURL, ":")+1:], "%d", &port)
	require.NoError(t, err)
	return port
}

func TestGenericLoginHostIsRefused(t *testing.T) {
	org := startOrg(t)
	for _, u := range []string{"https://login.salesforce.com", "https://test.salesforce.com"} {
		cfg := configFor(org)
		cfg.LoginURL = u
		_, err := transport.New(cfg)
		require.ErrorIs(t, err, client.ErrConfig)
		assert.Contains(t, withFix(err), "My Domain")
	}
	cfg := configFor(org)
	cfg.MTLS = nil
	_, err := transport.New(cfg)
	require.ErrorIs(t, err, client.ErrConfig)
}

func TestExpiredClientCertificateIsNamed(t *testing.T) {
	org := startOrg(t)
	expired, err := org.PKI.NewClientIdentity("old@example.com", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	require.NoError(t, err)
	cfg := configFor(org)
	cfg.MTLS = expired
	_, err = transport.New(cfg)
	require.ErrorIs(t, err, keystore.ErrExpired)
	require.ErrorIs(t, err, client.ErrConfig)

	// Rotated in at run time, it is refused, and the identity in use stays.
	tr := newTransport(t, configFor(org))
	require.ErrorIs(t, tr.SetMTLSIdentity(expired), keystore.ErrExpired)
	status, _ := get(t, tr.Client(), org.InstanceURL+"/services/data/")
	assert.Equal(t, http.StatusOK, status)

	// One that expires while in use is refused at the next handshake, with the
	// cause named. The transport's handshakes run NewTLSConfig's certificate
	// check; here the identity it is handed goes from valid for hours to expired
	// between two handshakes, which is what expiring in use looks like, without
	// racing a short validity window on a loaded machine.
	valid, err := org.PKI.NewClientIdentity(org.Username, time.Now().Add(-time.Hour), time.Now().Add(6*time.Hour))
	require.NoError(t, err)
	org.Setup().RegisterMutualAuthCertificate(valid.Leaf())
	lapsed, err := org.PKI.NewClientIdentity(org.Username, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	require.NoError(t, err)
	org.Setup().RegisterMutualAuthCertificate(lapsed.Leaf())
	var current atomic.Pointer[keystore.Identity]
	current.Store(valid)
	base := &http.Transport{TLSClientConfig: transport.NewTLSConfig(current.Load, org.RootCAs())}
	t.Cleanup(base.CloseIdleConnections)
	c := &http.Client{Transport: base, Timeout: time.Minute}
	status, _ = get(t, c, org.URL+"/services/data/")
	require.Equal(t, http.StatusOK, status, "valid, it is presented")
	current.Store(lapsed)
	base.CloseIdleConnections()
	_, err = c.Get(org.URL + "/services/data/")
	require.ErrorIs(t, err, keystore.ErrExpired, "expired since the last handshake, it is refused by name")
}

func TestLogsAndErrorsCarryNoSecrets(t *testing.T) {
	org := startOrg(t)
	var logs bytes.Buffer
	cfg := configFor(org)
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tr := newTransport(t, cfg)
	c := tr.Client()
	// The versions list needs no session; /limits does, so it meets the expiry.
	_, _ = get(t, c, org.InstanceURL+"/services/data/v65.0/limits")
	org.Faults().ExpireAllSessions()
	_, _ = get(t, c, org.InstanceURL+"/services/data/v65.0/limits")
	tok, err := tr.Token(t.Context())
	require.NoError(t, err)

	outputs := []string{logs.String(), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), fmt.Sprintf("%v", tr)}
	secret := string(tok.AccessToken)
	require.NotEmpty(t, secret)
	for _, out := range outputs {
		assert.NotContains(t, out, secret)
		assert.NotContains(t, out, "PRIVATE KEY")
		assert.NotContains(t, out, "eyJ", "no JWT assertion")
	}
	assert.Contains(t, logs.String(), "token fetched")
	assert.Contains(t, logs.String(), "session rejected")
}

func TestFailedTokenFetchFailsTheCall(t *testing.T) {
	org := startOrg(t)
	org.Setup().PreAuthorize(org.Username, false)
	tr := newTransport(t, configFor(org))
	_, err := tr.Client().Get(org.InstanceURL + "/services/data/")
	var oe *auth.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Contains(t, oe.Fix(), "pre-authorize the user")
}

// TestReplayOncePerEndedSession: a replay whose fresh session has ended too is
// replayed again with a newer token, a bounded number of times.
func TestReplayOncePerEndedSession(t *testing.T) {
	org := startOrg(t)
	var rejectFirst atomic.Int64
	rejectFirst.Store(2)
	org.Setup().Handle("/services/apexrest/flaky", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rejectFirst.Add(-1) >= 0 {
			org.Faults().ExpireAllSessions() // the session ends as the request arrives
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	tr := newTransport(t, configFor(org))
	status, body := get(t, tr.Client(), org.InstanceURL+"/services/apexrest/flaky")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ok", body)
	assert.Equal(t, int64(3), org.Stats().TokenRequests, "a new token for each ended session")
	assert.Equal(t, int64(2), tr.Stats().Replays)

	// A session that is always rejected ends the loop after maxReplays.
	rejectFirst.Store(1 << 30)
	status, body = get(t, tr.Client(), org.InstanceURL+"/services/apexrest/flaky")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "INVALID_SESSION_ID", "the last answer reaches the caller intact")
	assert.Equal(t, int64(2+3), tr.Stats().Replays)
	assert.Equal(t, int64(3+3), org.Stats().TokenRequests, "one per replay; the last rejection fetches none")
}

// withFix is an error's text and the fix of its first *client.ConfigError:
// Error says what is wrong, Fix how to mend it.
func withFix(err error) string {
	var ce *client.ConfigError
	if errors.As(err, &ce) {
		return err.Error() + "; fix: " + ce.Fix()
	}
	return err.Error()
}
