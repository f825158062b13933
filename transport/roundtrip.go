package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/retry"
	"github.com/sfmtls/sfmtls/internal/tokencheck"
)

// This file follows a request through the Transport, in order: route → token
// → send → verdict → retry.

// RoundTrip sends req with the access token when it is for the org, over mutual
// TLS, replaying it once per session Salesforce rejects under it, and retrying
// it after transient failures when that is safe (see sendOrg). With
// Config.UsageCap, a call is refused locally (*UsageCapError) once the org's
// API usage has passed the cap.
//
// Routing is decided before any token is fetched. The org's hosts are the
// login (My Domain) host and the instance host of the current token, on the
// default or the mutual TLS port. A request for any other host goes out
// through the plain base transport, carrying neither the token, nor the
// Authorization header, nor the client certificate, and no token is fetched
// for it. One case needs the token to decide: while no token is known, a
// request for a host other than the login host, on port 443 or the mutual TLS
// port, could be for the instance if it is a host a token may name; the token
// is fetched to learn instance_url (the call needs it anyway if it is), and
// the request goes plain if it is not.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Route.
	if !t.forOrg(req.URL) {
		return t.sendPlain(req)
	}
	if err := t.limits.admit(); err != nil {
		closeBody(req)
		return nil, err
	}
	// Token.
	tok, err := t.tokens.Token(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	out, ok := t.authorize(req, tok)
	if !ok {
		return t.sendPlain(req)
	}
	// Send, verdict, retry.
	return t.sendOrg(req, out, tok)
}

// sendPlain sends a request that is not for the org through the plain base.
func (t *Transport) sendPlain(req *http.Request) (*http.Response, error) {
	rt, err := t.plain.get()
	if err != nil {
		closeBody(req)
		return nil, err
	}
	return rt.RoundTrip(req)
}

// Route.

// route caches what each request needs of the token in use, computed once per
// token rather than per request.
type route struct {
	tok          *auth.Token
	instanceHost string   // host name of instance_url
	instanceAddr string   // host:mtls port
	authz        []string // the Authorization header value, shared read-only by requests
}

// forOrg reports whether req may be for the org, without fetching a token.
func (t *Transport) forOrg(u *url.URL) bool {
	if u.Scheme != "https" {
		return false
	}
	r := t.route.Load()
	if r != nil && u.Host == r.instanceAddr {
		return true // an API call, the common case: one comparison, before the login host's parsing
	}
	if _, ok := t.loginTarget(u); ok {
		return true
	}
	if r == nil {
		if tok := t.tokens.Current(); tok != nil {
			r = t.routeFor(tok)
		}
	}
	if r != nil {
		_, ok := r.instanceTarget(u, t.port)
		return ok
	}
	return t.couldBeInstance(u)
}

// couldBeInstance: with no token known, whether u's host might turn out to be
// the instance. Only the ports the instance is reached on qualify, and only
// hosts a token may name, by the very rule the token check applies.
func (t *Transport) couldBeInstance(u *url.URL) bool {
	port := u.Port()
	if port != "" && port != "443" && port != t.port {
		return false
	}
	loginHost := ""
	if t.login != nil {
		loginHost = t.login.Hostname()
	}
	return tokencheck.HostAllowed(strings.ToLower(u.Hostname()), loginHost, t.instanceHosts)
}

// loginTarget returns the login host:port when u is for the login host.
func (t *Transport) loginTarget(u *url.URL) (string, bool) {
	if t.login == nil {
		return "", false
	}
	if u.Host == t.login.Host { // the common case, without allocating
		return u.Host, true
	}
	port := u.Port()
	if strings.EqualFold(u.Hostname(), t.login.Hostname()) && (port == "" || port == "443" || port == t.login.Port()) {
		return t.login.Host, true
	}
	return "", false
}

// routeFor returns the route of tok, computing it when tok is new.
func (t *Transport) routeFor(tok *auth.Token) *route {
	if r := t.route.Load(); r != nil && (r.tok == tok || r.tok.Equal(tok)) {
		return r
	}
	host := ""
	if u, err := url.Parse(tok.InstanceURL); err == nil {
		host = u.Hostname()
	}
	r := &route{tok: tok, instanceHost: host, instanceAddr: net.JoinHostPort(host, t.port),
		authz: []string{"Bearer " + string(tok.AccessToken)}}
	t.route.Store(r)
	return r
}

// instanceTarget returns the instance's host:mutual TLS port when u is for it.
func (r *route) instanceTarget(u *url.URL, mtlsPort string) (string, bool) {
	if u.Host == r.instanceAddr {
		return u.Host, true
	}
	port := u.Port()
	if strings.EqualFold(u.Hostname(), r.instanceHost) && (port == "" || port == "443" || port == mtlsPort) {
		return r.instanceAddr, true
	}
	return "", false
}

// Token.

// authorize returns a copy of req aimed at the org's mutual TLS port with tok
// and the fixed headers set, or false when, by tok's instance, req is not for
// the org.
//
// The copy is shallow, as Request.WithContext makes it, with a header map of
// its own: the caller's request is never changed, and a deep Clone would cost
// the hot path more allocations.
func (t *Transport) authorize(req *http.Request, tok *auth.Token) (*http.Request, bool) {
	r := t.routeFor(tok)
	hostPort, ok := t.target(req.URL, r)
	if !ok {
		return nil, false
	}
	out := new(http.Request)
	*out = *req
	if hostPort != req.URL.Host {
		u := *req.URL
		u.Host = hostPort
		out.URL = &u
		out.Host = ""
	}
	h := make(http.Header, len(req.Header)+len(t.header)+1)
	// The len checks skip starting an iterator over an empty map (most
	// Transports have no fixed headers; many requests carry none).
	if len(t.header) > 0 {
		for k, v := range t.header {
			h[k] = v // shared read-only, as the transport only reads them
		}
	}
	if len(req.Header) > 0 {
		for k, v := range req.Header {
			h[k] = v // the request's own value wins over a fixed one
		}
	}
	h["Authorization"] = r.authz
	out.Header = h
	return out, true
}

// target decides whether u is one of the org's hosts and returns its host:port
// with the mutual TLS port put in.
func (t *Transport) target(u *url.URL, r *route) (string, bool) {
	if u.Scheme != "https" {
		return "", false
	}
	if hp, ok := r.instanceTarget(u, t.port); ok {
		return hp, true
	}
	return t.loginTarget(u)
}

// Send.

// maxReplays bounds how often one request is sent again after its session was
// rejected: once per session that ended under it, and no more than this.
const maxReplays = 3

// mutualAuthFix is the fix Salesforce's MUTUAL_AUTHENTICATION_FAILED calls for,
// the same on an API call as on the token request.
var mutualAuthFix = (&auth.OAuthError{Code: codeMutualAuth}).Fix()

// sendOrg sends an org request with tok and acts on the verdict (judge for an
// answer, verdictOnError for a failure without one):
//
//   - The session was rejected (401 INVALID_SESSION_ID, or Bulk 1.0's 400
//     InvalidSessionId): the token is dropped, one new token is fetched for
//     every concurrent caller, and the request is replayed if its body can be.
//     Should the new session end too before the replay arrives, it is replayed
//     once more per ended session, up to maxReplays times.
//   - A transient failure after which Salesforce provably did not process the
//     request: sent again under the retry policy, whatever the method.
//   - A transient failure after which it may have processed it: sent again only
//     when the method is idempotent (or the caller marked the call safe to
//     repeat, as Collections' retrieve does). Any other request that got no
//     answer fails with *MaybeProcessedError.
//   - Anything else goes back to the caller untouched, sent once.
//
// Every retry waits as the policy says (at least the answer's Retry-After),
// never past the caller's deadline, and spends from the Transport's budget.
func (t *Transport) sendOrg(req, out *http.Request, tok *auth.Token) (*http.Response, error) {
	ctx := req.Context()
	replays, failures := 0, 0
	for {
		resp, err := t.orgRT.RoundTrip(out)
		var v verdict
		var code apiError
		if err != nil {
			v = verdictOnError(err)
		} else {
			t.limits.observe(ctx, resp.Header)
			v, code = judge(resp)
		}
		switch v {
		case verdictOK:
			if err == nil {
				t.budget.Earn()
				if resp.StatusCode < 400 {
					t.tokens.Touch(tok) // the call extended the session
				}
			}
			return resp, err
		case mutualAuthFailed:
			t.log.LogAttrs(ctx, slog.LevelWarn, "sfmtls: Salesforce refused the call: MUTUAL_AUTHENTICATION_FAILED",
				slog.String("host", out.URL.Host), slog.String("fix", mutualAuthFix))
			return resp, nil
		case sessionRejected:
			t.tokens.Invalidate(tok)
			t.refreshes.Add(1)
			t.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: session rejected, refreshing the token", slog.String("host", out.URL.Host))
			if replays == maxReplays {
				return resp, nil
			}
			replays++
			// Release the rejected answer first: it holds an HTTP/2 stream, and the
			// token request may need one (waiting with it held deadlocks a busy connection).
			discard(resp)
			if !replayable(req) {
				return nil, &SessionExpiredError{Method: req.Method, URL: redactedURL(req.URL)}
			}
			if tok, err = t.tokens.Token(ctx); err != nil {
				return nil, err
			}
			t.replays.Add(1)
		default: // retryNotProcessed, retryIfIdempotent
			if v == retryIfIdempotent && !retry.Idempotent(req.Method) && !retry.IsRepeatable(ctx) {
				if err != nil {
					return nil, &MaybeProcessedError{Method: req.Method, URL: redactedURL(req.URL), Err: err}
				}
				return resp, nil
			}
			failures++
			if !replayable(req) {
				return resp, err
			}
			if again, cerr := t.mayRetry(ctx, failures, resp, err, code); cerr != nil {
				return nil, cerr
			} else if !again {
				return resp, err
			}
		}
		if out, err = t.again(req, tok); err != nil {
			return nil, err
		}
	}
}

// Verdict.
//
// An answer's verdict is decided from its status and the error code parsed out
// of its body, never from a substring: a message that merely mentions
// InvalidSessionId (an email address, a record name) decides nothing.
//
// Salesforce's error bodies come in three shapes:
//   - REST (and Bulk API 2.0): [{"errorCode":"INVALID_SESSION_ID","message":"…","fields":[…]}]
//   - Bulk API 1.0 XML: <error><exceptionCode>InvalidSessionId</exceptionCode><exceptionMessage>…</exceptionMessage></error>
//   - Bulk API 1.0 JSON: {"exceptionCode":"InvalidSessionId","exceptionMessage":"…"}

type verdict int

const (
	verdictOK         verdict = iota // success, or an error for the caller to read
	sessionRejected                  // the session ended: refresh and replay
	mutualAuthFailed                 // the certificate is not the one the user must present
	retryNotProcessed                // by its meaning, Salesforce did not process the request
	retryIfIdempotent                // a transient failure after which the request may have been processed
)

// Error codes the verdict acts on besides those that say "not processed"
// (retry.NotProcessedCode).
const (
	codeInvalidSession     = "INVALID_SESSION_ID"           // REST, 401
	codeBulkInvalidSession = "InvalidSessionId"             // Bulk API 1.0, 400
	codeMutualAuth         = "MUTUAL_AUTHENTICATION_FAILED" // REST, 401
)

// maxPeek bounds how much of an error body is read to find its code. What is
// read is put back in front of the rest, so the caller still gets the whole body.
const maxPeek = 64 << 10

// apiError is one parsed error of an answer.
type apiError struct {
	Code    string
	Message string
}

// judge gives the verdict on an answer. A 2xx or 3xx is decided from the
// status alone, without touching the body: that is the hot path.
func judge(resp *http.Response) (verdict, apiError) {
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError,
		http.StatusServiceUnavailable:
	case http.StatusTooManyRequests:
		// Too Many Requests refuses the request before it is processed (RFC 6585 §4).
		return retryNotProcessed, apiError{}
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		// A gateway's failure says nothing of whether the org processed the request.
		return retryIfIdempotent, apiError{}
	default:
		return verdictOK, apiError{}
	}
	errs := peekErrors(resp)
	for _, e := range errs {
		switch {
		case e.Code == codeInvalidSession && resp.StatusCode == http.StatusUnauthorized,
			e.Code == codeBulkInvalidSession && resp.StatusCode == http.StatusBadRequest:
			return sessionRejected, e
		case e.Code == codeMutualAuth && resp.StatusCode == http.StatusUnauthorized:
			return mutualAuthFailed, e
		case retry.NotProcessedCode(e.Code, e.Message):
			return retryNotProcessed, e
		}
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		return retryNotProcessed, firstOf(errs)
	}
	return verdictOK, firstOf(errs)
}

// verdictOnError gives the verdict on a request that got no answer, from the
// shared classifier.
func verdictOnError(err error) verdict {
	switch retry.Classify(err) {
	case retry.NotSent:
		return retryNotProcessed
	case retry.MaybeProcessed:
		return retryIfIdempotent
	}
	return verdictOK
}

func firstOf(errs []apiError) apiError {
	if len(errs) == 0 {
		return apiError{}
	}
	return errs[0]
}

// peekErrors reads up to maxPeek bytes of resp's body, puts them back, and
// parses Salesforce's error shapes out of them.
func peekErrors(resp *http.Response) []apiError {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	peek, _ := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return parseErrors(peek, strings.HasSuffix(ct, "xml"))
}

// parseErrors parses the REST error array, Bulk 1.0's JSON error object, or
// (when xmlBody, or when the body starts with '<') Bulk 1.0's XML error.
func parseErrors(body []byte, xmlBody bool) []apiError {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if xmlBody || body[0] == '<' {
		var x struct {
			XMLName       xml.Name `xml:"error"`
			ExceptionCode string   `xml:"exceptionCode"`
			Message       string   `xml:"exceptionMessage"`
		}
		if xml.Unmarshal(body, &x) != nil || x.ExceptionCode == "" {
			return nil
		}
		return []apiError{{Code: x.ExceptionCode, Message: x.Message}}
	}
	switch body[0] {
	case '[':
		var rest []struct {
			ErrorCode string `json:"errorCode"`
			Message   string `json:"message"`
		}
		if json.Unmarshal(body, &rest) != nil {
			return nil
		}
		out := make([]apiError, 0, len(rest))
		for _, e := range rest {
			if e.ErrorCode != "" {
				out = append(out, apiError{Code: e.ErrorCode, Message: e.Message})
			}
		}
		return out
	case '{':
		var bulk struct {
			ExceptionCode string `json:"exceptionCode"`
			Message       string `json:"exceptionMessage"`
		}
		if json.Unmarshal(body, &bulk) != nil || bulk.ExceptionCode == "" {
			return nil
		}
		return []apiError{{Code: bulk.ExceptionCode, Message: bulk.Message}}
	}
	return nil
}

// Retry.

// mayRetry asks the policy, the caller's deadline and the budget whether a
// failed attempt is sent again, and waits if so. On true or an error (the
// caller's context ended during the wait), resp has been released.
func (t *Transport) mayRetry(ctx context.Context, failures int, resp *http.Response, err error, code apiError) (bool, error) {
	f := retry.Failure{Err: err, ErrorCode: code.Code}
	if resp != nil {
		f.StatusCode = resp.StatusCode
		f.RetryAfter = retry.RetryAfter(resp.Header)
	} else if retry.IsAnsweredOnly(ctx) {
		return false, nil
	}
	wait, d := retry.Next(ctx, t.policyFor(ctx), t.budget, failures, f)
	switch d {
	case retry.Retry:
	case retry.OutOfBudget:
		t.retriesDenied.Add(1)
		t.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: retry budget spent, not retrying", slog.Int("status", f.StatusCode))
		return false, nil
	default:
		return false, nil
	}
	if resp != nil {
		discard(resp)
	}
	t.retries.Add(1)
	t.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: retrying", slog.Int("attempt", failures+1),
		slog.Int("status", f.StatusCode), slog.String("errorCode", f.ErrorCode), slog.Duration("wait", wait))
	if err := retry.Sleep(ctx, wait); err != nil {
		return false, err
	}
	return true, nil
}

// replayable: the request has no body, or one that GetBody makes anew.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// again builds the next attempt of req with tok: a fresh body, the routing and
// headers of the first.
func (t *Transport) again(req *http.Request, tok *auth.Token) (*http.Request, error) {
	next := new(http.Request)
	*next = *req
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		next.Body = body
	}
	out, ok := t.authorize(next, tok)
	if !ok {
		// The new token names another instance: this host is no longer the org's.
		closeBody(next)
		return nil, &SessionExpiredError{Method: req.Method, URL: redactedURL(req.URL)}
	}
	return out, nil
}

// discard drains a little of a response we will not return, so its connection
// can be reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPeek))
	resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
