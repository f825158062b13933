package bulk_test

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// These tests run against the fake org (salesforcetest), which serves Bulk
// API 2.0 as the "Bulk API 2.0 and Bulk API Developer Guide" documents it.

type account struct {
	ID                string `sf:"Id,omitempty"`
	Name              string `sf:"Name,omitempty"`
	Industry          string `sf:"Industry,omitempty"`
	NumberOfEmployees *int   `sf:"NumberOfEmployees,omitempty"`
	ExtID             string `sf:"Ext_Id__c,omitempty"`
}

var extID = salesforcetest.Config{Objects: []salesforcetest.SObject{{Name: "Account", Fields: []salesforcetest.Field{
	{Name: "Ext_Id__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true}}}}}

// extIDPlain declares the field without Unique: the fake checks uniqueness
// by scanning, which makes thousands of inserts slow under -race.
var extIDPlain = salesforcetest.Config{Objects: []salesforcetest.SObject{{Name: "Account", Fields: []salesforcetest.Field{
	{Name: "Ext_Id__c", Type: salesforcetest.TypeString, ExternalID: true}}}}}

func newBulk(t *testing.T, cfg salesforcetest.Config, opts bulk.Options) (*salesforcetest.Org, *client.Client, *bulk.Client) {
	t.Helper()
	org := salesforcetest.NewOrg(t, cfg)
	c := org.Client(t)
	if opts.PollInterval == 0 {
		opts.PollInterval = 10 * time.Millisecond
		opts.MaxPollInterval = 50 * time.Millisecond
	}
	return org, c, bulk.NewClient(c, opts)
}

func accounts(n int) iter.Seq[account] {
	return func(yield func(account) bool) {
		for i := range n {
			emp := i
			if !yield(account{Name: fmt.Sprintf("Bulk %05d", i), Industry: "Energy", NumberOfEmployees: &emp, ExtID: fmt.Sprintf("EXT-%05d", i)}) {
				return
			}
		}
	}
}

func collect[T any](t *testing.T, seq iter.Seq2[T, error]) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

// "Bulk API 2.0 Ingest": create, upload, UploadComplete, wait, results; then
// "Bulk API 2.0 Query" pages the records back across Sforce-Locator.
func TestIngestRecordsThenQueryThemBack(t *testing.T) {
	ctx := t.Context()
	_, _, b := newBulk(t, extIDPlain, bulk.Options{})
	var last bulk.Progress
	in, err := bulk.IngestRecords(ctx, b, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}, accounts(2500),
		func(p bulk.Progress) { last = p })
	require.NoError(t, err)
	assert.Len(t, in.Jobs, 1)
	assert.EqualValues(t, 2500, in.Records)
	assert.EqualValues(t, 2500, in.Processed)
	assert.Zero(t, in.Failed)
	assert.True(t, last.Done)
	assert.EqualValues(t, 2500, last.Processed)
	assert.Equal(t, bulk.StateJobComplete, in.Infos[0].State)

	ok := collect(t, bulk.Successful[account](ctx, in.Jobs...))
	require.Len(t, ok, 2500)
	for _, r := range ok[:3] {
		assert.True(t, strings.HasPrefix(r.ID, "001"), r.ID)
		assert.True(t, r.Created)
		assert.True(t, strings.HasPrefix(r.Record.Name, "Bulk "))
	}
	assert.Empty(t, collect(t, bulk.Failed[account](ctx, in.Jobs...)))
	assert.Empty(t, collect(t, bulk.Unprocessed[account](ctx, in.Jobs...)))

	// Query: three sets of at most 1000 records ("Get Results for a Query Job": maxRecords).
	job, info, err := b.Query(ctx, bulk.QuerySpec{Query: "SELECT Id, Name, NumberOfEmployees FROM Account WHERE Name LIKE 'Bulk %' ORDER BY Name"}, nil)
	require.NoError(t, err)
	assert.Equal(t, bulk.StateJobComplete, info.State)
	assert.EqualValues(t, 2500, info.NumberRecordsProcessed)
	var pages []int64
	n, err := job.WriteCSV(ctx, io.Discard, 1000, func(records int64) { pages = append(pages, records) })
	require.NoError(t, err)
	assert.EqualValues(t, 2500, n)
	assert.Equal(t, []int64{1000, 2000, 2500}, pages)
	got := collect(t, bulk.Records[account](ctx, job, 1000))
	require.Len(t, got, 2500)
	assert.Equal(t, "Bulk 00000", got[0].Name)
	assert.Equal(t, "Bulk 02499", got[2499].Name)
	require.NotNil(t, got[7].NumberOfEmployees)
	assert.Equal(t, 7, *got[7].NumberOfEmployees)

	// Raw CSV across pages: one header row.
	var out bytes.Buffer
	n, err = job.WriteCSV(ctx, &out, 1000, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 2500, n)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Len(t, lines, 2501)
	assert.Equal(t, `"Id","Name","NumberOfEmployees"`, lines[0])
	assert.Equal(t, 1, strings.Count(out.String(), `"Id","Name"`))

	require.NoError(t, job.Delete(ctx))
	for _, j := range in.Jobs {
		require.NoError(t, j.Delete(ctx))
	}
}

// "Upload Job Data": a request carries at most 100 MB of CSV; Ingest cuts
// larger data into several jobs at record boundaries, the header repeated.
// A quoted line break inside a value is not a record boundary.
func TestIngestSplitsIntoJobsAtRecordBoundaries(t *testing.T) {
	ctx := t.Context()
	org, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{MaxUploadBytes: 200})
	var csv strings.Builder
	csv.WriteString("Name,Description\n")
	for i := range 20 {
		fmt.Fprintf(&csv, "Split %02d,\"line one\nline \"\"two\"\"\"\n", i)
	}
	in, err := b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}, strings.NewReader(csv.String()), nil)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(in.Jobs), 4)
	assert.EqualValues(t, 20, in.Processed)
	assert.EqualValues(t, 20, in.Records)
	assert.Equal(t, len(in.Jobs), org.Data().BulkJobCount())

	type row struct{ Name, Description string }
	got := collect(t, bulk.Successful[row](ctx, in.Jobs...))
	require.Len(t, got, 20)
	for i, r := range got {
		assert.Equal(t, fmt.Sprintf("Split %02d", i), r.Record.Name)
		assert.Equal(t, "line one\nline \"two\"", r.Record.Description)
	}

	// A record that cannot fit one upload on its own is refused, not cut.
	big := "Name\n" + strings.Repeat("x", 400) + "\n"
	_, err = b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}, strings.NewReader(big), nil)
	require.ErrorIs(t, err, bulk.ErrUploadTooLarge)
}

// "Get Job Failed Record Results": sf__Error carries the error code and
// message, the row its uploaded values; the job still ends JobComplete.
func TestIngestFailedRows(t *testing.T) {
	ctx := t.Context()
	_, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	csv := "Name,Industry,NumberOfEmployees\nGood,Energy,5\n#N/A,Energy,5\n" + strings.Repeat("n", 256) + ",Banking,1\nBad number,Energy,many\n"
	in, err := b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}, strings.NewReader(csv), nil)
	require.NoError(t, err)
	assert.EqualValues(t, 4, in.Processed)
	assert.EqualValues(t, 3, in.Failed)

	type row struct{ Name, Industry, NumberOfEmployees string }
	failed := collect(t, bulk.Failed[row](ctx, in.Jobs...))
	require.Len(t, failed, 3)
	codes := map[string]string{}
	for _, f := range failed {
		code, _, _ := strings.Cut(f.Error, ":")
		codes[f.Record.Industry+"/"+f.Record.NumberOfEmployees] = code
	}
	assert.Equal(t, map[string]string{
		"Energy/5":    "REQUIRED_FIELD_MISSING",
		"Banking/1":   "STRING_TOO_LONG",
		"Energy/many": "JSON_PARSER_ERROR",
	}, codes)
	ok := collect(t, bulk.Successful[row](ctx, in.Jobs...))
	require.Len(t, ok, 1)
	assert.Equal(t, "Good", ok[0].Record.Name)
}

// A header naming a field the object lacks fails the whole job, with
// Salesforce's errorMessage (seen in amp-labs/connectors#118) in a *JobError.
func TestIngestUnknownColumnFailsTheJob(t *testing.T) {
	ctx := t.Context()
	_, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	in, err := b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}, strings.NewReader("Name,Nope__c\nA,1\n"), nil)
	require.ErrorIs(t, err, bulk.ErrJobFailed)
	var je *bulk.JobError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "InvalidBatch : Field name not found : Nope__c", je.Job.ErrorMessage)
	assert.Contains(t, err.Error(), "Field name not found : Nope__c")
	type row struct{ Name string }
	assert.Equal(t, []row{{"A"}}, collect(t, bulk.Unprocessed[row](ctx, in.Jobs...)), "a failed job's rows are unprocessed")
}

// Upsert by external id ("Create a Job": externalIdFieldName), update and
// delete by Id, hardDelete (skips the recycle bin: queryAll no longer sees it).
func TestUpsertUpdateDeleteHardDelete(t *testing.T) {
	ctx := t.Context()
	_, _, b := newBulk(t, extID, bulk.Options{})
	upsert := bulk.IngestSpec{Object: "Account", Operation: bulk.Upsert, ExternalIDField: "Ext_Id__c"}
	in, err := bulk.IngestRecords(ctx, b, upsert, accounts(3), nil)
	require.NoError(t, err)
	first := collect(t, bulk.Successful[account](ctx, in.Jobs...))
	require.Len(t, first, 3)
	for _, r := range first {
		assert.True(t, r.Created)
	}
	in, err = b.Ingest(ctx, upsert, strings.NewReader("Ext_Id__c,Name\nEXT-00001,Renamed\nEXT-00009,New one\n"), nil)
	require.NoError(t, err)
	second := collect(t, bulk.Successful[account](ctx, in.Jobs...))
	require.Len(t, second, 2)
	created := map[string]bool{}
	for _, r := range second {
		created[r.Record.ExtID] = r.Created
	}
	assert.Equal(t, map[string]bool{"EXT-00001": false, "EXT-00009": true}, created)

	ids := map[string]string{}
	for _, r := range first {
		ids[r.Record.ExtID] = r.ID
	}
	update := fmt.Sprintf("Id,Industry,NumberOfEmployees\n%s,Banking,#N/A\n", ids["EXT-00000"])
	_, err = b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Update}, strings.NewReader(update), nil)
	require.NoError(t, err)
	_, err = b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Delete}, strings.NewReader("Id\n"+ids["EXT-00001"]+"\n"), nil)
	require.NoError(t, err)
	_, err = b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.HardDelete}, strings.NewReader("Id\n"+ids["EXT-00002"]+"\n"), nil)
	require.NoError(t, err)

	job, _, err := b.Query(ctx, bulk.QuerySpec{Query: "SELECT Id, Name, Industry, NumberOfEmployees, Ext_Id__c FROM Account WHERE Ext_Id__c != null ORDER BY Ext_Id__c"}, nil)
	require.NoError(t, err)
	live := collect(t, bulk.Records[account](ctx, job, 0))
	require.Len(t, live, 2)
	assert.Equal(t, "Banking", live[0].Industry)
	assert.Nil(t, live[0].NumberOfEmployees, "#N/A set the field to null")
	assert.Equal(t, "New one", live[1].Name)

	// queryAll sees the soft-deleted record but not the hard-deleted one.
	job, _, err = b.Query(ctx, bulk.QuerySpec{All: true, Query: "SELECT Id, Name, Ext_Id__c FROM Account WHERE Ext_Id__c != null ORDER BY Ext_Id__c"}, nil)
	require.NoError(t, err)
	all := collect(t, bulk.Records[account](ctx, job, 0))
	var exts []string
	for _, a := range all {
		exts = append(exts, a.ExtID)
	}
	assert.Equal(t, []string{"EXT-00000", "EXT-00001", "EXT-00009"}, exts)

	// Update without an Id column fails each row (the docs: "Id not specified").
	in, err = b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Update}, strings.NewReader("Name\nX\n"), nil)
	require.NoError(t, err)
	assert.EqualValues(t, 1, in.Failed)
}

// "Abort a Job", "Get Job Unprocessed Record Results", "Delete a Job" (204,
// not allowed while Open), and one upload per job.
func TestAbortUnprocessedDelete(t *testing.T) {
	ctx := t.Context()
	org, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	job, info, err := b.CreateIngestJob(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert})
	require.NoError(t, err)
	assert.Equal(t, bulk.StateOpen, info.State)
	assert.Equal(t, "V2Ingest", info.JobType)
	n, err := job.Upload(ctx, strings.NewReader("Name\nA\nB\n"))
	require.NoError(t, err)
	assert.EqualValues(t, 9, n)

	_, err = job.Upload(ctx, strings.NewReader("Name\nC\n"))
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.HasCode("INVALIDJOBSTATE"), err)

	err = job.Delete(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.HasCode("INVALIDJOBSTATE"), "an Open job cannot be deleted")

	info, err = job.Abort(ctx)
	require.NoError(t, err)
	assert.Equal(t, bulk.StateAborted, info.State)
	_, err = job.Wait(ctx, nil)
	require.ErrorIs(t, err, bulk.ErrJobAborted)
	_, err = job.Abort(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.HasCode("INVALIDJOBSTATE"))

	type row struct{ Name string }
	un := collect(t, bulk.Unprocessed[row](ctx, job))
	assert.Equal(t, []row{{"A"}, {"B"}}, un)

	before := org.Data().BulkJobCount()
	require.NoError(t, job.Delete(ctx))
	assert.Equal(t, before-1, org.Data().BulkJobCount())
	_, err = job.Info(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode)
}

// An upload the session rejects is not sent again: the transport cannot
// replay a streaming body, the job holds nothing, and the caller decides.
func TestExpiredSessionUploadIsNotResent(t *testing.T) {
	ctx := t.Context()
	org, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	job, _, err := b.CreateIngestJob(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert})
	require.NoError(t, err)
	org.Faults().ExpireAllSessions()
	_, err = job.Upload(ctx, strings.NewReader("Name\nOnce\n"))
	var expired *transport.SessionExpiredError
	require.ErrorAs(t, err, &expired)
	// Nothing arrived: the same job still takes its one upload.
	_, err = job.Upload(ctx, strings.NewReader("Name\nOnce\n"))
	require.NoError(t, err)
	_, err = job.Close(ctx)
	require.NoError(t, err)
	info, err := job.Wait(ctx, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 1, info.NumberRecordsProcessed)
}

// Uploads work compressed (the default) and uncompressed; the fake decodes
// Content-Encoding gzip (REST API Developer Guide, "Compression Headers").
func TestUploadWithAndWithoutCompression(t *testing.T) {
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableCompression=%t", disable), func(t *testing.T) {
			ctx := t.Context()
			_, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{DisableCompression: disable})
			in, err := b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert, Format: bulk.Format{Comma: ';', UseCRLF: true}},
				strings.NewReader("Name;Description\r\nA;\"x;y\"\r\nB;z\r\n"), nil)
			require.NoError(t, err)
			assert.EqualValues(t, 2, in.Processed)
			type row struct{ Name, Description string }
			got := collect(t, bulk.Successful[row](ctx, in.Jobs...))
			require.Len(t, got, 2)
			assert.Equal(t, "x;y", got[0].Record.Description)
		})
	}
}

// Every Bulk call counts against the daily API allocation like a REST call.
func TestBulkCallsCountAgainstTheAllocation(t *testing.T) {
	ctx := t.Context()
	org, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	job, _, err := b.CreateIngestJob(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert})
	require.NoError(t, err)
	used := org.Stats().APIUsage
	_, err = job.Upload(ctx, strings.NewReader("Name\nA\n"))
	require.NoError(t, err)
	_, err = job.Close(ctx)
	require.NoError(t, err)
	_, err = job.Info(ctx)
	require.NoError(t, err)
	after := org.Stats().APIUsage
	assert.EqualValues(t, used+3, after)

	org.Faults().SetAPIUsage(1 << 40)
	_, _, err = b.CreateIngestJob(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert})
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.HasCode("REQUEST_LIMIT_EXCEEDED"))
}

// Bad specs fail before any call, with what to fix.
func TestSpecErrors(t *testing.T) {
	ctx := t.Context()
	org, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	used := org.Stats().APIUsage
	for _, spec := range []bulk.IngestSpec{
		{Operation: bulk.Insert},
		{Object: "Account", Operation: "merge"},
		{Object: "Account", Operation: bulk.Upsert},
		{Object: "Account", Operation: bulk.Insert, ExternalIDField: "X"},
		{Object: "Account", Operation: bulk.Insert, Format: bulk.Format{Comma: ':'}},
	} {
		_, err := b.Ingest(ctx, spec, strings.NewReader("Name\nA\n"), nil)
		require.ErrorIs(t, err, bulk.ErrFormat, "%+v", spec)
	}
	_, err := b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}, strings.NewReader("Name\n"), nil)
	require.ErrorIs(t, err, bulk.ErrHeader)
	_, err = b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}, strings.NewReader(""), nil)
	require.ErrorIs(t, err, bulk.ErrHeader)
	after := org.Stats().APIUsage
	assert.Equal(t, used, after)

	// The org refuses an unknown object at create (INVALIDJOB).
	_, _, err = b.CreateIngestJob(ctx, bulk.IngestSpec{Object: "Nope__c", Operation: bulk.Insert})
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.HasCode("INVALIDJOB"), err)
	// ... and a malformed query (the REST query error codes).
	_, _, err = b.CreateQueryJob(ctx, bulk.QuerySpec{Query: "SELECT FROM"})
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.HasCode("MALFORMED_QUERY"), err)
}

// Bulk query refuses aggregates ("Create a Query Job"): the job fails with
// an errorMessage.
func TestQueryAggregateFailsTheJob(t *testing.T) {
	ctx := t.Context()
	_, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	_, _, err := b.Query(ctx, bulk.QuerySpec{Query: "SELECT COUNT() FROM Account"}, nil)
	require.ErrorIs(t, err, bulk.ErrJobFailed)
}

// An encoding error stops the upload; the job is aborted, not closed.
func TestIngestRecordsEncodeErrorAbortsTheJob(t *testing.T) {
	ctx := t.Context()
	_, _, b := newBulk(t, salesforcetest.Config{}, bulk.Options{})
	bad := func(yield func(account) bool) {
		for i := range 20000 { // more than the encoder buffers: the upload has begun
			if !yield(account{Name: fmt.Sprint("ok ", i)}) {
				return
			}
		}
		yield(account{Name: "#N/A"})
	}
	in, err := bulk.IngestRecords(ctx, b, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}, bad, nil)
	require.ErrorIs(t, err, bulk.ErrValue)
	require.Len(t, in.Jobs, 1)
	info, err := in.Jobs[0].Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, bulk.StateAborted, info.State)
}
