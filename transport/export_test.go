package transport

import (
	"crypto"
	"io"
	"net/http"
	"sync/atomic"
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

// CountingKey is a key held in memory (a *rsa.PrivateKey or
// *ecdsa.PrivateKey) that counts its signatures, for the tests that count the
// signatures of a cold start.
type CountingKey struct {
	crypto.Signer
	n atomic.Int64
}

func (k *CountingKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.n.Add(1)
	return k.Signer.Sign(r, digest, opts)
}

// Signatures returns how many signatures the key made.
func (k *CountingKey) Signatures() int64 { return k.n.Load() }

func (*CountingKey) localKey() {}
