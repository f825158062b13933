package salesforcetest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// TestNewOrgLikeHTTPTest: the org and its client serve the test and close with it.
func TestNewOrgLikeHTTPTest(t *testing.T) {
	var org *salesforcetest.Org
	var tr *transport.Transport
	t.Run("use", func(t *testing.T) {
		org = salesforcetest.NewOrg(t, salesforcetest.Config{})
		c := org.Client(t)
		tr = c.Transport()
		limits, err := c.Limits(t.Context())
		require.NoError(t, err)
		assert.NotEmpty(t, limits)

		// ClientConfig is ready as it is.
		c2, err := client.New(org.ClientConfig())
		require.NoError(t, err)
		defer c2.Close()
		resp, err := c2.HTTPClient().Get(org.InstanceURL + "/services/data/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	// The subtest's cleanup closed the org: a new connection is refused.
	tr.CloseIdleConnections()
	_, err := tr.Client().Get(org.InstanceURL + "/services/data/")
	require.Error(t, err, "the org is closed when its test ends")
}
