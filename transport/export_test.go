package transport

import (
	"net/http"
)

// HotPath runs what RoundTrip adds to a request for the org before and after
// the network, for BenchmarkHotPath: routing, the token lookup, the request
// copy with its headers, and the verdict on resp.
func (t *Transport) HotPath(req *http.Request, resp *http.Response) (*http.Request, bool) {
	if !t.forOrg(req.URL) {
		return nil, false
	}
	tok, err := t.tokens.Token(req.Context())
	if err != nil {
		return nil, false
	}
	out, ok := t.authorize(req, tok)
	return out, ok && sessionVerdict(resp) == sessionOK
}
