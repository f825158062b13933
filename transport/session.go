package transport

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sfmtls/sfmtls/auth"
)

// maxReplays bounds how often one request is sent again after its session was
// rejected: once per session that ended under it, and no more than this.
const maxReplays = 3

// mutualAuthFix is the fix Salesforce's MUTUAL_AUTHENTICATION_FAILED calls for,
// the same on an API call as on the token request.
var mutualAuthFix = (&auth.OAuthError{Code: codeMutualAuth}).Fix()

// sendOrg sends an org request with tok and acts on the verdict (see judge and
// classifyError):
//
//   - The session was rejected (401 INVALID_SESSION_ID, or Bulk 1.0's 400
//     InvalidSessionId): the token is dropped, one new token is fetched for
//     every concurrent caller, and the request is replayed if its body can be.
//     Should the new session end too before the replay arrives, it is replayed
//     once more per ended session, up to maxReplays times.
//   - A transient failure after which Salesforce provably did not process the
//     request: sent again under the retry policy, whatever the method.
//   - A transient failure after which it may have processed it: sent again only
//     when the method is idempotent. A non-idempotent request that got no
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
			v = classifyError(err)
		} else {
			t.limits.observe(ctx, resp.Header)
			v, code = judge(resp)
		}
		switch v {
		case verdictOK:
			if err == nil {
				t.budget.earn()
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
			if v == retryIfIdempotent && !idempotent(req.Method) {
				if err != nil {
					return nil, &MaybeProcessedError{Method: req.Method, URL: redactedURL(req.URL), Err: err}
				}
				return resp, nil
			}
			failures++
			if !replayable(req) {
				return resp, err
			}
			if retry, cerr := t.mayRetry(ctx, failures, resp, err, code); cerr != nil {
				return nil, cerr
			} else if !retry {
				return resp, err
			}
		}
		if out, err = t.again(req, tok); err != nil {
			return nil, err
		}
	}
}

// mayRetry asks the policy and the budget whether a failed attempt is sent
// again, and waits if so. On true or an error (the caller's context ended
// during the wait), resp has been released.
func (t *Transport) mayRetry(ctx context.Context, failures int, resp *http.Response, err error, code apiError) (bool, error) {
	f := Failure{Err: err, ErrorCode: code.Code}
	if resp != nil {
		f.StatusCode = resp.StatusCode
		f.RetryAfter, _ = auth.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	wait, ok := t.policyFor(ctx).Backoff(failures, f)
	if !ok {
		return false, nil
	}
	wait = max(wait, f.RetryAfter)
	if dl, has := ctx.Deadline(); has && time.Until(dl) <= wait {
		// The caller's deadline comes first: answer now rather than time out asleep.
		return false, nil
	}
	if !t.budget.spend() {
		t.retriesDenied.Add(1)
		t.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: retry budget spent, not retrying", slog.Int("status", f.StatusCode))
		return false, nil
	}
	if resp != nil {
		discard(resp)
	}
	t.retries.Add(1)
	t.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: retrying", slog.Int("attempt", failures+1),
		slog.Int("status", f.StatusCode), slog.String("errorCode", f.ErrorCode), slog.Duration("wait", wait))
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-timer.C:
		return true, nil
	}
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
