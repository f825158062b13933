package transport

import (
	"net/http"
)

// HotPath runs what RoundTrip adds to a request for the org before and after
// the network, for BenchmarkHotPath: routing, the usage cap, the token lookup,
// the request copy with its headers, and on resp the usage reading, the
// verdict, the retry budget and the session's Touch.
func (t *Transport) HotPath(req *http.Request, resp *http.Response) (*http.Request, bool) {
	if !t.forOrg(req.URL) {
		return nil, false
	}
	if t.limits.admit() != nil {
		return nil, false
	}
	tok, err := t.tokens.Token(req.Context())
	if err != nil {
		return nil, false
	}
	out, ok := t.authorize(req, tok)
	if !ok {
		return nil, false
	}
	t.limits.observe(req.Context(), resp.Header)
	v, _ := judge(resp)
	if v != verdictOK {
		return nil, false
	}
	t.budget.Earn()
	t.tokens.Touch(tok)
	return out, true
}

// ProbeUsageNow lets the next call through the usage cap, as the 30-second
// probe would.
func (t *Transport) ProbeUsageNow() { t.limits.probe.Store(1) }
