package salesforcetest_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Bulk API 2.0 on the wire, as the "Bulk API 2.0 and Bulk API Developer
// Guide" documents it. The bulk package's tests cover the same routes
// through the SDK; these check the raw answers.

type bulkWire struct {
	t   *testing.T
	org *salesforcetest.Org
	c   *client.Client
	ctx context.Context
}

func (b bulkWire) call(method, path string, body io.Reader, h http.Header) (*http.Response, []byte, error) {
	b.t.Helper()
	resp, err := b.c.Raw(b.ctx, method, path, body, h)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp, raw, nil
}

func (b bulkWire) json(method, path string, in, out any) error {
	b.t.Helper()
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	_, raw, err := b.call(method, path, body, http.Header{"Content-Type": {"application/json"}})
	if err == nil && out != nil {
		require.NoError(b.t, json.Unmarshal(raw, out))
	}
	return err
}

type wireJob struct {
	ID, State, JobType, ContentURL, ErrorMessage string
	Object, Operation                            string
	NumberRecordsProcessed, NumberRecordsFailed  int64
	APIVersion                                   float64
}

// waitJob waits until the org has finished processing the job, then reads
// its state over the wire, which must be JobComplete, Failed or Aborted.
func (b bulkWire) waitJob(kind, id string) wireJob {
	b.t.Helper()
	var j wireJob
	require.NoError(b.t, b.json(http.MethodGet, "jobs/"+kind+"/"+id, nil, &j))
	if !terminalJob(j.State) {
		done := b.org.JobProcessed(id)
		require.NotNil(b.t, done, "no job %s", id)
		select {
		case <-done:
		case <-b.ctx.Done():
			b.t.Fatalf("job %s in %s: %v", id, j.State, b.ctx.Err())
		case <-time.After(10 * time.Second):
			b.t.Fatalf("job %s stuck in %s", id, j.State)
		}
		require.NoError(b.t, b.json(http.MethodGet, "jobs/"+kind+"/"+id, nil, &j))
	}
	require.True(b.t, terminalJob(j.State), "job %s is %s once processed", id, j.State)
	return j
}

func terminalJob(state string) bool {
	return state == "JobComplete" || state == "Failed" || state == "Aborted"
}

func newWire(t *testing.T, cfg salesforcetest.Config) (*salesforcetest.Org, bulkWire) {
	org := salesforcetest.NewOrg(t, cfg)
	return org, bulkWire{t: t, org: org, c: org.Client(t), ctx: t.Context()}
}

func apiCode(t *testing.T, err error) (int, string) {
	t.Helper()
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.NotEmpty(t, apiErr.Errors, err)
	return apiErr.StatusCode, apiErr.Errors[0].ErrorCode
}

// "Create a Job" answers the job Open with its contentUrl; "Upload Job Data"
// answers 201 with no body and takes gzip or deflate bodies ("Compression
// Headers"); results are CSV with every value quoted, as the guide's
// examples show, sf__Id and sf__Created first.
func TestBulkIngestWire(t *testing.T) {
	for _, enc := range []string{"", "gzip", "deflate"} {
		t.Run("encoding="+enc, func(t *testing.T) {
			_, b := newWire(t, salesforcetest.Config{})
			var job wireJob
			require.NoError(t, b.json(http.MethodPost, "jobs/ingest", map[string]string{"object": "account", "operation": "insert"}, &job))
			assert.Equal(t, "Open", job.State)
			assert.Equal(t, "V2Ingest", job.JobType)
			assert.Equal(t, "Account", job.Object)
			assert.Equal(t, "services/data/v"+salesforcetest.APIVersion+"/jobs/ingest/"+job.ID+"/batches", job.ContentURL)
			assert.True(t, strings.HasPrefix(job.ID, "750"))

			csv := "Name,Description\nAcme,\"says \"\"hi\"\"\"\n"
			var body bytes.Buffer
			switch enc {
			case "gzip":
				zw := gzip.NewWriter(&body)
				_, _ = zw.Write([]byte(csv))
				require.NoError(t, zw.Close())
			case "deflate":
				zw := zlib.NewWriter(&body)
				_, _ = zw.Write([]byte(csv))
				require.NoError(t, zw.Close())
			default:
				body.WriteString(csv)
			}
			h := http.Header{"Content-Type": {"text/csv"}}
			if enc != "" {
				h.Set("Content-Encoding", enc)
			}
			resp, raw, err := b.call(http.MethodPut, "/"+job.ContentURL, &body, h)
			require.NoError(t, err)
			assert.Equal(t, http.StatusCreated, resp.StatusCode)
			assert.Empty(t, raw)

			require.NoError(t, b.json(http.MethodPatch, "jobs/ingest/"+job.ID, map[string]string{"state": "UploadComplete"}, &job))
			assert.Equal(t, "UploadComplete", job.State)
			job = b.waitJob("ingest", job.ID)
			assert.Equal(t, "JobComplete", job.State)
			assert.EqualValues(t, 1, job.NumberRecordsProcessed)

			resp, raw, err = b.call(http.MethodGet, "jobs/ingest/"+job.ID+"/successfulResults/", nil, nil)
			require.NoError(t, err)
			assert.Equal(t, "text/csv", resp.Header.Get("Content-Type"))
			lines := strings.SplitN(string(raw), "\n", 2)
			assert.Equal(t, `"sf__Id","sf__Created","Name","Description"`, lines[0])
			assert.Regexp(t, `^"001\w{15}","true","Acme","says ""hi"""\n$`, lines[1])
			_, raw, err = b.call(http.MethodGet, "jobs/ingest/"+job.ID+"/failedResults/", nil, nil)
			require.NoError(t, err)
			assert.Equal(t, `"sf__Id","sf__Error","Name","Description"`+"\n", string(raw))
		})
	}
}

// Responses are gzip-compressed for a client that sends Accept-Encoding:
// gzip ("Use Compression for Bulk API 2.0 Ingest Responses").
func TestBulkResultsCompressed(t *testing.T) {
	_, b := newWire(t, salesforcetest.Config{})
	var job wireJob
	require.NoError(t, b.json(http.MethodPost, "jobs/ingest", map[string]string{"object": "Account", "operation": "insert"}, &job))
	_, _, err := b.call(http.MethodPut, "jobs/ingest/"+job.ID+"/batches", strings.NewReader("Name\nZ\n"), http.Header{"Content-Type": {"text/csv"}})
	require.NoError(t, err)
	require.NoError(t, b.json(http.MethodPatch, "jobs/ingest/"+job.ID, map[string]string{"state": "UploadComplete"}, nil))
	b.waitJob("ingest", job.ID)
	// Setting Accept-Encoding ourselves turns off Go's transparent decompression.
	resp, raw, err := b.call(http.MethodGet, "jobs/ingest/"+job.ID+"/successfulResults/", nil, http.Header{"Accept-Encoding": {"gzip"}})
	require.NoError(t, err)
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(plain), `"sf__Id","sf__Created","Name"`))
}

// States gate every step ("Job States", "Delete a Job"): data only while
// Open, one upload per job (the docs are silent on a second PUT; see
// handleUpload), abort not after completion (INVALIDJOBSTATE, as in
// restforce/restforce#905), results only once processed.
func TestBulkJobStateRules(t *testing.T) {
	_, b := newWire(t, salesforcetest.Config{})
	var job wireJob
	require.NoError(t, b.json(http.MethodPost, "jobs/ingest", map[string]string{"object": "Account", "operation": "insert"}, &job))
	put := func() error {
		_, _, err := b.call(http.MethodPut, "jobs/ingest/"+job.ID+"/batches", strings.NewReader("Name\nQ\n"), http.Header{"Content-Type": {"text/csv"}})
		return err
	}
	_, _, err := b.call(http.MethodPut, "jobs/ingest/"+job.ID+"/batches", strings.NewReader("Name\nQ\n"), http.Header{"Content-Type": {"application/json"}})
	status, code := apiCode(t, err)
	assert.Equal(t, http.StatusUnsupportedMediaType, status)
	assert.Equal(t, "INVALIDCONTENTTYPE", code)

	_, _, err = b.call(http.MethodGet, "jobs/ingest/"+job.ID+"/successfulResults/", nil, nil)
	_, code = apiCode(t, err)
	assert.Equal(t, "INVALIDJOBSTATE", code, "no results while Open")

	require.NoError(t, put())
	_, code = apiCode(t, put())
	assert.Equal(t, "INVALIDJOBSTATE", code, "a second upload")
	err = b.json(http.MethodPatch, "jobs/ingest/"+job.ID, map[string]string{"state": "JobComplete"}, nil)
	_, code = apiCode(t, err)
	assert.Equal(t, "INVALIDJOBSTATE", code, "clients may only close or abort")
	require.NoError(t, b.json(http.MethodPatch, "jobs/ingest/"+job.ID, map[string]string{"state": "UploadComplete"}, nil))
	b.waitJob("ingest", job.ID)
	_, code = apiCode(t, put())
	assert.Equal(t, "INVALIDJOBSTATE", code, "no data after UploadComplete")
	err = b.json(http.MethodPatch, "jobs/ingest/"+job.ID, map[string]string{"state": "Aborted"}, nil)
	_, code = apiCode(t, err)
	assert.Equal(t, "INVALIDJOBSTATE", code)

	var list struct {
		Done    bool
		Records []wireJob
	}
	require.NoError(t, b.json(http.MethodGet, "jobs/ingest", nil, &list))
	assert.True(t, list.Done)
	require.Len(t, list.Records, 1)
	assert.Equal(t, job.ID, list.Records[0].ID)

	resp, _, err := b.call(http.MethodDelete, "jobs/ingest/"+job.ID, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	err = b.json(http.MethodGet, "jobs/ingest/"+job.ID, nil, nil)
	status, _ = apiCode(t, err)
	assert.Equal(t, http.StatusNotFound, status)
}

// Ingest exists from API 41.0 and query jobs from 47.0 ("Create a Job",
// "Create a Query Job"): older versions have no such resource.
func TestBulkVersions(t *testing.T) {
	_, b := newWire(t, salesforcetest.Config{})
	err := b.json(http.MethodPost, "/services/data/v40.0/jobs/ingest", map[string]string{"object": "Account", "operation": "insert"}, nil)
	status, _ := apiCode(t, err)
	assert.Equal(t, http.StatusNotFound, status)
	err = b.json(http.MethodPost, "/services/data/v46.0/jobs/query", map[string]string{"operation": "query", "query": "SELECT Id FROM Account"}, nil)
	status, _ = apiCode(t, err)
	assert.Equal(t, http.StatusNotFound, status)
	require.NoError(t, b.json(http.MethodPost, "/services/data/v41.0/jobs/ingest", map[string]string{"object": "Account", "operation": "insert"}, nil))
}

// "Get Results for a Query Job": Sforce-Locator leads to the next set and is
// "null" after the last; Sforce-NumberOfRecords counts the set; maxRecords
// caps it; another API version than the job's is 409.
func TestBulkQueryPaging(t *testing.T) {
	org, b := newWire(t, salesforcetest.Config{})
	for i := range 5 {
		_, err := org.Data().Create("Account", map[string]any{"Name": fmt.Sprintf("Q%d", i), "NumberOfEmployees": i})
		require.NoError(t, err)
	}
	var job wireJob
	require.NoError(t, b.json(http.MethodPost, "jobs/query", map[string]string{
		"operation": "query", "query": "SELECT Name, NumberOfEmployees, Owner.Name FROM Account WHERE Name LIKE 'Q%' ORDER BY Name"}, &job))
	assert.Equal(t, "UploadComplete", job.State)
	assert.Equal(t, "query", job.Operation)
	job = b.waitJob("query", job.ID)
	assert.Equal(t, "JobComplete", job.State)
	assert.EqualValues(t, 5, job.NumberRecordsProcessed)

	var bodies []string
	locator := ""
	for range 5 {
		path := "jobs/query/" + job.ID + "/results?maxRecords=2"
		if locator != "" {
			path += "&locator=" + locator
		}
		resp, raw, err := b.call(http.MethodGet, path, nil, nil)
		require.NoError(t, err)
		bodies = append(bodies, resp.Header.Get("Sforce-NumberOfRecords")+"|"+string(raw))
		locator = resp.Header.Get("Sforce-Locator")
		if locator == "null" {
			break
		}
	}
	hdr := `"Name","NumberOfEmployees","Owner.Name"` + "\n"
	owner := `"integration.user"` // the org user's Name
	assert.Equal(t, []string{
		"2|" + hdr + `"Q0","0",` + owner + "\n" + `"Q1","1",` + owner + "\n",
		"2|" + hdr + `"Q2","2",` + owner + "\n" + `"Q3","3",` + owner + "\n",
		"1|" + hdr + `"Q4","4",` + owner + "\n",
	}, bodies)

	_, _, err := b.call(http.MethodGet, "jobs/query/"+job.ID+"/results?locator=bm9wZQ", nil, nil)
	_, code := apiCode(t, err)
	assert.Equal(t, "INVALID_QUERY_LOCATOR", code)
	_, _, err = b.call(http.MethodGet, "/services/data/v60.0/jobs/query/"+job.ID+"/results", nil, nil)
	status, _ := apiCode(t, err)
	assert.Equal(t, http.StatusConflict, status)
}

// An upload over the documented size (150 MB of base64, 112.5 MB of data)
// is refused; the docs give no error body, see handleUpload.
func TestBulkUploadTooLarge(t *testing.T) {
	_, b := newWire(t, salesforcetest.Config{})
	var job wireJob
	require.NoError(t, b.json(http.MethodPost, "jobs/ingest", map[string]string{"object": "Account", "operation": "insert"}, &job))
	// 113 gzip members of 1 MB each: a gzip reader reads them as one stream.
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	_, _ = zw.Write(bytes.Repeat([]byte(strings.Repeat("x", 99)+"\n"), 10_000))
	require.NoError(t, zw.Close())
	body := bytes.NewBufferString("")
	head := gzip.NewWriter(body)
	_, _ = head.Write([]byte("Name\n"))
	require.NoError(t, head.Close())
	for range 113 {
		body.Write(member.Bytes())
	}
	_, _, err := b.call(http.MethodPut, "jobs/ingest/"+job.ID+"/batches", body, http.Header{"Content-Type": {"text/csv"}, "Content-Encoding": {"gzip"}})
	status, code := apiCode(t, err)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.Equal(t, "EXCEEDED_MAX_SIZE_REQUEST", code)
}

// Results of a query job that did not complete: 412 JOB_NOT_COMPLETE with
// the body of "Get Results for a Query Job" (ja-jp 222.0 edition; newer
// editions say 204 — the fake follows the one that documents a body). An
// aggregate query fails the job ("Create a Query Job" lists COUNT() as not
// supported; the errorMessage wording is the fake's).
func TestBulkQueryResultsNotComplete(t *testing.T) {
	_, b := newWire(t, salesforcetest.Config{})
	var job wireJob
	require.NoError(t, b.json(http.MethodPost, "jobs/query", map[string]string{"operation": "query", "query": "SELECT COUNT() FROM Account"}, &job))
	job = b.waitJob("query", job.ID)
	assert.Equal(t, "Failed", job.State)
	assert.Contains(t, job.ErrorMessage, "COUNT()")
	_, _, err := b.call(http.MethodGet, "jobs/query/"+job.ID+"/results", nil, nil)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusPreconditionFailed, apiErr.StatusCode)
	require.Len(t, apiErr.Errors, 1)
	assert.Equal(t, client.RESTError{ErrorCode: "JOB_NOT_COMPLETE",
		Message: "can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: FAILED"}, apiErr.Errors[0])

	require.NoError(t, b.json(http.MethodPost, "jobs/query", map[string]string{"operation": "queryAll", "query": "SELECT Id FROM Account"}, &job))
	b.waitJob("query", job.ID)
	_, _, err = b.call(http.MethodGet, "jobs/query/"+job.ID+"/results?maxRecords=0", nil, nil)
	status, _ := apiCode(t, err)
	assert.Equal(t, http.StatusBadRequest, status)
	err = b.json(http.MethodPost, "jobs/query", map[string]string{"operation": "select", "query": "SELECT Id FROM Account"}, nil)
	_, code := apiCode(t, err)
	assert.Equal(t, "INVALIDJOB", code)
}

// A Bulk API 2.0 insert refuses a row whose unique external id another
// record holds, already stored or stored by an earlier row of the same job,
// with DUPLICATE_VALUE in the failed results ("Get Job Failed Record
// Results"); the other rows are stored. Ten thousand rows keep the index's
// work visible: a scan per row made such a job quadratic.
func TestBulkInsertRefusesDuplicateUniqueValues(t *testing.T) {
	org, b := newWire(t, salesforcetest.Config{Objects: []salesforcetest.SObject{{Name: "Account", Fields: []salesforcetest.Field{
		{Name: "External_Id__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true}}}}})
	existing := org.Data().Insert(t, "Account", map[string]any{"Name": "Stored", "External_Id__c": "STORED-1"})[0]
	var csv strings.Builder
	csv.WriteString("Name,External_Id__c\n")
	for i := range 10_000 {
		fmt.Fprintf(&csv, "Row %05d,R-%05d\n", i, i)
	}
	csv.WriteString("Copy of stored,stored-1\nCopy of row,r-00042\n")
	run := func(body string) wireJob {
		var job wireJob
		require.NoError(t, b.json(http.MethodPost, "jobs/ingest", map[string]string{"object": "Account", "operation": "insert"}, &job))
		_, _, err := b.call(http.MethodPut, "jobs/ingest/"+job.ID+"/batches", strings.NewReader(body), http.Header{"Content-Type": {"text/csv"}})
		require.NoError(t, err)
		require.NoError(t, b.json(http.MethodPatch, "jobs/ingest/"+job.ID, map[string]string{"state": "UploadComplete"}, nil))
		return b.waitJob("ingest", job.ID)
	}
	job := run(csv.String())
	require.Equal(t, "JobComplete", job.State)
	assert.EqualValues(t, 10_002, job.NumberRecordsProcessed)
	assert.EqualValues(t, 2, job.NumberRecordsFailed)
	_, raw, err := b.call(http.MethodGet, "jobs/ingest/"+job.ID+"/failedResults/", nil, nil)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	require.Len(t, lines, 3, string(raw))
	assert.Regexp(t, `^"","DUPLICATE_VALUE:duplicate value found: External_Id__c duplicates value on record with id: `+existing+`","Copy of stored","stored-1"$`, lines[1])
	assert.Regexp(t, `^"","DUPLICATE_VALUE:[^"]*","Copy of row","r-00042"$`, lines[2])
	var res struct{ TotalSize int }
	require.NoError(t, b.c.Do(b.ctx, http.MethodGet, "/services/data/v"+salesforcetest.APIVersion+"/query?q=SELECT+COUNT()+FROM+Account", nil, &res))
	assert.Equal(t, 10_001, res.TotalSize)
}

// "Bulk API 2.0 and Bulk API Developer Guide", Create a Job: hardDelete
// deletes records without the Recycle Bin, so queryAll ("REST API Developer
// Guide", QueryAll) no longer returns them, while a plain delete leaves the
// record in the bin with IsDeleted true. A job of 2,000 rows checks that
// hard-deleting stays linear (each row used to copy the object's id list).
func TestBulkHardDeleteSkipsTheRecycleBin(t *testing.T) {
	org, b := newWire(t, salesforcetest.Config{})
	recs := make([]map[string]any, 2003)
	for i := range recs {
		recs[i] = map[string]any{"Name": fmt.Sprintf("A%04d", i)}
	}
	ids := org.Data().Insert(t, "Account", recs...)
	run := func(op string, rows []string) {
		t.Helper()
		var job wireJob
		require.NoError(t, b.json(http.MethodPost, "jobs/ingest", map[string]string{"object": "Account", "operation": op}, &job))
		resp, _, err := b.call(http.MethodPut, "/"+job.ContentURL, strings.NewReader("Id\n"+strings.Join(rows, "\n")+"\n"),
			http.Header{"Content-Type": {"text/csv"}})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		require.NoError(t, b.json(http.MethodPatch, "jobs/ingest/"+job.ID, map[string]string{"state": "UploadComplete"}, &job))
		job = b.waitJob("ingest", job.ID)
		require.Equal(t, "JobComplete", job.State)
		require.EqualValues(t, len(rows), job.NumberRecordsProcessed)
		require.EqualValues(t, 0, job.NumberRecordsFailed)
	}
	run("delete", ids[:1])
	run("hardDelete", ids[1:2001])

	var all struct {
		TotalSize int
		Records   []struct {
			ID        string `json:"Id"`
			IsDeleted bool
		}
	}
	require.NoError(t, b.json(http.MethodGet, "queryAll/?q="+strings.ReplaceAll("SELECT Id, IsDeleted FROM Account ORDER BY Name", " ", "+"), nil, &all))
	require.Equal(t, 3, all.TotalSize, "the soft-deleted record and the two left; none of the hard-deleted")
	assert.Equal(t, ids[0], all.Records[0].ID)
	assert.True(t, all.Records[0].IsDeleted)
	assert.Equal(t, ids[2001], all.Records[1].ID)
	assert.False(t, all.Records[1].IsDeleted)
	_, ok := org.Data().Record("Account", ids[1])
	assert.False(t, ok, "gone for good")
}
