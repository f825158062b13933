package bulk_test

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// faultyNet fails the first request matching each armed method with a
// network error before it reaches the org, and counts what was sent.
type faultyNet struct {
	mu   sync.Mutex
	fail map[string]bool // method → fail the next /jobs/ request
	sent map[string]int  // method → /jobs/ requests that reached the org
}

// faulty is one wrapped base transport sharing the faults.
type faulty struct {
	*faultyNet
	next http.RoundTripper
}

func (f faulty) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/jobs/") {
		f.mu.Lock()
		fail := f.fail[r.Method]
		f.fail[r.Method] = false
		if !fail {
			f.sent[r.Method]++
		}
		f.mu.Unlock()
		if fail {
			if r.Body != nil {
				r.Body.Close()
			}
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: &net.DNSError{Err: "connection reset (injected)", IsTemporary: true}}
		}
	}
	return f.next.RoundTrip(r)
}

// Status and result GETs are idempotent and retried, by the transport, after
// a network error; the upload PUT and the job POST are not: their error is
// returned.
func TestOnlyGETsAreRetried(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	faults := &faultyNet{fail: map[string]bool{}, sent: map[string]int{}}
	cfg := org.ClientConfig()
	cfg.WrapBase = func(rt http.RoundTripper) http.RoundTripper { return faulty{faults, rt} }
	c, err := client.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	b := bulk.NewClient(c, bulk.Options{PollInterval: 5 * time.Millisecond})
	ctx := t.Context()
	spec := bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}

	faults.fail[http.MethodPost] = true
	_, _, err = b.CreateIngestJob(ctx, spec)
	require.Error(t, err)
	assert.Zero(t, org.Data().BulkJobCount())

	job, _, err := b.CreateIngestJob(ctx, spec)
	require.NoError(t, err)
	faults.fail[http.MethodPut] = true
	_, err = job.Upload(ctx, strings.NewReader("Name\nOnce\n"))
	require.Error(t, err)
	assert.Zero(t, faults.sent[http.MethodPut], "the failed upload was not sent again")

	_, err = job.Upload(ctx, strings.NewReader("Name\nOnce\n"))
	require.NoError(t, err)
	_, err = job.Close(ctx)
	require.NoError(t, err)
	faults.fail[http.MethodGet] = true
	info, err := job.Wait(ctx, nil)
	require.NoError(t, err, "the status GET is retried")
	assert.EqualValues(t, 1, info.NumberRecordsProcessed)
	faults.fail[http.MethodGet] = true
	ok := collect(t, bulk.Successful[struct{ Name string }](ctx, job))
	assert.Len(t, ok, 1, "the results GET is retried")
	assert.Equal(t, 1, faults.sent[http.MethodPost], "the failed create was not sent again")
	assert.Equal(t, 1, faults.sent[http.MethodPut])
}
