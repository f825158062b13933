package salesforcetest

// Bulk API 2.0, as the "Bulk API 2.0 and Bulk API Developer Guide" documents
// it: ingest jobs (Create a Job, Upload Job Data, Upload Complete, Abort,
// Delete, Get Job Info, Get All Jobs, successful/failed/unprocessed results)
// and query jobs (Create a Query Job, Get Results with Sforce-Locator and
// maxRecords). Every call goes through handleData, so it is authenticated and
// counted against the API allocation like any REST call.
//
// Job data is kept on disk, not in memory: an upload streams to a temporary
// file and is processed row by row in a goroutine, writing the result CSVs to
// files; a query's result is written to a file with the offset of each row,
// and pages are served from it. Rows of normal-sized jobs are written into
// the store (each row its own transaction, validated like a REST write) so
// queries see them; an insert job with more rows than
// Config.BulkStoreMaxRecords ends Failed before any row is applied, its
// errorMessage naming the cap, so no row the fake did not keep is reported
// as a success. With Config.BulkValidateOverCap such a job is instead
// validated row by row (a unique value a stored record holds is a
// DUPLICATE_VALUE) and counted, its valid rows reported successful, but not
// stored: for benchmarks of throughput. The cap is for memory, not time: a
// write costs the same however many records the store holds (unique fields
// are indexed), but every stored record stays on the heap (bench/README.md,
// "The fake org's Bulk store", has the figures).

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// Bulk API 2.0 limits the fake applies.
const (
	// maxBulkUpload: "Upload Job Data" allows 150 MB of base64-encoded
	// content per request; that is 112.5 MB of data. The fake counts the
	// decompressed bytes (the docs do not say which size counts for a gzip body).
	maxBulkUpload = 150_000_000 / 4 * 3
	// defaultBulkStoreMaxRecords is Config.BulkStoreMaxRecords' default,
	// which bounds the heap a job's stored records take.
	defaultBulkStoreMaxRecords = 50_000
	// defaultMaxRecords is the set size of query results when the client
	// sends no maxRecords ("the server picks a default"; the docs give no number).
	defaultMaxRecords = 50_000
	// Ingest is available from API 41.0 and query jobs from 47.0 ("Create a
	// Job", "Create a Query Job").
	ingestSince = 41
	querySince  = 47
)

// bulkJobs holds the org's Bulk API 2.0 jobs.
type bulkJobs struct {
	mu       sync.Mutex
	jobs     map[string]*bulkJob
	order    []string
	seq      int64
	dir      string // temporary directory of job files, made on first use
	storeMax int64
	// validateOverCap: insert jobs over storeMax are validated and reported,
	// not stored, instead of failing.
	validateOverCap bool
	wg              sync.WaitGroup
}

func newBulkJobs(storeMax int, validateOverCap bool) *bulkJobs {
	if storeMax <= 0 {
		storeMax = defaultBulkStoreMaxRecords
	}
	return &bulkJobs{jobs: map[string]*bulkJob{}, storeMax: int64(storeMax), validateOverCap: validateOverCap}
}

// close stops processing and removes the job files.
func (b *bulkJobs) close() {
	b.mu.Lock()
	for _, j := range b.jobs {
		j.abort.Store(true)
	}
	b.mu.Unlock()
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// file returns a new empty file in the jobs' directory.
func (b *bulkJobs) file(pattern string) (*os.File, error) {
	b.mu.Lock()
	if b.dir == "" {
		d, err := os.MkdirTemp("", "sfmtls-fake-bulk-")
		if err != nil {
			b.mu.Unlock()
			return nil, err
		}
		b.dir = d
	}
	dir := b.dir
	b.mu.Unlock()
	return os.CreateTemp(dir, pattern)
}

// bulkJob is one job. Fields below mu are guarded by bulkJobs.mu.
type bulkJob struct {
	query bool
	info  jobInfo
	delim rune
	eol   string
	v     string // the API version that created it

	upload     string // path of the uploaded CSV
	uploadRows int64  // line breaks in the upload: an upper bound of its rows
	success    string // result files
	failed     string
	handled    int64 // rows processed before the job stopped
	soqlQuery  *soqlengine.Query
	result     string  // query result CSV
	header     []byte  // its header row
	offsets    []int64 // start of each record in result, and the end
	abort      atomic.Bool
	done       chan struct{} // closed when processing ends
	started    bool
}

// jobInfo is the job JSON ("Get Information About an Ingest Job").
type jobInfo struct {
	ID                      string  `json:"id"`
	Operation               string  `json:"operation"`
	Object                  string  `json:"object"`
	CreatedByID             string  `json:"createdById"`
	CreatedDate             string  `json:"createdDate"`
	SystemModstamp          string  `json:"systemModstamp"`
	State                   string  `json:"state"`
	ExternalIDFieldName     string  `json:"externalIdFieldName,omitempty"`
	ConcurrencyMode         string  `json:"concurrencyMode"`
	ContentType             string  `json:"contentType"`
	APIVersion              float64 `json:"apiVersion"`
	JobType                 string  `json:"jobType"`
	ContentURL              string  `json:"contentUrl,omitempty"`
	LineEnding              string  `json:"lineEnding"`
	ColumnDelimiter         string  `json:"columnDelimiter"`
	Query                   string  `json:"query,omitempty"`
	NumberRecordsProcessed  int64   `json:"numberRecordsProcessed"`
	NumberRecordsFailed     int64   `json:"numberRecordsFailed"`
	Retries                 int64   `json:"retries"`
	TotalProcessingTime     int64   `json:"totalProcessingTime"`
	APIActiveProcessingTime int64   `json:"apiActiveProcessingTime"`
	ApexProcessingTime      int64   `json:"apexProcessingTime"`
	ErrorMessage            string  `json:"errorMessage,omitempty"`
}

// Job states ("Job States").
const (
	jobOpen           = "Open"
	jobUploadComplete = "UploadComplete"
	jobInProgress     = "InProgress"
	jobComplete       = "JobComplete"
	jobFailed         = "Failed"
	jobAborted        = "Aborted"
)

func terminal(state string) bool {
	return state == jobComplete || state == jobFailed || state == jobAborted
}

var delimiters = map[string]rune{"COMMA": ',', "BACKQUOTE": '`', "CARET": '^', "PIPE": '|', "SEMICOLON": ';', "TAB": '\t'}

// invalidJobState is the answer for a request the job's state does not
// allow. The code is the one Salesforce sends (restforce/restforce#905:
// "INVALIDJOBSTATE: Aborting already Completed Job not allowed"); the
// Bulk API 2.0 pages document neither the code nor the status, so the fake
// uses 400 as for any other refused request.
func invalidJobState(msg string) *APIError {
	return apiErr(http.StatusBadRequest, "INVALIDJOBSTATE", msg)
}

// invalidJob refuses a create request ("Errors": InvalidJob). The exact
// messages are the fake's: the docs give none.
func invalidJob(msg string) *APIError {
	return apiErr(http.StatusBadRequest, "INVALIDJOB", msg)
}

// routeBulk serves /services/data/vXX.X/jobs/...
func (o *Org) routeBulk(w http.ResponseWriter, r *http.Request, v string, segs []string) {
	n, _ := strconv.ParseFloat(v, 64)
	if len(segs) == 0 || (segs[0] != "ingest" && segs[0] != "query") ||
		(segs[0] == "ingest" && n < ingestSince) || (segs[0] == "query" && n < querySince) {
		writeAPIError(w, notFound())
		return
	}
	query := segs[0] == "query"
	if len(segs) == 1 {
		if !allow(w, r, http.MethodGet, http.MethodPost) {
			return
		}
		if r.Method == http.MethodGet {
			o.handleListJobs(w, query)
		} else if query {
			o.handleCreateQueryJob(w, r, v)
		} else {
			o.handleCreateIngestJob(w, r, v)
		}
		return
	}
	o.bulk.mu.Lock()
	j := o.bulk.jobs[segs[1]]
	o.bulk.mu.Unlock()
	if j == nil || j.query != query {
		writeAPIError(w, notFound())
		return
	}
	switch {
	case len(segs) == 2:
		if !allow(w, r, http.MethodGet, http.MethodPatch, http.MethodDelete) {
			return
		}
		switch r.Method {
		case http.MethodGet:
			o.bulk.mu.Lock()
			info := j.info
			o.bulk.mu.Unlock()
			writeJSON(w, http.StatusOK, info)
		case http.MethodPatch:
			o.handlePatchJob(w, r, j)
		default:
			o.handleDeleteJob(w, j)
		}
	case !query && len(segs) == 3 && segs[2] == "batches":
		if allow(w, r, http.MethodPut) {
			o.handleUpload(w, r, j)
		}
	case !query && len(segs) == 3 && slices.Contains([]string{"successfulResults", "failedResults", "unprocessedrecords"}, segs[2]):
		if allow(w, r, http.MethodGet) {
			o.handleIngestResults(w, r, j, segs[2])
		}
	case query && len(segs) == 3 && segs[2] == "results":
		if allow(w, r, http.MethodGet) {
			o.handleQueryResults(w, r, v, j)
		}
	default:
		writeAPIError(w, notFound())
	}
}

// handleListJobs: "Get All Jobs" — one page with every job of the kind.
func (o *Org) handleListJobs(w http.ResponseWriter, query bool) {
	o.bulk.mu.Lock()
	records := []jobInfo{}
	for _, id := range o.bulk.order {
		if j := o.bulk.jobs[id]; j != nil && j.query == query {
			records = append(records, j.info)
		}
	}
	o.bulk.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"done": true, "records": records, "nextRecordsUrl": nil})
}

// readJobRequest decodes a create or patch body.
func readJobRequest(r *http.Request, out any) *APIError {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "the request body could not be read")
	}
	if err := json.Unmarshal(body, out); err != nil {
		return apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "the request body must be a JSON object: "+err.Error())
	}
	return nil
}

// newJob registers a job with the common fields filled in.
func (o *Org) newJob(v, operation, object, delimName, lineEnding string) (*bulkJob, *APIError) {
	if delimName == "" {
		delimName = "COMMA"
	}
	delim, ok := delimiters[delimName]
	if !ok {
		return nil, invalidJob("columnDelimiter must be BACKQUOTE, CARET, COMMA, PIPE, SEMICOLON or TAB, not " + delimName)
	}
	if lineEnding == "" {
		lineEnding = "LF"
	}
	eol := map[string]string{"LF": "\n", "CRLF": "\r\n"}[lineEnding]
	if eol == "" {
		return nil, invalidJob("lineEnding must be LF or CRLF, not " + lineEnding)
	}
	n, _ := strconv.ParseFloat(v, 64)
	var now, user string
	o.data.Read(func(rd *data.Reader) { now, user = rd.Now().UTC().Format(sfDateTime), rd.UserID() })
	o.bulk.mu.Lock()
	defer o.bulk.mu.Unlock()
	o.bulk.seq++
	id := data.NewID("750", o.bulk.seq)
	j := &bulkJob{delim: delim, eol: eol, v: v, done: make(chan struct{}), info: jobInfo{
		ID: id, Operation: operation, Object: object, CreatedByID: user, CreatedDate: now, SystemModstamp: now,
		ConcurrencyMode: "Parallel", ContentType: "CSV", APIVersion: n, LineEnding: lineEnding, ColumnDelimiter: delimName,
	}}
	o.bulk.jobs[id] = j
	o.bulk.order = append(o.bulk.order, id)
	return j, nil
}

// handleCreateIngestJob: "Create a Job".
func (o *Org) handleCreateIngestJob(w http.ResponseWriter, r *http.Request, v string) {
	var req struct {
		Object, Operation, ExternalIDFieldName, ContentType, ColumnDelimiter, LineEnding, AssignmentRuleID string
	}
	if err := readJobRequest(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	var fail *APIError
	obj, known := o.object(req.Object)
	switch {
	case req.Object == "":
		fail = invalidJob("object is required")
	case !known:
		fail = invalidJob("Invalid object: " + req.Object)
	case !slices.Contains([]string{"insert", "update", "upsert", "delete", "hardDelete"}, req.Operation):
		fail = invalidJob("operation must be insert, update, upsert, delete or hardDelete, not " + req.Operation)
	case req.Operation == "upsert" && req.ExternalIDFieldName == "":
		fail = invalidJob("externalIdFieldName is required for upsert")
	case req.Operation != "upsert" && req.ExternalIDFieldName != "":
		fail = invalidJob("externalIdFieldName is only for upsert")
	case req.ContentType != "" && req.ContentType != "CSV":
		fail = invalidJob("contentType must be CSV")
	}
	if fail == nil && req.Operation == "upsert" {
		var f *Field
		var err *APIError
		o.data.Read(func(rd *data.Reader) {
			so, _ := rd.Object(obj)
			f, err = data.ExternalIDField(so, req.ExternalIDFieldName)
		})
		if err != nil {
			fail = invalidJob(err.Message)
		} else {
			req.ExternalIDFieldName = f.Name
		}
	}
	if fail != nil {
		writeAPIError(w, fail)
		return
	}
	j, err := o.newJob(v, req.Operation, obj, req.ColumnDelimiter, req.LineEnding)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	o.bulk.mu.Lock()
	j.info.State = jobOpen
	j.info.JobType = "V2Ingest"
	j.info.ExternalIDFieldName = req.ExternalIDFieldName
	j.info.ContentURL = fmt.Sprintf("services/data/v%s/jobs/ingest/%s/batches", v, j.info.ID)
	info := j.info
	o.bulk.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// countingWriter counts bytes and line breaks.
type countingWriter struct {
	w     io.Writer
	n     int64
	lines int64
	limit int64
}

var errTooLarge = errors.New("upload too large")

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.n+int64(len(p)) > c.limit {
		return 0, errTooLarge
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.lines += int64(bytes.Count(p[:n], []byte{'\n'}))
	return n, err
}

// handleUpload: "Upload Job Data" — PUT text/csv, 201 with no body. The
// body may be compressed (REST API Developer Guide, "Compression Headers":
// Content-Encoding gzip or deflate). The docs are silent on a second upload
// to the same job; Salesforce's limits are per job ("Maximum file size" in
// "Limits and Allocations") and the job has one parent batch for "the
// initial upload" ("Understanding Bulk API 2.0 Ingest"), so the fake takes
// exactly one upload per job and refuses another with INVALIDJOBSTATE.
func (o *Org) handleUpload(w http.ResponseWriter, r *http.Request, j *bulkJob) {
	o.bulk.mu.Lock()
	state, uploaded := j.info.State, j.upload != ""
	o.bulk.mu.Unlock()
	if uploaded {
		writeAPIError(w, invalidJobState("Job "+j.info.ID+" already holds its upload: one upload per job"))
		return
	}
	if state != jobOpen {
		writeAPIError(w, invalidJobState("Job "+j.info.ID+" is "+state+": only an Open job takes data"))
		return
	}
	if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(mt), "text/csv") {
		writeRESTError(w, http.StatusUnsupportedMediaType, "INVALIDCONTENTTYPE", "Upload Job Data takes Content-Type text/csv")
		return
	}
	var body io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			writeRESTError(w, http.StatusBadRequest, "INVALIDBATCH", "the gzip body could not be read: "+err.Error())
			return
		}
		body = zr
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			writeRESTError(w, http.StatusBadRequest, "INVALIDBATCH", "the deflate body could not be read: "+err.Error())
			return
		}
		body = zr
	default:
		writeRESTError(w, http.StatusUnsupportedMediaType, "INVALIDBATCH", "Content-Encoding "+enc+" is not supported (gzip or deflate)")
		return
	}
	f, err := o.bulk.file("upload-*.csv")
	if err != nil {
		writeRESTError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "the fake org could not store the upload")
		return
	}
	cw := &countingWriter{w: f, limit: maxBulkUpload}
	_, err = io.Copy(cw, body)
	err = errors.Join(err, f.Close())
	if err != nil {
		_ = os.Remove(f.Name())
		if errors.Is(err, errTooLarge) {
			// The docs give the limit, not the error; EXCEEDED_MAX_SIZE_REQUEST
			// is Salesforce's StatusCode for a request over a size limit.
			writeRESTError(w, http.StatusRequestEntityTooLarge, "EXCEEDED_MAX_SIZE_REQUEST",
				"A request can provide CSV data that does not in total exceed 150 MB of base64 encoded content (about 100 MB of data)")
			return
		}
		writeRESTError(w, http.StatusBadRequest, "INVALIDBATCH", "the upload could not be read: "+err.Error())
		return
	}
	o.bulk.mu.Lock()
	defer o.bulk.mu.Unlock()
	if j.info.State != jobOpen || j.upload != "" { // aborted or uploaded meanwhile
		_ = os.Remove(f.Name())
		writeAPIError(w, invalidJobState("Job "+j.info.ID+" is no longer Open"))
		return
	}
	j.upload, j.uploadRows = f.Name(), cw.lines
	w.WriteHeader(http.StatusCreated)
}

// handlePatchJob: "Upload Complete" and "Abort a Job".
func (o *Org) handlePatchJob(w http.ResponseWriter, r *http.Request, j *bulkJob) {
	var req struct{ State string }
	if err := readJobRequest(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	o.bulk.mu.Lock()
	state := j.info.State
	switch {
	case req.State == jobUploadComplete && !j.query:
		if state != jobOpen {
			o.bulk.mu.Unlock()
			writeAPIError(w, invalidJobState("Job "+j.info.ID+" is "+state+": only an Open job can be closed"))
			return
		}
		j.info.State = jobUploadComplete
		o.startJob(j)
	case req.State == jobAborted:
		if terminal(state) {
			o.bulk.mu.Unlock()
			done := state
			if state == jobComplete {
				done = "Completed" // the wording Salesforce sends (restforce/restforce#905)
			}
			writeAPIError(w, invalidJobState("Aborting already "+done+" Job not allowed"))
			return
		}
		o.bulk.mu.Unlock()
		o.stopJob(j)
		o.bulk.mu.Lock()
		j.info.State = jobAborted
	default:
		o.bulk.mu.Unlock()
		writeAPIError(w, invalidJobState("state must be UploadComplete (ingest jobs) or Aborted, not "+req.State))
		return
	}
	j.info.SystemModstamp = time.Now().UTC().Format(sfDateTime)
	info := j.info
	o.bulk.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// startJob starts processing; bulkJobs.mu is held.
func (o *Org) startJob(j *bulkJob) {
	j.started = true
	o.bulk.wg.Add(1)
	go func() {
		defer o.bulk.wg.Done()
		defer close(j.done)
		if j.query {
			o.runQueryJob(j)
		} else {
			o.runIngestJob(j)
		}
	}()
}

// stopJob asks processing to stop and waits for it.
func (o *Org) stopJob(j *bulkJob) {
	j.abort.Store(true)
	o.bulk.mu.Lock()
	started := j.started
	o.bulk.mu.Unlock()
	if started {
		<-j.done
	}
}

// handleDeleteJob: "Delete a Job" — 204; only in UploadComplete,
// JobComplete, Aborted or Failed.
func (o *Org) handleDeleteJob(w http.ResponseWriter, j *bulkJob) {
	o.bulk.mu.Lock()
	state := j.info.State
	o.bulk.mu.Unlock()
	if state != jobUploadComplete && !terminal(state) {
		writeAPIError(w, invalidJobState("Job "+j.info.ID+" is "+state+": a job can be deleted when UploadComplete, JobComplete, Aborted or Failed"))
		return
	}
	o.stopJob(j)
	o.bulk.mu.Lock()
	delete(o.bulk.jobs, j.info.ID)
	o.bulk.order = slices.DeleteFunc(o.bulk.order, func(id string) bool { return id == j.info.ID })
	files := []string{j.upload, j.success, j.failed, j.result}
	o.bulk.mu.Unlock()
	for _, f := range files {
		if f != "" {
			_ = os.Remove(f)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// setState updates the job's state and counters.
func (o *Org) setJob(j *bulkJob, fn func(*jobInfo)) {
	o.bulk.mu.Lock()
	fn(&j.info)
	j.info.SystemModstamp = time.Now().UTC().Format(sfDateTime)
	o.bulk.mu.Unlock()
}

// failJob ends the job Failed with errorMessage.
func (o *Org) failJob(j *bulkJob, msg string) {
	o.setJob(j, func(i *jobInfo) { i.State, i.ErrorMessage = jobFailed, msg })
}

// resultWriter writes a result CSV as Salesforce's examples show it: every
// value double-quoted ("Get Job Successful Record Results").
type resultWriter struct {
	w     *bufio.Writer
	delim string
	eol   string
}

func (rw *resultWriter) row(cells ...[]string) {
	first := true
	for _, part := range cells {
		for _, c := range part {
			if !first {
				rw.w.WriteString(rw.delim)
			}
			first = false
			rw.w.WriteByte('"')
			rw.w.WriteString(strings.ReplaceAll(c, `"`, `""`))
			rw.w.WriteByte('"')
		}
	}
	rw.w.WriteString(rw.eol)
}

// runIngestJob processes the upload row by row.
func (o *Org) runIngestJob(j *bulkJob) {
	o.bulk.mu.Lock()
	upload, rows, info := j.upload, j.uploadRows, j.info
	o.bulk.mu.Unlock()
	if upload == "" {
		o.failJob(j, "InvalidBatch : no data was uploaded to the job before UploadComplete")
		return
	}
	o.setJob(j, func(i *jobInfo) { i.State = jobInProgress })
	start := time.Now()
	in, err := os.Open(upload)
	if err != nil {
		o.failJob(j, "InternalError : the fake org could not read the upload")
		return
	}
	defer in.Close()
	cr := csv.NewReader(bufio.NewReaderSize(in, 64<<10))
	cr.Comma = j.delim
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		o.failJob(j, "InvalidBatch : the CSV has no header row")
		return
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	var so *SObject
	var unknown string
	o.data.Read(func(rd *data.Reader) {
		so, _ = rd.Object(info.Object)
		for _, h := range header {
			// Relationship columns (Owner.Email) are not modelled: the fake
			// reports them as Salesforce reports a column it cannot map.
			if _, ok := so.Field(h); !ok && unknown == "" {
				unknown = h
			}
		}
	})
	if unknown != "" {
		// The errorMessage Salesforce gives (seen in amp-labs/connectors#118;
		// the docs show none).
		o.failJob(j, "InvalidBatch : Field name not found : "+unknown)
		return
	}
	files := [2]*os.File{}
	writers := [2]*resultWriter{}
	for i, pattern := range []string{"success-*.csv", "failed-*.csv"} {
		f, err := o.bulk.file(pattern)
		if err != nil {
			o.failJob(j, "InternalError : the fake org could not write results")
			return
		}
		defer f.Close()
		files[i] = f
		writers[i] = &resultWriter{w: bufio.NewWriterSize(f, 64<<10), delim: string(j.delim), eol: j.eol}
	}
	writers[0].row([]string{"sf__Id", "sf__Created"}, header)
	writers[1].row([]string{"sf__Id", "sf__Error"}, header)
	compact := false
	if info.Operation == "insert" && rows-1 > o.bulk.storeMax {
		// rows counts line breaks; quoted values may hold some.
		n, exact := countCSVRows(upload, j.delim)
		if !exact || n > o.bulk.storeMax {
			if !o.bulk.validateOverCap {
				o.failJob(j, fmt.Sprintf("FakeOrgRowCap : the fake org stores at most %d rows of a Bulk API insert job "+
					"(salesforcetest Config.BulkStoreMaxRecords, sfmtls fake-org --bulk-store-max) and this job has %s: "+
					"no row was applied; split the CSV or raise the cap", o.bulk.storeMax, rowCount(n, exact, rows-1)))
				return
			}
			compact = true
		}
	}
	var processed, failed, handled int64
	for !j.abort.Load() {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		handled++
		processed++
		var id string
		var created bool
		var rowErr *APIError
		if err != nil {
			rowErr = apiErr(http.StatusBadRequest, "INVALID_FIELD", "the CSV row could not be read: "+err.Error())
		} else if len(rec) != len(header) {
			rowErr = apiErr(http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("the row has %d values for %d header columns", len(rec), len(header)))
		} else {
			id, created, rowErr = o.ingestRow(so, info, header, rec, compact)
		}
		if rowErr != nil {
			failed++
			writers[1].row([]string{id, rowErr.ErrorCode + ":" + rowErr.Message}, rec)
		} else {
			writers[0].row([]string{id, strconv.FormatBool(created)}, rec)
		}
		if processed%1000 == 0 {
			o.setJob(j, func(i *jobInfo) { i.NumberRecordsProcessed, i.NumberRecordsFailed = processed, failed })
		}
	}
	for _, rw := range writers {
		if err := rw.w.Flush(); err != nil {
			o.failJob(j, "InternalError : the fake org could not write results")
			return
		}
	}
	elapsed := time.Since(start).Milliseconds()
	o.bulk.mu.Lock()
	defer o.bulk.mu.Unlock()
	j.success, j.failed, j.handled = files[0].Name(), files[1].Name(), handled
	j.info.NumberRecordsProcessed, j.info.NumberRecordsFailed = processed, failed
	j.info.TotalProcessingTime, j.info.APIActiveProcessingTime = elapsed, elapsed
	if !j.abort.Load() {
		j.info.State = jobComplete
	}
}

// countCSVRows counts the data rows of an uploaded CSV (the header left
// out); exact is false when the file cannot be read to its end.
func countCSVRows(path string, delim rune) (n int64, exact bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	cr.Comma = delim
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	for {
		_, err := cr.Read()
		var perr *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return max(n-1, 0), true
		case err != nil && !errors.As(err, &perr):
			return n, false
		}
		n++ // a row that does not parse is still a row, failed when applied
	}
}

// rowCount says how many rows a job has, or at most how many.
func rowCount(n int64, exact bool, upper int64) string {
	if exact {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("up to %d", upper)
}

// ingestRow applies one row: empty cells are left out (ignored on update),
// #N/A sets null ("Valid CSV Record Rows"). It returns the record id and
// whether it was created.
func (o *Org) ingestRow(so *SObject, info jobInfo, header, rec []string, compact bool) (string, bool, *APIError) {
	fields := make(map[string]any, len(header))
	var id, ext string
	for i, h := range header {
		f, _ := so.Field(h)
		switch {
		case f.Name == "Id":
			id = rec[i]
		case rec[i] == "":
		case rec[i] == "#N/A":
			fields[f.Name] = nil
		default:
			fields[f.Name] = rec[i]
		}
		if info.Operation == "upsert" && f.Name == info.ExternalIDFieldName {
			ext = rec[i]
			delete(fields, f.Name)
		}
	}
	missingID := apiErr(http.StatusBadRequest, "MISSING_ARGUMENT", "Id not specified in an "+info.Operation+" call")
	switch info.Operation {
	case "insert":
		if id != "" {
			return "", false, apiErr(http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call")
		}
		if compact {
			var id string
			err := o.data.Transaction(func(t *data.Txn) *APIError {
				var e *APIError
				id, e = t.CheckCreate(so.Name, fields)
				return e
			})
			return id, err == nil, err
		}
		var newID string
		err := o.data.Transaction(func(t *data.Txn) *APIError {
			var e *APIError
			newID, e = t.Create(so.Name, fields)
			return e
		})
		return newID, err == nil, err
	case "update":
		if id == "" {
			return "", false, missingID
		}
		id18, _ := data.NormalizeID(id)
		return valueOr(id18, id), false, o.data.Transaction(func(t *data.Txn) *APIError { return t.Update(so.Name, id, fields) })
	case "upsert":
		if ext == "" {
			return "", false, apiErr(http.StatusBadRequest, "MISSING_ARGUMENT", info.ExternalIDFieldName+" not specified")
		}
		var res data.UpsertResult
		err := o.data.Transaction(func(t *data.Txn) *APIError {
			var e *APIError
			res, _, e = t.Upsert(so.Name, info.ExternalIDFieldName, ext, fields, false)
			return e
		})
		return res.ID, res.Created, err
	default: // delete, hardDelete
		if id == "" {
			return "", false, missingID
		}
		id18, _ := data.NormalizeID(id)
		return valueOr(id18, id), false, o.data.Transaction(func(t *data.Txn) *APIError {
			if err := t.Delete(so.Name, id); err != nil {
				return err
			}
			if info.Operation == "hardDelete" {
				t.Purge(id18) // hard-deleted records skip the recycle bin
			}
			return nil
		})
	}
}

// serveFile writes a CSV file, gzip-compressed when the client accepts it
// ("Use Compression for Bulk API 2.0 Responses").
func serveCSV(w http.ResponseWriter, r *http.Request, write func(io.Writer) error) {
	w.Header().Set("Content-Type", "text/csv")
	var out io.Writer = w
	var zw *gzip.Writer
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		out = zw
	}
	w.WriteHeader(http.StatusOK)
	err := write(out)
	if zw != nil {
		err = errors.Join(err, zw.Close())
	}
	if err != nil {
		panic(http.ErrAbortHandler) // the status is sent: cut the stream so the client sees the failure
	}
}

// acceptsGzip reads Accept-Encoding token by token.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, tok := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(tok), ";")
			if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0" {
				return true
			}
		}
	}
	return false
}

// handleIngestResults: "Get Job Successful Record Results", "Get Job Failed
// Record Results", "Get Job Unprocessed Record Results". The docs do not say
// what a job still in progress answers; the fake serves results once the
// job is JobComplete, Failed or Aborted and answers INVALIDJOBSTATE before.
func (o *Org) handleIngestResults(w http.ResponseWriter, r *http.Request, j *bulkJob, kind string) {
	o.bulk.mu.Lock()
	state, upload, success, failed, handled := j.info.State, j.upload, j.success, j.failed, j.handled
	o.bulk.mu.Unlock()
	if !terminal(state) {
		writeAPIError(w, invalidJobState("Job "+j.info.ID+" is "+state+": results are available once it is JobComplete, Failed or Aborted"))
		return
	}
	switch kind {
	case "successfulResults", "failedResults":
		path := success
		if kind == "failedResults" {
			path = failed
		}
		serveCSV(w, r, func(out io.Writer) error {
			if path == "" { // never processed: no rows
				return nil
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(out, f)
			return err
		})
	default:
		// The uploaded rows from the first one not handled.
		serveCSV(w, r, func(out io.Writer) error {
			if upload == "" {
				return nil
			}
			f, err := os.Open(upload)
			if err != nil {
				return err
			}
			defer f.Close()
			return copyUnprocessed(out, f, j.delim, j.eol, handled)
		})
	}
}

// copyUnprocessed writes the header and the records after the first skip.
func copyUnprocessed(out io.Writer, in io.Reader, delim rune, eol string, skip int64) error {
	cr := csv.NewReader(bufio.NewReaderSize(in, 64<<10))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	rw := &resultWriter{w: bufio.NewWriterSize(out, 64<<10), delim: string(delim), eol: eol}
	for n := int64(-1); ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			continue
		}
		if n < 0 || n >= skip {
			rw.row(rec)
		}
	}
	return rw.w.Flush()
}

// handleCreateQueryJob: "Create a Query Job". The SOQL is parsed at once and
// a malformed query is refused with the REST query errors (the Bulk pages
// do not show the error body); the job starts as UploadComplete and runs.
func (o *Org) handleCreateQueryJob(w http.ResponseWriter, r *http.Request, v string) {
	var req struct{ Operation, Query, ContentType, ColumnDelimiter, LineEnding string }
	if err := readJobRequest(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	if req.Operation != "query" && req.Operation != "queryAll" {
		writeAPIError(w, invalidJob("operation must be query or queryAll, not "+req.Operation))
		return
	}
	if req.ContentType != "" && req.ContentType != "CSV" {
		writeAPIError(w, invalidJob("contentType must be CSV"))
		return
	}
	q, err := soqlengine.Parse(req.Query)
	if err != nil {
		writeQueryError(w, err)
		return
	}
	obj, _ := o.object(q.Object())
	j, apiErr := o.newJob(v, req.Operation, valueOr(obj, q.Object()), req.ColumnDelimiter, req.LineEnding)
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	o.bulk.mu.Lock()
	j.query = true
	j.soqlQuery = q
	j.info.Query = req.Query
	j.info.JobType = "V2Query"
	j.info.State = jobUploadComplete
	info := j.info
	o.startJob(j)
	o.bulk.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// runQueryJob runs the query and writes its CSV: columns in SELECT order
// (API 50.0 and later), a parent's fields as Account.Name, every value
// quoted, null as an empty cell.
func (o *Org) runQueryJob(j *bulkJob) {
	o.setJob(j, func(i *jobInfo) { i.State = jobInProgress })
	o.bulk.mu.Lock()
	q, info := j.soqlQuery, j.info
	o.bulk.mu.Unlock()
	var res *soqlengine.Result
	var err error
	o.data.Read(func(rd *data.Reader) {
		res, err = soqlengine.Execute(q, soqlSchema{rd}, rd,
			soqlengine.Options{Now: rd.Now(), APIVersion: j.v, IncludeDeleted: info.Operation == "queryAll"})
	})
	if err != nil {
		var qe *soqlengine.Error
		if errors.As(err, &qe) {
			o.failJob(j, qe.Code+" : "+qe.Message)
		} else {
			o.failJob(j, "InternalError : "+err.Error())
		}
		return
	}
	if res.CountOnly {
		o.failJob(j, "FeatureNotEnabled : Bulk API 2.0 query does not support aggregate functions such as COUNT()")
		return
	}
	// Columns: the union of every record's flattened names, in SELECT order.
	var columns []string
	seen := map[string]bool{}
	for _, rec := range res.Records {
		if rec.Type == "AggregateResult" {
			o.failJob(j, "FeatureNotEnabled : Bulk API 2.0 query does not support aggregate functions or GROUP BY")
			return
		}
		for _, name := range flatten(rec, "", nil, func(string, any) {}) {
			if !seen[name] {
				seen[name] = true
				columns = append(columns, name)
			}
		}
		if j.abort.Load() {
			return
		}
	}
	for _, rec := range res.Records {
		for _, f := range rec.Fields {
			if _, sub := f.Value.(*soqlengine.Result); sub {
				o.failJob(j, "FeatureNotEnabled : Bulk API 2.0 query does not support parent-to-child subqueries")
				return
			}
		}
	}
	f, err := o.bulk.file("query-*.csv")
	if err != nil {
		o.failJob(j, "InternalError : the fake org could not write results")
		return
	}
	defer f.Close()
	cw := &countingWriter{w: f, limit: 1 << 62}
	bw := bufio.NewWriterSize(cw, 64<<10)
	var header bytes.Buffer
	if len(res.Records) > 0 {
		hw := &resultWriter{w: bufio.NewWriter(&header), delim: string(j.delim), eol: j.eol}
		hw.row(columns)
		_ = hw.w.Flush()
	}
	offsets := make([]int64, 0, len(res.Records)+1)
	cells := make([]string, len(columns))
	index := make(map[string]int, len(columns))
	for i, c := range columns {
		index[c] = i
	}
	for _, rec := range res.Records {
		if j.abort.Load() {
			return
		}
		offsets = append(offsets, cw.n+int64(bw.Buffered()))
		clear(cells)
		flatten(rec, "", nil, func(name string, v any) { cells[index[name]] = formatCell(v) })
		for i, c := range cells {
			if i > 0 {
				bw.WriteRune(j.delim)
			}
			if c != "" {
				bw.WriteByte('"')
				bw.WriteString(strings.ReplaceAll(c, `"`, `""`))
				bw.WriteByte('"')
			}
		}
		bw.WriteString(j.eol)
	}
	pos := cw.n + int64(bw.Buffered())
	offsets = append(offsets, pos)
	if err := bw.Flush(); err != nil {
		o.failJob(j, "InternalError : the fake org could not write results")
		return
	}
	o.bulk.mu.Lock()
	defer o.bulk.mu.Unlock()
	j.result, j.header, j.offsets = f.Name(), header.Bytes(), offsets
	j.info.NumberRecordsProcessed = int64(len(res.Records))
	if !j.abort.Load() {
		j.info.State = jobComplete
	}
}

// flatten calls set for each field of rec, parents' fields as Parent.Field,
// and returns their names.
func flatten(rec soqlengine.Record, prefix string, names []string, set func(string, any)) []string {
	for _, f := range rec.Fields {
		switch v := f.Value.(type) {
		case *soqlengine.Record:
			if v != nil {
				names = flatten(*v, prefix+f.Name+".", names, set)
			}
		case *soqlengine.Result:
		default:
			names = append(names, prefix+f.Name)
			set(prefix+f.Name, v)
		}
	}
	return names
}

// formatCell renders a value for CSV: text as is, numbers without exponent,
// booleans as true/false, null as nothing.
func formatCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return data.FormatValue(v)
}

// handleQueryResults: "Get Results for a Query Job". Pages follow
// Sforce-Locator (an opaque string; "null" after the last page) and hold up
// to maxRecords records, counted in Sforce-NumberOfRecords. Asking with
// another API version than the job's is 409. The guide's editions disagree
// on results asked before JobComplete (412 JOB_NOT_COMPLETE in the ja-jp
// 222.0 edition, 204 in newer ones); the fake answers the 412 with its
// documented body.
func (o *Org) handleQueryResults(w http.ResponseWriter, r *http.Request, v string, j *bulkJob) {
	o.bulk.mu.Lock()
	state, path, header, offsets, jobVersion := j.info.State, j.result, j.header, j.offsets, j.v
	o.bulk.mu.Unlock()
	if v != jobVersion {
		// The status is documented; the body is not.
		writeRESTError(w, http.StatusConflict, "INVALIDJOB", "the job was created with API version "+jobVersion+": ask for its results with the same version")
		return
	}
	if state != jobComplete {
		writeRESTError(w, http.StatusPreconditionFailed, "JOB_NOT_COMPLETE",
			"can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: "+strings.ToUpper(state))
		return
	}
	qv := r.URL.Query()
	maxRecords := defaultMaxRecords
	if s := qv.Get("maxRecords"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			writeRESTError(w, http.StatusBadRequest, "INVALIDREQUEST", "maxRecords must be a positive whole number, not "+strconv.Quote(s))
			return
		}
		maxRecords = n
	}
	rows := int64(len(offsets) - 1)
	var from int64
	if loc := qv.Get("locator"); loc != "" {
		raw, err := base64.RawURLEncoding.DecodeString(loc)
		n, err2 := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || err2 != nil || n <= 0 || n >= rows {
			writeRESTError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
			return
		}
		from = n
	}
	to := min(from+int64(maxRecords), rows)
	next := "null"
	if to < rows {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(to, 10)))
	}
	w.Header().Set("Sforce-Locator", next)
	w.Header().Set("Sforce-NumberOfRecords", strconv.FormatInt(to-from, 10))
	serveCSV(w, r, func(out io.Writer) error {
		if rows == 0 {
			return nil // no records: an empty body (the docs show none for this case)
		}
		if _, err := out.Write(header); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(out, io.NewSectionReader(f, offsets[from], offsets[to]-offsets[from]))
		return err
	})
}

// BulkJobCount returns how many Bulk API 2.0 jobs the org holds, for tests
// that check jobs are deleted.
func (o *Org) BulkJobCount() int {
	o.bulk.mu.Lock()
	defer o.bulk.mu.Unlock()
	return len(o.bulk.jobs)
}
