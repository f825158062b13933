package client_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// TestPagingFollowsOnlyQueryPages: Salesforce names the next page of a query
// by its path under the query resource (REST API Developer Guide, "Execute a
// SOQL Query": "nextRecordsUrl": "/services/data/v65.0/query/01gD0000002HU6KIAW-2000").
// A nextRecordsUrl that is anything else — another resource of the org, a
// path that climbs out with dot segments (plain or encoded), another host —
// is a *client.PaginationError: it is never requested, with the session's
// token or without, and the page naming it yields none of its records.
func TestPagingFollowsOnlyQueryPages(t *testing.T) {
	var foreignHits atomic.Int64
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		foreignHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"totalSize":2,"done":true,"records":[{"Id":"001000000000009AAA","Name":"Planted"}]}`))
	}))
	t.Cleanup(foreign.Close)

	for _, next := range []string{
		"/services/apexrest/Leak",
		"/services/Soap/u/65.0",
		dataPath + "/query/../../../../secur/frontdoor.jsp",
		dataPath + "/query/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secur/frontdoor.jsp",
		dataPath + "/query/01gD0000002HU6KIAW-2000/..",
		dataPath + "/query/./01gD0000002HU6KIAW-2000",
		dataPath + "/sobjects/Account",
		dataPath + "/query/01gD0000002HU6KIAW-2000?q=x",
		dataPath + `/query\..\..\secur`,
		foreign.URL + dataPath + "/query/01gD0000002HU6KIAW-2000",
		"//" + foreign.Listener.Addr().String() + dataPath + "/query/01gD0000002HU6KIAW-2000",
		"https://evil.example" + dataPath + "/query/01gD0000002HU6KIAW-2000",
	} {
		t.Run(next, func(t *testing.T) {
			org, c := setup(t, salesforcetest.Config{}, salesforcetest.APIVersion)
			var requests, elsewhere atomic.Int64
			h := queryHandler(&requests, func(n int64) map[string]any {
				return map[string]any{"totalSize": 4000, "done": false, "nextRecordsUrl": next,
					"records": []any{map[string]any{"Id": "001000000000001AAA", "Name": "Acme"}}}
			})
			org.Setup().Handle("GET "+dataPath+"/query", true, h)
			org.Setup().Handle("GET "+dataPath+"/queryAll", true, h)
			// What a followed link would reach on the org.
			count := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				elsewhere.Add(1)
				w.WriteHeader(http.StatusOK)
			})
			org.Setup().Handle("GET /services/apexrest/Leak", false, count)
			org.Setup().Handle("/services/Soap/", false, count)
			org.Setup().Handle("/secur/", false, count)
			org.Setup().Handle("GET "+dataPath+"/query/", false, count)
			org.Setup().Handle("GET "+dataPath+"/sobjects/Account", false, count)

			for _, query := range []func() func(func(map[string]any, error) bool){
				func() func(func(map[string]any, error) bool) {
					return client.Query[map[string]any](t.Context(), c, "SELECT Id, Name FROM Account")
				},
				func() func(func(map[string]any, error) bool) {
					return client.QueryAll[map[string]any](t.Context(), c, "SELECT Id, Name FROM Account")
				},
			} {
				var records []map[string]any
				var last error
				for rec, err := range query() {
					if err != nil {
						last = err
						break
					}
					records = append(records, rec)
				}
				var pe *client.PaginationError
				require.ErrorAs(t, last, &pe)
				assert.Contains(t, pe.Reason, "nextRecordsUrl")
				assert.Empty(t, records, "the page naming it yields nothing, and no foreign record is yielded")
			}
			assert.Equal(t, int64(2), requests.Load(), "only the first pages were requested")
			assert.Zero(t, elsewhere.Load(), "nothing else on the org was requested")
			assert.Zero(t, foreignHits.Load(), "the foreign host was never asked")
		})
	}
}
