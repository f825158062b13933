package salesforcetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// FuzzTreeAndBatchBodies: any sObject Tree or Composite Batch body gets a
// JSON answer — 201 or 200, or a 4xx — never a panic, whatever its nesting.
func FuzzTreeAndBatchBodies(f *testing.F) {
	for _, seed := range []string{
		`{"records":[{"attributes":{"type":"Account","referenceId":"r1"},"Name":"A","Contacts":{"records":[{"attributes":{"type":"Contact","referenceId":"r2"},"LastName":"B"}]}}]}`,
		`{"records":[{"attributes":{"type":"Account","referenceId":"r1"},"Name":"A","Nope":{"records":[1,"x",null]}}]}`,
		`{"records":[{"attributes":{"type":"Contact"},"Cases":{}}]}`, `{"records":null}`, `[]`, ``,
		`{"batchRequests":[{"method":"GET","url":"v65.0/limits"},{"method":"POST","url":"v65.0/sobjects/Account","richInput":{"Name":"A"}}]}`,
		`{"haltOnError":true,"batchRequests":[{"method":"GET","url":"v65.0/composite/batch"},{"method":"get","url":"/services/data/v65.0/query?q=SELECT+Id+FROM+Account"}]}`,
		`{"batchRequests":[{"method":"GET","url":"%zz"}]}`,
	} {
		f.Add(seed)
	}
	o := &Org{data: data.NewStore(nil), cursors: newCursors(), defaultPageSize: defaultPageSize, limits: &apiLimits{max: 1 << 40}}
	f.Fuzz(func(t *testing.T, body string) {
		for _, call := range []func(http.ResponseWriter, *http.Request){
			func(w http.ResponseWriter, r *http.Request) { o.handleTree(w, r, "Account") },
			func(w http.ResponseWriter, r *http.Request) { o.handleBatch(w, r, "65.0") },
		} {
			w := httptest.NewRecorder()
			call(w, httptest.NewRequest(http.MethodPost, "/services/data/v65.0/composite/x", strings.NewReader(body)))
			require.True(t, json.Valid(w.Body.Bytes()), "not JSON: %s", w.Body.String())
			require.Less(t, w.Code, 500, w.Body.String())
		}
	})
}
