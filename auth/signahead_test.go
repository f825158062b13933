package auth_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// switchSigner counts its signatures and signs with whichever key it holds.
type switchSigner struct {
	key atomic.Pointer[crypto.Signer]
	n   atomic.Int64
}

func (s *switchSigner) Public() crypto.PublicKey { return (*s.key.Load()).Public() }
func (s *switchSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	s.n.Add(1)
	return (*s.key.Load()).Sign(r, d, o)
}

// TestSignAhead: a first token fetch signs only what it sends. A fetch that
// comes within minutes of the one before signs the next assertion in the
// background, and the next fetch sends it without signing; an assertion
// signed ahead more than a minute ago, or with a key the signer no longer
// holds, is not sent. Signing ahead waits a moment after the fetch, so as not
// to compete for the CPU with the calls that waited for the token.
func TestSignAhead(t *testing.T) {
	var offset atomic.Int64 // the clock the org and the source share
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	org, err := salesforcetest.Start(salesforcetest.Config{Now: now})
	require.NoError(t, err)
	t.Cleanup(org.Close)
	signer := &switchSigner{}
	jwtKey := org.PKI.JWTIdentity.Signer()
	signer.key.Store(&jwtKey)
	// atSend is the signature count when each token request leaves.
	var atSend []int64
	base := org.HTTPClient(nil)
	client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		atSend = append(atSend, signer.n.Load())
		return base.Transport.RoundTrip(r)
	})}
	ts := sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.Signer, c.HTTPClient, c.Now = signer, client, now })
	fetch := func() error {
		_, err := ts.Token(t.Context())
		return err
	}
	signedAhead := func(n int64) {
		t.Helper()
		require.Eventually(t, ts.SignedAhead, 10*time.Second, time.Millisecond)
		assert.Equal(t, n, signer.n.Load())
	}

	require.NoError(t, fetch())
	assert.Equal(t, []int64{1}, atSend, "the first fetch signs what it sends")
	require.NoError(t, fetch())
	assert.Equal(t, []int64{1, 2}, atSend, "nothing was signed ahead after a first fetch")
	signedAhead(3) // the second fetch came soon after the first
	require.NoError(t, fetch())
	assert.Equal(t, int64(3), atSend[2], "the third fetch sends the assertion signed ahead, signing nothing")
	signedAhead(4)

	offset.Add(int64(61 * time.Second))
	require.NoError(t, fetch())
	assert.Equal(t, int64(5), atSend[3], "an assertion signed ahead a minute ago is not sent")
	signedAhead(6)

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	var otherKey crypto.Signer = other
	signer.key.Store(&otherKey)
	var oe *auth.OAuthError
	require.ErrorAs(t, fetch(), &oe, "the org does not know the new key")
	assert.Equal(t, int64(7), atSend[4], "an assertion signed ahead with the former key is not sent")

	// Until the delay has passed (the calls that waited for the token are
	// being sent again), nothing is signed ahead and a fetch signs its own.
	signer.key.Store(&jwtKey)
	late := sourceFor(t, org, func(c *auth.JWTBearerConfig) { c.Signer, c.HTTPClient, c.Now = signer, client, now })
	late.SetSignAheadDelay(time.Hour)
	atSend = nil
	for range 3 {
		_, err := late.Token(t.Context())
		require.NoError(t, err)
	}
	assert.Equal(t, []int64{8, 9, 10}, atSend, "each fetch signed its own assertion")
	assert.False(t, late.SignedAhead())
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
