package client_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// TestClientOwnsItsTransport: New returns one value that carries the
// transport's token, instance URL, counters and closing.
func TestClientOwnsItsTransport(t *testing.T) {
	// A failed New returns a nil Client whose Close does not panic.
	c, err := client.New(client.Config{})
	require.ErrorIs(t, err, client.ErrConfig)
	assert.Nil(t, c)
	assert.NoError(t, c.Close())

	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	c, err = client.New(org.ClientConfig())
	require.NoError(t, err)
	tr := c.Transport()
	require.NotNil(t, tr)
	ctx := t.Context()
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
