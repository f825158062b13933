package transport_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// TestManyMoreCallersThanStreams: far more concurrent callers than the
// connections may carry streams (here 200 callers, 10 streams a connection) all
// complete, and the burst opens few connections.
func TestManyMoreCallersThanStreams(t *testing.T) {
	org, err := salesforcetest.Start(salesforcetest.Config{MaxConcurrentStreams: 10})
	require.NoError(t, err)
	t.Cleanup(org.Close)
	tr := newTransport(t, configFor(org))
	c := tr.Client()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var failures atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, org.InstanceURL+"/services/data/v65.0/limits", nil)
				resp, err := c.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	st := org.Stats()
	t.Logf("org: %+v", st)
	assert.Zero(t, failures.Load())
	assert.Equal(t, int64(1000), st.APIRequests)
}
