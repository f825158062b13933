package bulk_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// These tests serve result CSVs and query pages that Salesforce would not
// send, through org.Setup().Handle, to show that every iterator ends and nothing is
// written under the wrong header.

const jobsPath = "/services/data/v" + salesforcetest.APIVersion + "/jobs"

// maxSteps bounds the tests' loops: an iterator that does not end fails the
// test instead of hanging it.
const maxSteps = 100

// drain ranges over seq as a caller that logs each error and keeps going
// would, and fails the test if the sequence does not end.
func drain[T any](t *testing.T, seq iter.Seq2[T, error]) (rows []T, errs []error) {
	t.Helper()
	steps := 0
	for v, err := range seq {
		if steps++; steps > maxSteps {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rows = append(rows, v)
	}
	if steps > maxSteps {
		t.Fatalf("the iteration did not end after %d steps; errors: %v", maxSteps, errs[:min(len(errs), 3)])
	}
	return rows, errs
}

type numRow struct {
	N int `sf:"N"`
}

// resultCases are result CSVs with one fault each, then a good row. A bad
// cell value in a row read whole is skipped: the good row after it comes.
// Every other fault ends the iteration: the rows after it, and the next
// job's, are not read.
var resultCases = []struct {
	name     string
	csv      string
	sentinel error
	skipped  bool // the fault is skipped, decoding goes on
	before   int  // good rows before the fault
}{
	{"bad cell value", "sf__Id,sf__Error,N\n,E1,1\n,E2,many\n,E3,3\n", bulk.ErrValue, true, 1},
	{"malformed line", "sf__Id,sf__Error,N\n,E1,1\n,E\"2,2\n,E3,3\n", bulk.ErrValue, false, 1},
	{"wrong number of cells", "sf__Id,sf__Error,N\n,E1,1\n,E2\n,E3,3\n", bulk.ErrValue, false, 1},
	{"record over the size limit", "sf__Id,sf__Error,N\n,E1,1\n," + strings.Repeat("x", 200<<10) + ",2\n,E3,3\n", bulk.ErrRecordTooLarge, false, 1},
	{"empty header name", "sf__Id,,N\n,E1,1\n", bulk.ErrHeader, false, 0},
	{"duplicated header", "sf__Id,sf__Error,N,n\n,E1,1,1\n", bulk.ErrHeader, false, 0},
}

// Successful, Failed and Unprocessed end after an error that cannot be
// skipped, and go on after a bad cell value, for a caller that keeps going.
// The result sets are those of "Get Job Successful Record Results", "Get Job
// Failed Record Results" and "Get Job Unprocessed Record Results" (Bulk API
// 2.0 and Bulk API Developer Guide), which start with a header row.
func TestIngestResultIteratorsEnd(t *testing.T) {
	ctx := t.Context()
	org, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	var mu sync.Mutex
	bodies := map[string]string{}
	org.Setup().Handle("GET "+jobsPath+"/ingest/{id}/{kind}/", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body, ok := bodies[r.PathValue("id")]
		mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		_, _ = io.WriteString(w, body)
	}))
	good := b.IngestJob("750000000000002AAA", bulk.Format{})
	mu.Lock()
	bodies[good.ID] = "sf__Id,sf__Error,N\n,E9,9\n"
	mu.Unlock()
	for i, tc := range resultCases {
		id := fmt.Sprintf("7500000000001%02dAAA", i)
		mu.Lock()
		bodies[id] = tc.csv
		mu.Unlock()
		job := b.IngestJob(id, bulk.Format{MaxRecordBytes: 1 << 10})
		wantRows := tc.before
		if tc.skipped {
			wantRows += 2 // the row after the fault, and the next job's
		}
		check := func(t *testing.T, n int, errs []error) {
			require.Len(t, errs, 1, "each error is yielded once")
			assert.ErrorIs(t, errs[0], tc.sentinel)
			var de *bulk.DecodeError
			assert.ErrorAs(t, errs[0], &de)
			assert.Equal(t, wantRows, n)
		}
		t.Run(tc.name+"/Successful", func(t *testing.T) {
			rows, errs := drain(t, bulk.Successful[numRow](ctx, job, good))
			check(t, len(rows), errs)
		})
		t.Run(tc.name+"/Failed", func(t *testing.T) {
			rows, errs := drain(t, bulk.Failed[numRow](ctx, job, good))
			check(t, len(rows), errs)
			if len(rows) > 0 {
				assert.Equal(t, "E1", rows[0].Error)
			}
			if tc.skipped {
				assert.Equal(t, 3, rows[1].Record.N)
				assert.Equal(t, 9, rows[2].Record.N, "the next job's rows follow")
			}
		})
		t.Run(tc.name+"/Unprocessed", func(t *testing.T) {
			rows, errs := drain(t, bulk.Unprocessed[numRow](ctx, job, good))
			check(t, len(rows), errs)
		})
	}
}

// queryPages serves a query job's result pages ("Get Results for a Query
// Job": each page is a CSV with its header row; Sforce-Locator names the
// next, "null" on the last). pages maps a locator ("" for the first request)
// to the CSV and the next locator. It returns the locators requested.
func queryPages(t *testing.T, org *salesforcetest.Org, pages map[string][2]string) func() []string {
	var mu sync.Mutex
	var asked []string
	org.Setup().Handle("GET "+jobsPath+"/query/{id}/results", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := r.URL.Query().Get("locator")
		mu.Lock()
		asked = append(asked, loc)
		n := len(asked)
		mu.Unlock()
		page, ok := pages[loc]
		if !ok || n > maxSteps {
			t.Errorf("request %d for locator %q", n, loc)
			http.Error(w, `[{"errorCode":"INVALIDLOCATOR","message":"no such page"}]`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Sforce-Locator", page[1])
		w.Header().Set("Sforce-NumberOfRecords", fmt.Sprint(strings.Count(page[0], "\n")-1))
		_, _ = io.WriteString(w, page[0])
	}))
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

// A locator cycle A -> B -> A is stopped before page A is fetched a second
// time, with ErrLocatorRepeated; no record is written or yielded twice.
func TestQueryLocatorCycleIsAnError(t *testing.T) {
	ctx := t.Context()
	org, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	asked := queryPages(t, org, map[string][2]string{
		"":  {"\"Id\",\"Name\"\n\"001A\",\"first\"\n", "A"},
		"A": {"\"Id\",\"Name\"\n\"001B\",\"second\"\n", "B"},
		"B": {"\"Id\",\"Name\"\n\"001C\",\"third\"\n", "A"},
	})
	job := b.QueryJob("750000000000003AAA", bulk.Format{})

	var out bytes.Buffer
	n, err := job.WriteCSV(ctx, &out, 0, nil)
	require.ErrorIs(t, err, bulk.ErrLocatorRepeated)
	assert.Contains(t, err.Error(), "page 3 sent the locator that page 1 sent")
	assert.EqualValues(t, 3, n)
	assert.Equal(t, "\"Id\",\"Name\"\n\"001A\",\"first\"\n\"001B\",\"second\"\n\"001C\",\"third\"\n", out.String())
	assert.Equal(t, []string{"", "A", "B"}, asked())

	type rec struct{ Id, Name string }
	rows, errs := drain(t, bulk.Records[rec](ctx, job, 0))
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], bulk.ErrLocatorRepeated)
	assert.Equal(t, []rec{{"001A", "first"}, {"001B", "second"}, {"001C", "third"}}, rows)
}

// A page whose header differs from the first page's, here the same columns
// in another order, is an ErrHeader error: its rows are never written under
// the first page's header, nor decoded.
func TestQueryPageWithOtherHeaderIsAnError(t *testing.T) {
	ctx := t.Context()
	org, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	queryPages(t, org, map[string][2]string{
		"":  {"\"Id\",\"Name\"\n\"001A\",\"first\"\n", "A"},
		"A": {"\"Name\",\"Id\"\n\"second\",\"001B\"\n", "null"},
	})
	job := b.QueryJob("750000000000004AAA", bulk.Format{})
	var out bytes.Buffer
	n, err := job.WriteCSV(ctx, &out, 0, nil)
	require.ErrorIs(t, err, bulk.ErrHeader)
	assert.Contains(t, err.Error(), `page 2 of query job 750000000000004AAA has column 1 "Name" where the first result set had "Id"`)
	assert.EqualValues(t, 1, n)
	assert.Equal(t, "\"Id\",\"Name\"\n\"001A\",\"first\"\n", out.String())

	type rec struct{ Id, Name string }
	rows, errs := drain(t, bulk.Records[rec](ctx, job, 0))
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], bulk.ErrHeader)
	assert.Equal(t, []rec{{"001A", "first"}}, rows)
}

// Records ends after a decode error that cannot be skipped, and goes on
// after a bad cell value, for a caller that keeps going.
func TestQueryRecordsEnd(t *testing.T) {
	ctx := t.Context()
	org, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	var mu sync.Mutex
	bodies := map[string]string{}
	org.Setup().Handle("GET "+jobsPath+"/query/{id}/results", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body := bodies[r.PathValue("id")]
		mu.Unlock()
		w.Header().Set("Sforce-Locator", "null")
		_, _ = io.WriteString(w, body)
	}))
	for i, tc := range resultCases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("7500000000005%02dAAA", i)
			mu.Lock()
			bodies[id] = tc.csv
			mu.Unlock()
			rows, errs := drain(t, bulk.Records[numRow](ctx, b.QueryJob(id, bulk.Format{MaxRecordBytes: 1 << 10}), 0))
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], tc.sentinel)
			want := tc.before
			if tc.skipped {
				want++
			}
			assert.Len(t, rows, want)
		})
	}
}

// WriteResults joins the jobs' result sets under one header only when they
// carry the same one; a job whose set is empty (no header) adds nothing, and
// the next job's header is still written. It counts the rows it wrote.
func TestWriteResultsComparesHeaders(t *testing.T) {
	ctx := t.Context()
	org, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	bodies := map[string]string{
		"750000000000006AAA": "",
		"750000000000007AAA": "\"sf__Id\",\"sf__Error\",\"Name\"\n\"\",\"E1\",\"a \"\"quoted\"\"\nline\"\n",
		"750000000000008AAA": "\"sf__Id\",\"sf__Error\",\"Name\"\n\"\",\"E2\",\"b\"\n",
		"750000000000009AAA": "\"sf__Id\",\"Name\",\"sf__Error\"\n\"\",\"c\",\"E3\"\n",
	}
	org.Setup().Handle("GET "+jobsPath+"/ingest/{id}/failedResults/", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, bodies[r.PathValue("id")])
	}))
	jobs := func(ids ...string) []*bulk.IngestJob {
		var js []*bulk.IngestJob
		for _, id := range ids {
			js = append(js, b.IngestJob(id, bulk.Format{}))
		}
		return js
	}
	var out bytes.Buffer
	n, err := bulk.WriteResults(ctx, &out, bulk.FailedResults, jobs("750000000000006AAA", "750000000000007AAA", "750000000000008AAA")...)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	assert.Equal(t, bodies["750000000000007AAA"]+"\"\",\"E2\",\"b\"\n", out.String())

	out.Reset()
	n, err = bulk.WriteResults(ctx, &out, bulk.FailedResults, jobs("750000000000008AAA", "750000000000009AAA")...)
	require.ErrorIs(t, err, bulk.ErrHeader)
	assert.False(t, errors.Is(err, bulk.ErrLocatorRepeated))
	assert.EqualValues(t, 1, n)
	assert.Equal(t, bodies["750000000000008AAA"], out.String())
}
