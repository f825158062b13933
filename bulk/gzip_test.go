package bulk_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// serveResults serves a query job's one result page with the given
// Content-Encoding and body, noting the Accept-Encoding asked for.
func serveResults(t *testing.T, encoding string, body []byte) (*bulk.Client, *string) {
	t.Helper()
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	c := org.Client(t)
	v, err := c.APIVersion(t.Context())
	require.NoError(t, err)
	var asked string
	org.Setup().Handle("/services/data/v"+v+"/jobs/query/7505e000000GzIpAAK/results", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.Header.Get("Accept-Encoding")
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Sforce-Locator", "null")
		if encoding != "" {
			w.Header().Set("Content-Encoding", encoding)
		}
		_, _ = w.Write(body)
	}))
	return bulk.NewClient(c, bulk.Options{}), &asked
}

// "Use Compression for Bulk API 2.0 Responses": a client that sends
// Accept-Encoding: gzip gets its results gzip-compressed. The SDK asks for
// it and decodes the answer itself (with klauspost/compress's decoder).
func TestResultsAskForGzipAndDecodeIt(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte("\"Id\",\"Name\"\n\"001000000000001AAA\",\"Acme\"\n\"001000000000002AAA\",\"Globex\"\n"))
	require.NoError(t, zw.Close())
	b, asked := serveResults(t, "gzip", zipped.Bytes())
	got := collect(t, bulk.Records[account](t.Context(), b.QueryJob("7505e000000GzIpAAK", bulk.Format{}), 0))
	assert.Equal(t, "gzip", *asked)
	assert.Equal(t, []account{{ID: "001000000000001AAA", Name: "Acme"}, {ID: "001000000000002AAA", Name: "Globex"}}, got)

	b, _ = serveResults(t, "", []byte("\"Id\"\n\"001000000000003AAA\"\n"))
	got = collect(t, bulk.Records[account](t.Context(), b.QueryJob("7505e000000GzIpAAK", bulk.Format{}), 0))
	assert.Equal(t, []account{{ID: "001000000000003AAA"}}, got, "an answer sent as it is")
}

// An answer that says gzip but is not, is cut short, or comes in an
// encoding not asked for, is an error, never CSV read from the raw bytes.
func TestResultsInABadEncodingAreAnError(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(bytes.Repeat([]byte("\"Id\"\n\"001000000000003AAA\"\n"), 100))
	require.NoError(t, zw.Close())
	for name, tc := range map[string]struct{ encoding, body string }{
		"not gzip":  {"gzip", "\"Id\"\n\"001000000000003AAA\"\n"},
		"cut short": {"gzip", zipped.String()[:zipped.Len()/2]},
		"brotli":    {"br", "\"Id\"\n"},
	} {
		t.Run(name, func(t *testing.T) {
			b, _ := serveResults(t, tc.encoding, []byte(tc.body))
			var err error
			for _, e := range bulk.Records[account](t.Context(), b.QueryJob("7505e000000GzIpAAK", bulk.Format{}), 0) {
				if e != nil {
					err = e
				}
			}
			require.Error(t, err)
		})
	}
}
