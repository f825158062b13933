package transport_test

// Misbehaving answers and connections, each on loopback against the fake org:
// the session verdict from parsed error codes, API-call retries, and
// Sforce-Limit-Info. Salesforce pages cited: REST API Developer Guide, "Status
// Codes and Error Responses" (401 INVALID_SESSION_ID, 503, errorCode array),
// Bulk API 1.0 "Errors" (exceptionCode InvalidSessionId), "Limit Info Header".

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// answer is one scripted answer of a route.
type answer struct {
	status int
	header map[string]string
	body   string
}

func restError(status int, code, message string) answer {
	return answer{status: status, header: map[string]string{"Content-Type": "application/json;charset=UTF-8"},
		body: `[{"message":"` + message + `","errorCode":"` + code + `"}]`}
}

var okAnswer = answer{status: http.StatusOK, header: map[string]string{"Content-Type": "application/json"}, body: `{"ok":true}`}

// scripted registers an authenticated route that gives the answers in turn,
// then okAnswer, and counts the requests that reached it.
func scripted(org *salesforcetest.Org, path string, answers ...answer) *atomic.Int64 {
	var n atomic.Int64
	org.Setup().Handle(path, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		i := int(n.Add(1)) - 1
		a := okAnswer
		if i < len(answers) {
			a = answers[i]
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	return &n
}

// call sends method with a small JSON body (replayable, as http.NewRequest
// makes it) and returns the status and body, or the error.
func call(ctx context.Context, tr *transport.Transport, method, url string) (int, string, error) {
	var body io.Reader
	if method != http.MethodGet {
		body = strings.NewReader(`{"Name":"Acme"}`)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, "", err
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func fastRetries(org *salesforcetest.Org) transport.Config {
	cfg := configFor(org)
	cfg.CallRetry = transport.Backoff{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
	return cfg
}

// TestVerdictFromTheParsedErrorCode: only a parsed INVALID_SESSION_ID on a
// 401, or Bulk 1.0's exceptionCode InvalidSessionId on a 400 (XML or JSON),
// rejects the session; a message that mentions either decides nothing.
func TestVerdictFromTheParsedErrorCode(t *testing.T) {
	bulkXML := answer{status: http.StatusBadRequest, header: map[string]string{"Content-Type": "application/xml"},
		body: `<?xml version="1.0" encoding="UTF-8"?><error xmlns="http://www.force.com/2009/06/asyncapi/dataload">` +
			`<exceptionCode>InvalidSessionId</exceptionCode><exceptionMessage>Invalid session id</exceptionMessage></error>`}
	bulkJSON := answer{status: http.StatusBadRequest, header: map[string]string{"Content-Type": "application/json"},
		body: `{"exceptionCode":"InvalidSessionId","exceptionMessage":"Invalid session id"}`}
	cases := []struct {
		name     string
		first    answer
		refresh  bool
		requests int64
	}{
		{"401 INVALID_SESSION_ID", restError(401, "INVALID_SESSION_ID", "Session expired or invalid"), true, 2},
		{"Bulk 1.0 XML 400 InvalidSessionId", bulkXML, true, 2},
		{"Bulk 1.0 JSON 400 InvalidSessionId", bulkJSON, true, 2},
		{"400 whose message mentions InvalidSessionId",
			restError(400, "INVALID_EMAIL_ADDRESS", "Email: invalid email address: InvalidSessionId@@example.com"), false, 1},
		{"401 whose message mentions INVALID_SESSION_ID", restError(401, "INVALID_AUTH_HEADER", "not INVALID_SESSION_ID"), false, 1},
		{"400 with the REST code (not Salesforce's status for it)", restError(400, "INVALID_SESSION_ID", "x"), false, 1},
		{"401 HTML page mentioning INVALID_SESSION_ID", answer{status: 401, header: map[string]string{"Content-Type": "text/html"},
			body: "<html>INVALID_SESSION_ID InvalidSessionId</html>"}, false, 1},
		{"200 whose record holds the words", answer{status: 200, body: `[{"errorCode":"INVALID_SESSION_ID"}]`}, false, 1},
		{"401 MUTUAL_AUTHENTICATION_FAILED", restError(401, "MUTUAL_AUTHENTICATION_FAILED", "The user requires mutual authentication"), false, 1},
	}
	org := startOrg(t)
	var logs syncBuffer
	cfg := fastRetries(org)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	tr := newTransport(t, cfg)
	ctx := t.Context()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/services/apexrest/verdict/" + itoa(i)
			n := scripted(org, path, c.first)
			_, err := tr.Token(ctx)
			require.NoError(t, err)
			tokens, refreshes := org.Stats().TokenRequests, tr.Stats().Refreshes
			status, body, err := call(ctx, tr, http.MethodPost, org.InstanceURL+path)
			require.NoError(t, err)
			assert.Equal(t, c.requests, n.Load(), "requests")
			if c.refresh {
				assert.Equal(t, http.StatusOK, status)
				assert.Equal(t, int64(1), org.Stats().TokenRequests-tokens, "one token request")
				assert.Equal(t, int64(1), tr.Stats().Refreshes-refreshes)
			} else {
				assert.Equal(t, c.first.status, status)
				assert.Equal(t, c.first.body, body, "the answer is returned untouched")
				assert.Zero(t, org.Stats().TokenRequests-tokens, "no token request")
				assert.Zero(t, tr.Stats().Refreshes-refreshes)
			}
		})
	}
	assert.Contains(t, logs.String(), "MUTUAL_AUTHENTICATION_FAILED")
}

// syncBuffer is a bytes.Buffer safe for a logger on many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRetriesFollowTheErrorsMeaning: a failure after which Salesforce
// provably did not process the request (503 and SERVER_UNAVAILABLE,
// UNABLE_TO_LOCK_ROW, the concurrent REQUEST_LIMIT_EXCEEDED, 429) is retried
// whatever the method; a gateway's 502 or 504 only for an idempotent method;
// the daily REQUEST_LIMIT_EXCEEDED (TotalRequests) and other errors never.
func TestRetriesFollowTheErrorsMeaning(t *testing.T) {
	unavailable := restError(503, "SERVER_UNAVAILABLE", "Server is unavailable, please try again later")
	cases := []struct {
		name     string
		method   string
		answers  []answer
		requests int64
		status   int
	}{
		{"POST after 503 SERVER_UNAVAILABLE twice", http.MethodPost, []answer{unavailable, unavailable}, 3, 200},
		{"PATCH after UNABLE_TO_LOCK_ROW", http.MethodPatch,
			[]answer{restError(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")}, 2, 200},
		{"POST after the concurrent REQUEST_LIMIT_EXCEEDED", http.MethodPost,
			[]answer{restError(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")}, 2, 200},
		{"GET after ConcurrentRequests", http.MethodGet,
			[]answer{restError(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded.")}, 2, 200},
		{"GET on the daily REQUEST_LIMIT_EXCEEDED", http.MethodGet,
			[]answer{restError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")}, 1, 403},
		{"a limit name that only starts like a concurrent one", http.MethodGet,
			[]answer{restError(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequestsDaily Limit exceeded.")}, 1, 403},
		{"POST after 429", http.MethodPost, []answer{{status: 429}}, 2, 200},
		{"POST on a 502: it may have been processed", http.MethodPost, []answer{{status: 502}}, 1, 502},
		{"POST on a 504", http.MethodPost, []answer{{status: 504}}, 1, 504},
		{"GET after a 502", http.MethodGet, []answer{{status: 502}}, 2, 200},
		{"DELETE after a 504", http.MethodDelete, []answer{{status: 504}}, 2, 200},
		{"GET on 503 every time: MaxAttempts", http.MethodGet, []answer{unavailable, unavailable, unavailable, unavailable}, 3, 503},
		{"POST on a 500", http.MethodPost, []answer{restError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred")}, 1, 500},
		{"POST on a 400", http.MethodPost, []answer{restError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]")}, 1, 400},
	}
	org := startOrg(t)
	tr := newTransport(t, fastRetries(org))
	ctx := t.Context()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/services/apexrest/retry/" + itoa(i)
			n := scripted(org, path, c.answers...)
			retries := tr.Stats().Retries
			status, body, err := call(ctx, tr, c.method, org.InstanceURL+path)
			require.NoError(t, err)
			assert.Equal(t, c.status, status)
			assert.Equal(t, c.requests, n.Load(), "requests")
			assert.Equal(t, c.requests-1, tr.Stats().Retries-retries, "retries")
			if status != 200 && int(c.requests) <= len(c.answers) {
				assert.Equal(t, c.answers[c.requests-1].body, body, "the last answer is returned untouched")
			}
		})
	}
}

// TestRetryAfter: Retry-After in seconds or as an HTTP-date sets the least
// wait; one longer than the caller's deadline is not waited for.
func TestRetryAfter(t *testing.T) {
	org := startOrg(t)
	tr := newTransport(t, fastRetries(org))
	ctx := t.Context()
	_, err := tr.Token(ctx)
	require.NoError(t, err)

	seconds := scripted(org, "/services/apexrest/after/seconds", answer{status: 429, header: map[string]string{"Retry-After": "1"}})
	start := time.Now()
	status, _, err := call(ctx, tr, http.MethodGet, org.InstanceURL+"/services/apexrest/after/seconds")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Equal(t, int64(2), seconds.Load())
	assert.GreaterOrEqual(t, time.Since(start), time.Second)

	// An HTTP-date has whole seconds: two seconds ahead waits more than one.
	var dated atomic.Int64
	org.Setup().Handle("/services/apexrest/after/date", true, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if dated.Add(1) == 1 {
			w.Header().Set("Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	start = time.Now()
	status, _, err = call(ctx, tr, http.MethodGet, org.InstanceURL+"/services/apexrest/after/date")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Equal(t, int64(2), dated.Load())
	assert.GreaterOrEqual(t, time.Since(start), time.Second)

	long := scripted(org, "/services/apexrest/after/long", answer{status: 503, header: map[string]string{"Retry-After": "30"}})
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start = time.Now()
	status, _, err = call(dctx, tr, http.MethodGet, org.InstanceURL+"/services/apexrest/after/long")
	require.NoError(t, err)
	assert.Equal(t, 503, status, "the answer comes back at once")
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, int64(1), long.Load())
}

// TestRetryBudget: with every call failing, retries stop once the budget is
// spent: 10 calls with a budget of 2 send 12 requests (the first call 3, the
// others 1 each), not 30.
func TestRetryBudget(t *testing.T) {
	org := startOrg(t)
	cfg := fastRetries(org)
	cfg.RetryBudget = 2
	tr := newTransport(t, cfg)
	failing := make([]answer, 100)
	for i := range failing {
		failing[i] = answer{status: 503}
	}
	n := scripted(org, "/services/apexrest/down", failing...)
	for range 10 {
		status, _, err := call(t.Context(), tr, http.MethodGet, org.InstanceURL+"/services/apexrest/down")
		require.NoError(t, err)
		assert.Equal(t, 503, status)
	}
	assert.Equal(t, int64(12), n.Load())
	st := tr.Stats()
	assert.Equal(t, int64(2), st.Retries)
	assert.Equal(t, int64(9), st.RetriesDenied, "every later call: none left")
}

// TestRetryPolicyPerCall: WithRetryPolicy overrides the Transport's policy for
// one call; a body that cannot be sent again is never retried.
func TestRetryPolicyPerCall(t *testing.T) {
	org := startOrg(t)
	tr := newTransport(t, fastRetries(org))
	n := scripted(org, "/services/apexrest/once", answer{status: 503}, answer{status: 503})
	status, _, err := call(transport.WithRetryPolicy(t.Context(), transport.NoRetry), tr, http.MethodGet,
		org.InstanceURL+"/services/apexrest/once")
	require.NoError(t, err)
	assert.Equal(t, 503, status)
	assert.Equal(t, int64(1), n.Load())

	m := scripted(org, "/services/apexrest/stream", answer{status: 503})
	req, err := http.NewRequest(http.MethodPost, org.InstanceURL+"/services/apexrest/stream", io.NopCloser(strings.NewReader("{}")))
	require.NoError(t, err)
	require.Nil(t, req.GetBody)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, int64(1), m.Load())
}

// faultyDialer sends the next refused dials to a closed port (a real
// ECONNREFUSED) and the next reset dials to a server that reads the request
// and resets the connection; every other dial goes where it was meant to.
type faultyDialer struct {
	refused, reset, goAway atomic.Int64
	closedAddr             string
	resetAddr, goAwayAddr  string
}

func (d *faultyDialer) wrap(base http.RoundTripper) http.RoundTripper {
	tr := base.(*http.Transport)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if d.refused.Add(-1) >= 0 {
			addr = d.closedAddr
		} else if d.reset.Add(-1) >= 0 {
			addr = d.resetAddr
		} else if d.goAway.Add(-1) >= 0 {
			addr = d.goAwayAddr
		}
		return dial(ctx, network, addr)
	}
	return tr
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// resettingServer completes the TLS handshake as the org (HTTP/2), reads what
// the client sends for 300ms (the whole request), then resets the connection
// without answering. It returns its address and the number of connections
// it reset.
func resettingServer(t *testing.T, org *salesforcetest.Org) (string, *atomic.Int64) {
	cert, err := org.PKI.ServerTLSCertificate("127.0.0.1")
	require.NoError(t, err)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert},
		NextProtos: []string{"h2"}, ClientAuth: tls.RequestClientCert})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	var resets atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				tc := c.(*tls.Conn)
				if tc.Handshake() != nil {
					c.Close()
					return
				}
				_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				got, _ := io.Copy(io.Discard, c)
				if got > 0 {
					resets.Add(1)
				}
				_ = tc.NetConn().(*net.TCPConn).SetLinger(0) // close with RST
				c.Close()
			}()
		}
	}()
	return l.Addr().String(), &resets
}

// goAwayServer completes the TLS handshake as the org (HTTP/2), and answers
// the first request's HEADERS frame with GOAWAY, last stream 0, NO_ERROR: by
// RFC 9113 §6.8 the request's stream was not processed. It returns its
// address and the number of GOAWAYs sent.
func goAwayServer(t *testing.T, org *salesforcetest.Org) (string, *atomic.Int64) {
	cert, err := org.PKI.ServerTLSCertificate("127.0.0.1")
	require.NoError(t, err)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert},
		NextProtos: []string{"h2"}, ClientAuth: tls.RequestClientCert})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	var sent atomic.Int64
	frame := func(typ byte, payload []byte) []byte {
		n := len(payload)
		return append([]byte{byte(n >> 16), byte(n >> 8), byte(n), typ, 0, 0, 0, 0, 0}, payload...)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				preface := make([]byte, 24)
				if _, err := io.ReadFull(c, preface); err != nil {
					return
				}
				if _, err := c.Write(frame(0x4, nil)); err != nil { // SETTINGS
					return
				}
				for {
					var h [9]byte
					if _, err := io.ReadFull(c, h[:]); err != nil {
						return
					}
					if _, err := io.CopyN(io.Discard, c, int64(h[0])<<16|int64(h[1])<<8|int64(h[2])); err != nil {
						return
					}
					if h[3] == 0x1 { // HEADERS: refuse the stream unprocessed
						// Counted before it is written: the client may retry and
						// finish the call before this goroutine runs again.
						sent.Add(1)
						_, _ = c.Write(frame(0x7, make([]byte, 8))) // GOAWAY last-stream 0, NO_ERROR
						time.Sleep(100 * time.Millisecond)
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String(), &sent
}

// TestConnectionFailures: a refused connection never reached Salesforce, so
// even a POST is sent again; a connection reset after the request was written
// may have been processed, so a GET is sent again and a POST fails with
// *transport.MaybeProcessedError, sent once; a stream refused by GOAWAY was
// not processed, so a POST is sent again.
func TestConnectionFailures(t *testing.T) {
	org := startOrg(t)
	d := &faultyDialer{closedAddr: closedPort(t)}
	var resets *atomic.Int64
	d.resetAddr, resets = resettingServer(t, org)
	cfg := fastRetries(org)
	cfg.WrapBase = d.wrap
	tr := newTransport(t, cfg)
	ctx := t.Context()
	_, err := tr.Token(ctx)
	require.NoError(t, err)

	posts := scripted(org, "/services/apexrest/conn/post")
	tr.CloseIdleConnections()
	d.refused.Store(2)
	status, _, err := call(ctx, tr, http.MethodPost, org.InstanceURL+"/services/apexrest/conn/post")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Equal(t, int64(1), posts.Load(), "the POST reached the org once")
	assert.Equal(t, int64(2), tr.Stats().Retries)

	tr.CloseIdleConnections()
	d.refused.Store(0)
	d.reset.Store(1)
	before := posts.Load()
	_, _, err = call(ctx, tr, http.MethodPost, org.InstanceURL+"/services/apexrest/conn/post")
	var maybe *transport.MaybeProcessedError
	require.ErrorAs(t, err, &maybe, "%v", err)
	assert.Contains(t, maybe.Fix(), "may have processed it")
	assert.NotContains(t, err.Error(), maybe.Fix(), "the message says what went wrong; Fix says how to mend it")
	assert.Equal(t, int64(1), resets.Load(), "the request was written once")
	assert.Equal(t, before, posts.Load(), "and not sent again")

	gets := scripted(org, "/services/apexrest/conn/get")
	tr.CloseIdleConnections()
	d.reset.Store(1)
	status, _, err = call(ctx, tr, http.MethodGet, org.InstanceURL+"/services/apexrest/conn/get")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Equal(t, int64(2), resets.Load())
	assert.Equal(t, int64(1), gets.Load())

	// GOAWAY for a stream the server never processed: net/http sends the POST
	// again on a new connection itself (its body has GetBody), and it reaches
	// the org once.
	var goAways *atomic.Int64
	d.goAwayAddr, goAways = goAwayServer(t, org)
	tr.CloseIdleConnections()
	d.goAway.Store(1)
	before = posts.Load()
	status, _, err = call(ctx, tr, http.MethodPost, org.InstanceURL+"/services/apexrest/conn/post")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Equal(t, int64(1), goAways.Load())
	assert.Equal(t, before+1, posts.Load(), "the POST reached the org once")
}

// TestLimitInfo: Sforce-Limit-Info is read into Stats and logged as usage
// passes thresholds; with UsageCap, calls past it are refused locally, and
// one call every 30 seconds goes out to read the usage again.
func TestLimitInfo(t *testing.T) {
	org := startOrg(t)
	var logs syncBuffer
	cfg := fastRetries(org)
	cfg.UsageCap = 0.9
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	tr := newTransport(t, cfg)
	var usage atomic.Value
	usage.Store("api-usage=100/5000")
	var n atomic.Int64
	org.Setup().Handle("/services/apexrest/usage", true, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.Header().Set("Sforce-Limit-Info", usage.Load().(string))
	}))
	url := org.InstanceURL + "/services/apexrest/usage"
	ctx := t.Context()
	_, _, err := call(ctx, tr, http.MethodGet, url)
	require.NoError(t, err)
	assert.Equal(t, transport.Usage{Used: 100, Max: 5000}, tr.Stats().APIUsage)
	assert.NotContains(t, logs.String(), "threshold")

	usage.Store("api-usage=4600/5000; per-app-api-usage=17/250(appName=sfmtls-test)")
	_, _, err = call(ctx, tr, http.MethodGet, url)
	require.NoError(t, err)
	st := tr.Stats()
	assert.Equal(t, transport.Usage{Used: 4600, Max: 5000}, st.APIUsage)
	assert.Equal(t, transport.Usage{Used: 17, Max: 250}, st.AppUsage)
	assert.Equal(t, "sfmtls-test", st.AppName)
	assert.Contains(t, logs.String(), "level=WARN msg=\"sfmtls: org API usage passed a threshold\" threshold=0.9")
	assert.Equal(t, 1, strings.Count(logs.String(), "threshold="), "one record for one crossing")

	sent := n.Load()
	_, _, err = call(ctx, tr, http.MethodPost, url)
	var capErr *transport.UsageCapError
	require.ErrorAs(t, err, &capErr)
	assert.Equal(t, "org", capErr.Scope)
	assert.Equal(t, sent, n.Load(), "nothing was sent")
	assert.Equal(t, int64(1), tr.Stats().CapRefusals)

	// The probe reads the usage again: under the cap, calls resume.
	usage.Store("api-usage=1000/5000")
	tr.ProbeUsageNow()
	_, _, err = call(ctx, tr, http.MethodGet, url)
	require.NoError(t, err)
	_, _, err = call(ctx, tr, http.MethodGet, url)
	require.NoError(t, err)
	assert.Equal(t, sent+2, n.Load())

	_, err = transport.New(func() transport.Config { c := configFor(org); c.UsageCap = 1.5; return c }())
	require.True(t, errors.Is(err, client.ErrConfig))
}

// countingBase counts the round trips the org base makes, by path.
type countingBase struct {
	mu   sync.Mutex
	seen map[string]int
}

func (c *countingBase) wrap(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.mu.Lock()
		if c.seen == nil {
			c.seen = map[string]int{}
		}
		c.seen[r.URL.Path]++
		c.mu.Unlock()
		return base.RoundTrip(r)
	})
}

func (c *countingBase) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[path]
}

// TestLocalCertificateRefusalIsNotRetried: a client certificate that expires
// while in use is refused locally at the next handshake. Neither the token
// request's retries nor the API call's retry it: one attempt each, and the
// error is *transport.ClientCertificateError naming the expiry.
func TestLocalCertificateRefusalIsNotRetried(t *testing.T) {
	org := startOrg(t)
	soon, err := org.PKI.NewClientIdentity(org.Username, time.Now().Add(-time.Hour), time.Now().Add(2*time.Second))
	require.NoError(t, err)
	org.Setup().RegisterMutualAuthCertificate(soon.Leaf())
	ctx := t.Context()

	var fresh, used countingBase
	cfg := fastRetries(org)
	cfg.MTLS = soon
	cfg.WrapBase = fresh.wrap
	noToken := newTransport(t, cfg) // fetches its first token after the expiry
	cfg.WrapBase = used.wrap
	withToken := newTransport(t, cfg)
	_, err = withToken.Token(ctx)
	require.NoError(t, err)

	time.Sleep(time.Until(soon.Leaf().NotAfter.Add(time.Second)))
	withToken.CloseIdleConnections()

	_, err = noToken.Token(ctx)
	var certErr *transport.ClientCertificateError
	require.ErrorAs(t, err, &certErr, "%v", err)
	assert.Contains(t, err.Error(), "expired")
	assert.Equal(t, 1, fresh.count("/services/oauth2/token"), "the token request is not retried")

	_, _, err = call(ctx, withToken, http.MethodGet, org.InstanceURL+"/services/data/")
	require.ErrorAs(t, err, &certErr, "%v", err)
	assert.Equal(t, 1, used.count("/services/data/"), "the API call is not retried")
	assert.Zero(t, withToken.Stats().Retries)
}

// TestTheFakeOrgsLimits: against the fake org's own API allocation and
// concurrency limit (salesforcetest models "Status Codes and Error
// Responses": 403 REQUEST_LIMIT_EXCEEDED, and the Limit Info Header).
func TestTheFakeOrgsLimits(t *testing.T) {
	t.Run("the concurrent limit is retried until every call gets through", func(t *testing.T) {
		org := salesforcetest.NewOrg(t, salesforcetest.Config{MaxConcurrentAPIRequests: 2})
		slow := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(100 * time.Millisecond) })
		org.Setup().Handle("/services/apexrest/slow", true, slow)
		cfg := configFor(org)
		cfg.CallRetry = transport.Backoff{MaxAttempts: 30, BaseDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond}
		cfg.RetryBudget = 1000
		tr := newTransport(t, cfg)
		_, err := tr.Token(t.Context())
		require.NoError(t, err)
		var wg sync.WaitGroup
		var failures failureCount
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, body, err := call(t.Context(), tr, http.MethodPost, org.InstanceURL+"/services/apexrest/slow")
				if err == nil && status != http.StatusOK {
					err = errors.New(body)
				}
				failures.record(err)
			}()
		}
		wg.Wait()
		assert.Zero(t, failures.n.Load(), "first failure: %v", failures.first.Load())
		assert.Positive(t, tr.Stats().Retries, "some calls met the limit")
	})
	t.Run("the daily limit is not retried, and the cap stops calls before it", func(t *testing.T) {
		org := salesforcetest.NewOrg(t, salesforcetest.Config{DailyAPIRequests: 100})
		cfg := configFor(org)
		cfg.CallRetry = transport.Backoff{BaseDelay: time.Millisecond}
		tr := newTransport(t, cfg)
		url := org.InstanceURL + "/services/data/v" + salesforcetest.APIVersion + "/limits"
		ctx := t.Context()
		org.Faults().SetAPIUsage(100)
		before := org.Stats().APIRequests
		status, body, err := call(ctx, tr, http.MethodGet, url)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, status)
		assert.Contains(t, body, "TotalRequests")
		assert.Equal(t, int64(1), org.Stats().APIRequests-before, "sent once")
		assert.Equal(t, transport.Usage{Used: 100, Max: 100}, tr.Stats().APIUsage)

		org.Faults().SetAPIUsage(80)
		capped := func() transport.Config { c := cfg; c.UsageCap = 0.9; return c }()
		tr = newTransport(t, capped)
		sent := 0
		var capErr *transport.UsageCapError
		for range 20 {
			if _, _, err = call(ctx, tr, http.MethodGet, url); err != nil {
				break
			}
			sent++
		}
		require.ErrorAs(t, err, &capErr)
		assert.Equal(t, 10, sent, "calls 81 to 90 go out; the 91st is refused locally")
		used := org.Stats().APIUsage
		assert.Equal(t, int64(90), used)
	})
}

// TestRotationRefusesWhatNewRefuses: SetMTLSIdentity refuses a certificate
// that is expired, not yet valid, or whose key signs for another certificate;
// the error says why, and new handshakes keep presenting the identity in use.
func TestRotationRefusesWhatNewRefuses(t *testing.T) {
	org := startOrg(t)
	tr := newTransport(t, configFor(org))
	expired, err := org.PKI.NewClientIdentity(org.Username, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	require.NoError(t, err)
	notYet, err := org.PKI.NewClientIdentity(org.Username, time.Now().Add(time.Hour), time.Now().Add(48*time.Hour))
	require.NoError(t, err)
	other, err := org.PKI.NewClientIdentity("other@example.com", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	mismatched, err := keystore.NewIdentity(lyingSigner{claimed: org.PKI.ClientIdentity.Leaf().PublicKey, real: other.Signer()},
		org.PKI.ClientIdentity.Chain())
	require.NoError(t, err)
	for name, c := range map[string]struct {
		id   *keystore.Identity
		want string
	}{
		"expired":        {expired, "expired at"},
		"not yet valid":  {notYet, "not valid before"},
		"key of another": {mismatched, "does not sign for the certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tr.SetMTLSIdentity(c.id)
			require.ErrorIs(t, err, client.ErrConfig)
			assert.Contains(t, err.Error(), c.want)
			tr.CloseIdleConnections()
			require.NoError(t, getOK(tr.Client(), org.InstanceURL+"/services/data/"), "a new handshake presents the identity in use")
		})
	}
}
