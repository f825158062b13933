package transport

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"

	"github.com/sfmtls/sfmtls/auth"
)

// maxReplays bounds how often one request is sent again after its session was
// rejected: once per session that ended under it, and no more than this.
const maxReplays = 3

// mutualAuthFix is the fix Salesforce's MUTUAL_AUTHENTICATION_FAILED calls for,
// the same on an API call as on the token request.
var mutualAuthFix = (&auth.OAuthError{Code: "MUTUAL_AUTHENTICATION_FAILED"}).Fix()

// sendOrg sends an org request with tok. When Salesforce rejects the session
// (401 INVALID_SESSION_ID, or Bulk's 400 InvalidSessionId) it drops that token,
// fetches one new token shared with every concurrent caller, and sends the
// request again if its body can be replayed. Should the new session end too
// before the replay arrives, the request is replayed once more per ended
// session, up to maxReplays times.
func (t *Transport) sendOrg(req, out *http.Request, tok *auth.Token) (*http.Response, error) {
	ctx := req.Context()
	resp, err := t.orgRT.RoundTrip(out)
	for replays := 0; ; replays++ {
		if err != nil {
			return nil, err
		}
		switch sessionVerdict(resp) {
		case sessionOK:
			return resp, nil
		case mutualAuthFailed:
			t.log.LogAttrs(ctx, slog.LevelWarn, "sfmtls: Salesforce refused the call: MUTUAL_AUTHENTICATION_FAILED",
				slog.String("host", out.URL.Host), slog.String("fix", mutualAuthFix))
			return resp, nil
		}
		t.tokens.Invalidate(tok)
		t.refreshes.Add(1)
		t.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: session rejected, refreshing the token", slog.String("host", out.URL.Host))
		if replays == maxReplays {
			return resp, nil
		}
		// Release the rejected answer first: it holds an HTTP/2 stream, and the
		// token request may need one (waiting with it held deadlocks a busy connection).
		discard(resp)
		if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			return nil, &SessionExpiredError{Method: req.Method, URL: redactedURL(req.URL)}
		}
		if tok, err = t.tokens.Token(ctx); err != nil {
			return nil, err
		}
		replay := req.Clone(ctx)
		if req.GetBody != nil {
			if replay.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		var ok bool
		if out, ok = t.authorize(replay, tok); !ok {
			// The new token names another instance: this host is no longer the org's.
			return nil, &SessionExpiredError{Method: req.Method, URL: redactedURL(req.URL)}
		}
		t.replays.Add(1)
		resp, err = t.orgRT.RoundTrip(out)
	}
}

type verdict int

const (
	sessionOK verdict = iota
	sessionRejected
	mutualAuthFailed
)

// maxPeek bounds how much of a 400/401 body is read to tell its cause.
const maxPeek = 64 << 10

// sessionVerdict reads (and puts back) the body of a 400 or 401 to see whether
// Salesforce rejected the session or the mutual authentication.
func sessionVerdict(resp *http.Response) verdict {
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest {
		return sessionOK
	}
	peek, _ := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && bytes.Contains(peek, []byte("MUTUAL_AUTHENTICATION_FAILED")):
		return mutualAuthFailed
	case resp.StatusCode == http.StatusUnauthorized && bytes.Contains(peek, []byte("INVALID_SESSION_ID")):
		return sessionRejected
	case resp.StatusCode == http.StatusBadRequest && bytes.Contains(peek, []byte("InvalidSessionId")):
		return sessionRejected
	}
	return sessionOK
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
