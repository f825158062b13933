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

// FuzzCreateBody: any request body a client sends to create gets a REST answer
// — a created record or an error array — and never a panic.
func FuzzCreateBody(f *testing.F) {
	for _, seed := range []string{`{"Name":"Acme"}`, `{"Name":null}`, `{"NumberOfEmployees":"many","Name":"x"}`,
		`[1,2]`, `{"ParentId":"001A0000006Vm9r"}`, `{"Name":"a","AnnualRevenue":1e999}`, `{"Name":{"x":1}}`, ``} {
		f.Add(seed)
	}
	s := data.NewStore(nil)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		fields, err := readFields(req)
		if err != nil {
			require.Equal(t, "JSON_PARSER_ERROR", err.ErrorCode)
			return
		}
		e := s.Transaction(func(tx *data.Txn) *APIError {
			_, e := tx.Create("Account", fields)
			return e
		})
		if e != nil {
			require.NotEmpty(t, e.ErrorCode)
			require.GreaterOrEqual(t, e.StatusCode, 400)
			_, mErr := json.Marshal([]restError{{Message: e.Message, ErrorCode: e.ErrorCode}})
			require.NoError(t, mErr)
		}
	})
}
