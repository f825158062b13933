package client_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// TestClientOwnsItsTransport: New returns one value that carries the
// transport's token, instance URL, counters and closing.
func TestClientOwnsItsTransport(t *testing.T) {
	// A failed New returns a nil Client whose Close does not panic.
	c, err := client.New(client.Config{})
	require.ErrorIs(t, err, transport.ErrConfig)
	assert.Nil(t, c)
	assert.NoError(t, c.Close())

	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	c, err = client.New(client.Config{Config: org.TransportConfig()})
	require.NoError(t, err)
	tr := c.Transport()
	require.NotNil(t, tr)
	ctx := context.Background()
	tok, err := c.Token(ctx)
	require.NoError(t, err)
	trTok, err := tr.Token(ctx)
	require.NoError(t, err)
	assert.True(t, tok.Equal(trTok))
	base, err := c.InstanceURL(ctx)
	require.NoError(t, err)
	trBase, err := tr.InstanceURL(ctx)
	require.NoError(t, err)
	assert.Equal(t, trBase, base)
	_, err = c.Limits(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Stats().TokenFetches)
	assert.Equal(t, tr.Stats(), c.Stats())
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "a second Close is fine")
}

// unwrapping is a wrapper with Unwrap, as instrumentation wrappers often have.
type unwrapping struct{ next http.RoundTripper }

func (u unwrapping) RoundTrip(r *http.Request) (*http.Response, error) { return u.next.RoundTrip(r) }
func (u unwrapping) Unwrap() http.RoundTripper                         { return u.next }

// opaque is a wrapper without Unwrap, as otelhttp.Transport is.
type opaque struct{ next http.RoundTripper }

func (o opaque) RoundTrip(r *http.Request) (*http.Response, error) { return o.next.RoundTrip(r) }

// TestNewFromHTTPClientAcceptsAWrappedTransport: a wrapped *transport.Transport
// is found through Unwrap, or named with Options.BaseURLSource; otherwise the
// error says which option to set.
func TestNewFromHTTPClientAcceptsAWrappedTransport(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	tr, err := transport.New(org.TransportConfig())
	require.NoError(t, err)
	t.Cleanup(tr.CloseIdleConnections)
	ctx := context.Background()

	_, err = client.NewFromHTTPClient(&http.Client{Transport: opaque{tr}}, client.Options{})
	require.ErrorIs(t, err, client.ErrConfig)
	assert.Contains(t, err.Error(), "client: invalid configuration")
	assert.Contains(t, err.Error(), "set Options.BaseURLSource")
	assert.Contains(t, err.Error(), "client_test.opaque")

	for name, opts := range map[string]struct {
		rt   http.RoundTripper
		opts client.Options
	}{
		"Unwrap chain":  {unwrapping{unwrapping{tr}}, client.Options{}},
		"BaseURLSource": {opaque{tr}, client.Options{BaseURLSource: tr}},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := client.NewFromHTTPClient(&http.Client{Transport: opts.rt}, opts.opts)
			require.NoError(t, err)
			assert.Same(t, tr, c.Transport())
			_, err = c.Limits(ctx)
			require.NoError(t, err)
			_, err = c.Token(ctx)
			require.NoError(t, err)
			require.NoError(t, c.Close(), "closes nothing it does not own")
		})
	}
	// Without any transport.Transport: a base URL works, the token does not.
	c, err := client.NewFromHTTPClient(org.HTTPClient(nil), client.Options{BaseURL: org.URL})
	require.NoError(t, err)
	assert.Nil(t, c.Transport())
	assert.Zero(t, c.Stats())
	_, err = c.Token(ctx)
	require.ErrorIs(t, err, client.ErrConfig)
	_, err = client.NewFromHTTPClient(nil, client.Options{BaseURL: org.URL})
	require.ErrorIs(t, err, client.ErrConfig)
}
