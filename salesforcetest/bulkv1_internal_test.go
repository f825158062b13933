package salesforcetest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// FuzzBulkV1Bodies: the bytes a Bulk API 1.0 client sends (a job body in
// XML or JSON, a CSV or JSON batch) are decoded or refused with a
// stateMessage or an exceptionCode, never a panic.
func FuzzBulkV1Bodies(f *testing.F) {
	for _, seed := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>upsert</operation><object>Account</object><externalIdFieldName>Id</externalIdFieldName><contentType>CSV</contentType></jobInfo>`,
		`{"operation":"insert","object":"Account","concurrencyMode":0,"contentType":"JSON"}`,
		`{"concurrencyMode":{"x":1}}`, `<jobInfo><state>Closed</state>`, ``,
		"Name,Industry\nAcme,Energy\n\"Globex, Inc\",#N/A\n,Energy\n",
		"\ufeffId,Name\n001000000000001,x\n\"unterminated\n",
		`[{"Name":"a","attributes":{"type":"Account"}},{"Name":null,"Id":"001"},{"Owner":{"Email":"x"}},{"AnnualRevenue":1e400}]`,
		`[1,2]`, `{"Name":"x"}`,
	} {
		f.Add(seed)
	}
	var so *SObject
	data.NewStore(nil).Read(func(rd *data.Reader) { so, _ = rd.Object("Account") })
	f.Fuzz(func(t *testing.T, body string) {
		for _, asJSON := range []bool{false, true} {
			r := httptest.NewRequest(http.MethodPost, "/services/async/65.0/job", strings.NewReader(body))
			if _, e := readV1JobRequest(r, asJSON); e != nil && (e.Code == "" || e.status != http.StatusBadRequest) {
				t.Fatalf("bad error %+v", e)
			}
		}
		for _, op := range []string{"insert", "upsert", "delete"} {
			info := v1JobInfo{Operation: op, ExternalIDFieldName: "Name"}
			for _, read := range []func(*SObject, v1JobInfo, []byte) ([]v1Row, string){v1CSVRows, v1JSONRows} {
				rows, failure := read(so, info, []byte(body))
				if failure != "" && rows != nil {
					t.Fatalf("rows with a failure: %s", failure)
				}
				for _, row := range rows {
					if row.fields == nil {
						t.Fatal("a row without its field map")
					}
				}
			}
		}
	})
}

// FuzzParameterizedSearch: whatever a parameterized search names, the SOSL
// it stands for parses or fails with a SOSL error: q never escapes FIND's
// braces to add clauses of its own.
func FuzzParameterizedSearch(f *testing.F) {
	f.Add("acme", "Account", "Name = 'x'", "Id,Name")
	f.Add(`a} RETURNING User(Id) LIMIT 1 {`, "Contact", "", "")
	f.Add(`\}\\{"`, "Account", "Name IN ('a', 'b')) , User(Id", "Id")
	schema := data.NewStore(nil)
	f.Fuzz(func(t *testing.T, q, object, where, fields string) {
		req := paramSearch{Q: q, Fields: splitFields(fields), SObjects: []paramSearchObject{{Name: object, Where: where}}}
		sosl, apiErr := req.sosl()
		if apiErr != nil {
			return
		}
		s, err := soqlengine.ParseSearch(sosl)
		var se *soqlengine.Error
		if err != nil {
			if !errors.As(err, &se) {
				t.Fatalf("not a SOSL error: %v", err)
			}
			return
		}
		if len(s.Objects()) != 1 {
			return // refused by the handler: a where clause that names other objects
		}
		schema.Read(func(rd *data.Reader) {
			recs, err := soqlengine.ExecuteSearch(s, soqlSchema{rd}, rd, soqlengine.Options{APIVersion: "65.0"})
			if err != nil && !errors.As(err, &se) {
				t.Fatalf("not a SOSL error: %v", err)
			}
			for _, r := range recs {
				if !strings.EqualFold(r.Type, object) {
					t.Fatalf("q %q widened the search to %s", q, r.Type)
				}
			}
		})
	})
}
