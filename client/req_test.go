package client_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

const dataPath = "/services/data/v" + salesforcetest.APIVersion

// TestAnErrorThatMentionsInvalidSessionIdIsNotASessionVerdict: Salesforce's
// REST error array (REST API Developer Guide, Status Codes and Error
// Responses) names its cause in errorCode; the message is data. The observed
// bug: this 400 made 5 Create calls send 20 POSTs and 20 token requests.
func TestAnErrorThatMentionsInvalidSessionIdIsNotASessionVerdict(t *testing.T) {
	org, c := setup(t, salesforcetest.Config{}, salesforcetest.APIVersion)
	var posts atomic.Int64
	org.Setup().Handle("POST "+dataPath+"/sobjects/Contact", true, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		posts.Add(1)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`[{"errorCode":"INVALID_EMAIL_ADDRESS","message":"Email: invalid email address: InvalidSessionId@@example.com","fields":["Email"]}]`))
	}))
	ctx := t.Context()
	_, err := c.Token(ctx)
	require.NoError(t, err)
	tokensBefore := org.Stats().TokenRequests
	for range 5 {
		_, err := c.Create(ctx, "Contact", map[string]any{"LastName": "Doe", "Email": "InvalidSessionId@@example.com"})
		var apiErr *client.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.True(t, apiErr.HasCode("INVALID_EMAIL_ADDRESS"))
		assert.Equal(t, []string{"Email"}, apiErr.Errors[0].Fields)
	}
	assert.Equal(t, int64(5), posts.Load(), "one POST per Create")
	assert.Zero(t, org.Stats().TokenRequests-tokensBefore, "no token request")
	st := c.Stats()
	assert.Zero(t, st.Refreshes)
	assert.Zero(t, st.Replays)
	assert.Zero(t, st.Retries)
}

// queryHandler answers a query and its next pages with page(n), n counting from 0.
func queryHandler(requests *atomic.Int64, page func(n int64) map[string]any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := requests.Add(1) - 1
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_ = json.NewEncoder(w).Encode(page(n))
	})
}

// TestPaginationEnds: Salesforce's query pages (REST API Developer Guide,
// "Execute a SOQL Query": done, nextRecordsUrl) always advance. An answer
// that does not, a repeated nextRecordsUrl or a page that is not done yet has
// no records, ends the iterator with *client.PaginationError instead of
// looping (observed: 34,000 requests in 3 s). A page that fails the check
// yields none of its records.
func TestPaginationEnds(t *testing.T) {
	cases := []struct {
		name     string
		page     func(n int64) map[string]any
		records  int
		requests int64
		reason   string
	}{
		{"the same nextRecordsUrl again", func(int64) map[string]any {
			return map[string]any{"totalSize": 4000, "done": false, "nextRecordsUrl": dataPath + "/query/01gLOOP-2000",
				"records": []any{map[string]any{"Id": "001000000000001AAA"}}}
		}, 1, 2, "already followed"},
		{"pages that are not done and hold no records", func(n int64) map[string]any {
			return map[string]any{"totalSize": 4000, "done": false, "nextRecordsUrl": fmt.Sprintf("%s/query/01gEMPTY-%d", dataPath, n),
				"records": []any{}}
		}, 0, 1, "no records"},
		{"a page that is not done and names no next page", func(int64) map[string]any {
			return map[string]any{"totalSize": 4000, "done": false, "records": []any{map[string]any{"Id": "001000000000001AAA"}}}
		}, 0, 1, "no nextRecordsUrl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			org, c := setup(t, salesforcetest.Config{}, salesforcetest.APIVersion)
			var requests atomic.Int64
			h := queryHandler(&requests, tc.page)
			org.Setup().Handle("GET "+dataPath+"/query", true, h)
			org.Setup().Handle("GET "+dataPath+"/query/", true, h)
			records := 0
			var last error
			for _, err := range client.Query[map[string]any](t.Context(), c, "SELECT Id FROM Account") {
				if err != nil {
					last = err
					break
				}
				records++
			}
			var pe *client.PaginationError
			require.ErrorAs(t, last, &pe)
			assert.Contains(t, pe.Reason, tc.reason)
			assert.Equal(t, tc.records, records)
			assert.Equal(t, tc.requests, requests.Load())
		})
	}
}

// TestDecodedAnswersAreBounded: an answer longer than MaxResponseBytes fails
// with *client.ResponseTooLargeError; one of exactly the bound decodes.
func TestDecodedAnswersAreBounded(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	const limit = 4096
	cfg := org.ClientConfig()
	cfg.APIVersion, cfg.MaxResponseBytes = salesforcetest.APIVersion, limit
	c, err := client.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	answer := func(size int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`"` + strings.Repeat("x", size-2) + `"`))
		})
	}
	org.Setup().Handle("GET /services/apexrest/exact", true, answer(limit))
	org.Setup().Handle("GET /services/apexrest/over", true, answer(limit+1))
	ctx := t.Context()
	var s string
	require.NoError(t, c.Do(ctx, http.MethodGet, "/services/apexrest/exact", nil, &s))
	assert.Len(t, s, limit-2)
	err = c.Do(ctx, http.MethodGet, "/services/apexrest/over?token=secret", nil, &s)
	var tooLarge *client.ResponseTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	assert.Equal(t, int64(limit), tooLarge.Limit)
	assert.NotContains(t, err.Error(), "secret", "the query is not quoted")

	// With no value to decode into, an endless answer is still read only up to the bound.
	org.Setup().Handle("DELETE /services/apexrest/endless", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 1024))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	done := make(chan error, 1)
	go func() { done <- c.Do(ctx, http.MethodDelete, "/services/apexrest/endless", nil, nil) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Do read an endless answer past MaxResponseBytes")
	}

	cfg.MaxResponseBytes = -1
	_, err = client.New(cfg)
	require.ErrorIs(t, err, client.ErrConfig)
}

// TestAnswersNotDecodedAreDrained: calls with no value to decode into read
// what is left of the answer, short or long, of known length or chunked, so
// that over HTTP/1.1 the connection serves the next call: one handshake for
// the token request and every call.
func TestAnswersNotDecodedAreDrained(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{HTTP1Only: true})
	for name, size := range map[string]int{"short": 40, "medium": 4000, "long": 64 << 10} {
		body := strings.Repeat("x", size)
		org.Setup().Handle("GET /services/apexrest/"+name, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if name != "long" {
				w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			}
			_, _ = w.Write([]byte(body))
		}))
	}
	c, err := client.New(org.ClientConfig())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	for range 3 {
		for _, name := range []string{"short", "medium", "long"} {
			require.NoError(t, c.Do(t.Context(), http.MethodGet, "/services/apexrest/"+name, nil, nil), name)
		}
	}
	assert.Equal(t, int64(1), org.Stats().TLSHandshakes, "one connection for the token request and 9 calls")
}

// TestAnswersNotDecodedOverHTTP2AreNotRead: over HTTP/2 a call with no value
// to decode into closes the answer without reading it, since the stream
// alone ends: an answer still coming (here one that would never end) does
// not hold the call, and the connection serves the next call.
func TestAnswersNotDecodedOverHTTP2AreNotRead(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	reset := make(chan struct{}, 1)
	org.Setup().Handle("GET /services/apexrest/endless", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 4000)))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the client's reset of the stream
		reset <- struct{}{}
	}))
	c, err := client.New(org.ClientConfig())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Do(t.Context(), http.MethodGet, "/services/apexrest/endless", nil, nil))
	<-reset
	require.NoError(t, c.Do(t.Context(), http.MethodGet, "/services/data/v63.0/limits", nil, nil))
	assert.Equal(t, int64(1), org.Stats().TLSHandshakes, "one connection for the token request and both calls")
}

// TestBadPathNamesThePath: a path that is no URL fails before anything is
// sent, naming the path, whether it was to be sent as it is or resolved.
func TestBadPathNamesThePath(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	c, err := client.New(org.ClientConfig())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	for _, path := range []string{dataPath + "/sobjects/bad%zz", dataPath[1:] + "/bad%zz"} {
		err := c.Do(t.Context(), http.MethodGet, path, nil, nil)
		require.Error(t, err, path)
		assert.Contains(t, err.Error(), fmt.Sprintf("client: bad path %q", path))
	}
	assert.Equal(t, int64(0), org.Stats().APIRequests, "nothing was sent")
}
