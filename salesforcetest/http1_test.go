package salesforcetest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// TestHTTP1Only: the org negotiates HTTP/1.1 on both listeners even with a
// client that offers h2 first, as behind a proxy that does not speak HTTP/2;
// by default it negotiates HTTP/2.
func TestHTTP1Only(t *testing.T) {
	for _, tc := range []struct {
		name      string
		http1Only bool
		major     int
		alpn      string
	}{
		{"default", false, 2, "h2"},
		{"HTTP1Only", true, 1, "http/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := salesforcetest.NewOrg(t, salesforcetest.Config{HTTP1Only: tc.http1Only})
			c := org.HTTPClient(nil)
			t.Cleanup(c.CloseIdleConnections)
			for _, base := range []string{org.URL, org.StandardURL} {
				resp, err := c.Get(base + "/services/data/")
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode, base)
				assert.Equal(t, tc.major, resp.ProtoMajor, base)
				require.NotNil(t, resp.TLS)
				assert.Equal(t, tc.alpn, resp.TLS.NegotiatedProtocol, base)
			}
		})
	}
}
