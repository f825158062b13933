package salesforcetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/stretchr/testify/require"
)

// FuzzCompositeBody: any Composite body gets 200 with one result per
// subrequest (or the single LIMIT_EXCEEDED result), or a 4xx error array —
// never a panic — and references, however written, resolve or fail cleanly.
func FuzzCompositeBody(f *testing.F) {
	for _, seed := range []string{
		`{"compositeRequest":[{"method":"POST","url":"/services/data/v65.0/sobjects/Account","referenceId":"a","body":{"Name":"A"}},` +
			`{"method":"GET","url":"/services/data/v65.0/sobjects/Account/@{a.id}","referenceId":"b"}]}`,
		`{"allOrNone":true,"compositeRequest":[{"method":"PATCH","url":"/services/data/v65.0/sobjects/Account/@{x.records[0].Id}","referenceId":"a","body":{"Name":"@{a.b[999999999999].c}"}}]}`,
		`{"compositeRequest":[{"method":"GET","url":"/services/data/v65.0/query?q=SELECT+Id+FROM+Account","referenceId":"q"},` +
			`{"method":"POST","url":"/services/data/v65.0/composite/sobjects","referenceId":"c","body":{"records":[{"attributes":{"type":"Account"},"Name":"@{q.totalSize}"}]}}]}`,
		`{"compositeRequest":[{"method":"DELETE","url":"/services/data/v65.0/composite/sobjects?ids=@{a.id},001","referenceId":"d"}]}`,
		`{"compositeRequest":[{"method":"GET","url":"/services/data/v9.0/limits","referenceId":"a@{"}]}`,
		`{"compositeRequest":[{"method":"GET","url":"%zz","referenceId":"a"}]}`,
		`{"compositeRequest":null}`, `[]`, ``, `{"compositeRequest":[{}]}`,
	} {
		f.Add(seed)
	}
	o := &Org{data: data.NewStore(nil), cursors: newCursors(), defaultPageSize: defaultPageSize}
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		o.handleComposite(w, httptest.NewRequest(http.MethodPost, "/services/data/v65.0/composite", strings.NewReader(body)), "65.0")
		require.True(t, json.Valid(w.Body.Bytes()), "not JSON: %s", w.Body.String())
		if w.Code != http.StatusOK {
			require.GreaterOrEqual(t, w.Code, 400)
			require.Less(t, w.Code, 500)
			return
		}
		var req compositeRequest
		require.Nil(t, decodeJSON([]byte(body), &req))
		var out struct{ CompositeResponse []json.RawMessage }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
		if len(req.CompositeRequest) > maxSubrequests {
			require.Len(t, out.CompositeResponse, 1)
			return
		}
		require.Len(t, out.CompositeResponse, len(req.CompositeRequest))
	})
}

// FuzzCollectionsBody: any sObject Collections create or update body gets
// 200 with a result per record, or a 4xx error array, never a panic.
func FuzzCollectionsBody(f *testing.F) {
	for _, seed := range []string{
		`{"allOrNone":true,"records":[{"attributes":{"type":"Account"},"Name":"A"},{"attributes":{"type":"Account"}}]}`,
		`{"records":[{"attributes":{"type":"Contact"},"LastName":"x","AccountId":"001"}]}`,
		`{"records":[{"attributes":{"type":"Nope__c"}}]}`, `{"records":[{"attributes":"Account"}]}`,
		`{"records":[{"attributes":{"type":"Account"},"id":"001000000000001AAA","Name":null}]}`,
		`{"records":[]}`, `{"records":null}`, `{}`, `[]`, ``,
	} {
		f.Add(seed, false)
	}
	o := &Org{data: data.NewStore(nil), cursors: newCursors(), defaultPageSize: defaultPageSize}
	f.Fuzz(func(t *testing.T, body string, update bool) {
		method := http.MethodPost
		if update {
			method = http.MethodPatch
		}
		w := httptest.NewRecorder()
		o.routeComposite(w, httptest.NewRequest(method, "/services/data/v65.0/composite/sobjects", strings.NewReader(body)), "65.0", []string{"sobjects"})
		require.True(t, json.Valid(w.Body.Bytes()), "not JSON: %s", w.Body.String())
		if w.Code != http.StatusOK {
			require.GreaterOrEqual(t, w.Code, 400)
			require.Less(t, w.Code, 500)
			return
		}
		var req collectionRequest
		require.Nil(t, decodeJSON([]byte(body), &req))
		var out []collectionResult
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
		require.Len(t, out, len(req.Records))
	})
}
