// Package bulkjob keeps the fake org's Bulk API 2.0 jobs: their state
// machine (Open, UploadComplete, InProgress, JobComplete, Failed, Aborted;
// "Bulk API 2.0 and Bulk API Developer Guide", "Job States"), the uploaded
// CSV and the result files on disk, and the work of a job: applying an
// ingest job's rows to the data store, each its own transaction validated
// like a REST write, and writing a query job's result CSV. It knows nothing
// of HTTP: salesforcetest's handlers translate requests into these calls and
// the *data.APIError answers into the REST error array.
//
// Job data is kept on disk, not in memory: an upload streams to a temporary
// file and is processed row by row in a goroutine, writing the result CSVs
// to files; a query's result is written to a file with the offset of each
// row, and pages are served from it. The data store keeps every record in
// memory, so an insert or upsert job with more rows than the cap (Config.MaxRows)
// ends Failed before any row is applied, its errorMessage naming the cap:
// the fake never reports a row it did not keep as a success.
package bulkjob

import (
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// Bulk API 2.0 limits the fake applies.
const (
	// MaxUpload: "Upload Job Data" allows 150 MB of base64-encoded content
	// per request; that is 112.5 MB of data. The fake counts the
	// decompressed bytes (the docs do not say which size counts for a gzip body).
	MaxUpload = 150_000_000 / 4 * 3
	// DefaultMaxRows is Config.MaxRows' default, which bounds the heap one
	// job's stored records take.
	DefaultMaxRows = 50_000
	// defaultMaxRecords is the set size of query results when the client
	// sends no maxRecords ("the server picks a default"; the docs give no number).
	defaultMaxRecords = 50_000
)

// Job states ("Job States").
const (
	StateOpen           = "Open"
	StateUploadComplete = "UploadComplete"
	StateInProgress     = "InProgress"
	StateComplete       = "JobComplete"
	StateFailed         = "Failed"
	StateAborted        = "Aborted"
)

func terminal(state string) bool {
	return state == StateComplete || state == StateFailed || state == StateAborted
}

var delimiters = map[string]rune{"COMMA": ',', "BACKQUOTE": '`', "CARET": '^', "PIPE": '|', "SEMICOLON": ';', "TAB": '\t'}

// Config configures the jobs of one org.
type Config struct {
	// Store is the org's data, which ingest jobs write and query jobs read.
	Store *data.Store
	// Query runs a query job's parsed query against the store.
	Query func(q *soqlengine.Query, version string, includeDeleted bool) (*soqlengine.Result, error)
	// MaxRows is the most rows an insert or upsert job may have; 0 means DefaultMaxRows.
	MaxRows int
}

// Jobs holds an org's Bulk API 2.0 jobs.
type Jobs struct {
	store   *data.Store
	query   func(q *soqlengine.Query, version string, includeDeleted bool) (*soqlengine.Result, error)
	maxRows int64

	mu    sync.Mutex
	jobs  map[string]*Job
	order []string
	seq   int64
	dir   string // temporary directory of job files, made on first use
	wg    sync.WaitGroup
}

// New returns an empty set of jobs.
func New(cfg Config) *Jobs {
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	return &Jobs{store: cfg.Store, query: cfg.Query, maxRows: int64(cfg.MaxRows), jobs: map[string]*Job{}}
}

// MaxRows is the most rows an insert or upsert job may have.
func (js *Jobs) MaxRows() int64 { return js.maxRows }

// Close stops processing and removes the job files.
func (js *Jobs) Close() {
	js.mu.Lock()
	for _, j := range js.jobs {
		j.abort.Store(true)
	}
	js.mu.Unlock()
	js.wg.Wait()
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.dir != "" {
		_ = os.RemoveAll(js.dir)
	}
}

// File returns a new empty file in the jobs' directory.
func (js *Jobs) File(pattern string) (*os.File, error) {
	js.mu.Lock()
	if js.dir == "" {
		d, err := os.MkdirTemp("", "sfmtls-fake-bulk-")
		if err != nil {
			js.mu.Unlock()
			return nil, err
		}
		js.dir = d
	}
	dir := js.dir
	js.mu.Unlock()
	return os.CreateTemp(dir, pattern)
}

// Job is one job. Its fields are guarded by Jobs.mu.
type Job struct {
	query bool
	info  Info
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

// Info is the job JSON ("Get Information About an Ingest Job").
type Info struct {
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

// Done is closed when the job has finished processing; a job that never
// starts (still Open) never closes it.
func (j *Job) Done() <-chan struct{} { return j.done }

// IsQuery tells a query job from an ingest job.
func (j *Job) IsQuery() bool { return j.query }

// invalidJobState is the answer for a request the job's state does not
// allow. The code is the one Salesforce sends (restforce/restforce#905:
// "INVALIDJOBSTATE: Aborting already Completed Job not allowed"); the
// Bulk API 2.0 pages document neither the code nor the status, so the fake
// uses 400 as for any other refused request.
func invalidJobState(msg string) *data.APIError {
	return data.NewAPIError(http.StatusBadRequest, "INVALIDJOBSTATE", msg)
}

// invalidJob refuses a create request ("Errors": InvalidJob). The exact
// messages are the fake's: the docs give none.
func invalidJob(msg string) *data.APIError {
	return data.NewAPIError(http.StatusBadRequest, "INVALIDJOB", msg)
}

// Get returns the job with id, of the kind asked for.
func (js *Jobs) Get(id string, query bool) (*Job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j := js.jobs[id]
	return j, j != nil && j.query == query
}

// Count returns how many jobs there are.
func (js *Jobs) Count() int {
	js.mu.Lock()
	defer js.mu.Unlock()
	return len(js.jobs)
}

// Info returns the job's current information.
func (js *Jobs) Info(j *Job) Info {
	js.mu.Lock()
	defer js.mu.Unlock()
	return j.info
}

// List returns every job of the kind ("Get All Jobs"), oldest first.
func (js *Jobs) List(query bool) []Info {
	js.mu.Lock()
	defer js.mu.Unlock()
	out := []Info{}
	for _, id := range js.order {
		if j := js.jobs[id]; j != nil && j.query == query {
			out = append(out, j.info)
		}
	}
	return out
}

// newJob registers a job with the common fields filled in.
func (js *Jobs) newJob(v, operation, object, delimName, lineEnding string) (*Job, *data.APIError) {
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
	js.store.Read(func(rd *data.Reader) { now, user = rd.Now().UTC().Format(data.DateTimeLayout), rd.UserID() })
	js.mu.Lock()
	defer js.mu.Unlock()
	js.seq++
	id := data.NewID("750", js.seq)
	j := &Job{delim: delim, eol: eol, v: v, done: make(chan struct{}), info: Info{
		ID: id, Operation: operation, Object: object, CreatedByID: user, CreatedDate: now, SystemModstamp: now,
		ConcurrencyMode: "Parallel", ContentType: "CSV", APIVersion: n, LineEnding: lineEnding, ColumnDelimiter: delimName,
	}}
	js.jobs[id] = j
	js.order = append(js.order, id)
	return j, nil
}

// IngestRequest is the body of "Create a Job".
type IngestRequest struct {
	Object, Operation, ExternalIDFieldName, ContentType, ColumnDelimiter, LineEnding, AssignmentRuleID string
}

// CreateIngest creates an ingest job, Open for its upload ("Create a Job").
func (js *Jobs) CreateIngest(v string, req IngestRequest) (Info, *data.APIError) {
	var fail *data.APIError
	var obj string
	var so *data.SObject
	js.store.Read(func(rd *data.Reader) {
		if so, _ = rd.Object(req.Object); so != nil {
			obj = so.Name
		}
		switch {
		case req.Object == "":
			fail = invalidJob("object is required")
		case so == nil:
			fail = invalidJob("Invalid object: " + req.Object)
		case !slices.Contains([]string{"insert", "update", "upsert", "delete", "hardDelete"}, req.Operation):
			fail = invalidJob("operation must be insert, update, upsert, delete or hardDelete, not " + req.Operation)
		case req.Operation == "upsert" && req.ExternalIDFieldName == "":
			fail = invalidJob("externalIdFieldName is required for upsert")
		case req.Operation != "upsert" && req.ExternalIDFieldName != "":
			fail = invalidJob("externalIdFieldName is only for upsert")
		case req.ContentType != "" && req.ContentType != "CSV":
			fail = invalidJob("contentType must be CSV")
		case req.Operation == "upsert":
			f, err := data.ExternalIDField(so, req.ExternalIDFieldName)
			if err != nil {
				fail = invalidJob(err.Message)
			} else {
				req.ExternalIDFieldName = f.Name
			}
		}
	})
	if fail != nil {
		return Info{}, fail
	}
	j, err := js.newJob(v, req.Operation, obj, req.ColumnDelimiter, req.LineEnding)
	if err != nil {
		return Info{}, err
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	j.info.State = StateOpen
	j.info.JobType = "V2Ingest"
	j.info.ExternalIDFieldName = req.ExternalIDFieldName
	j.info.ContentURL = "services/data/v" + v + "/jobs/ingest/" + j.info.ID + "/batches"
	return j.info, nil
}

// QueryRequest is the body of "Create a Query Job".
type QueryRequest struct{ Operation, Query, ContentType, ColumnDelimiter, LineEnding string }

// CheckQuery refuses a query job request before its query is parsed.
func CheckQuery(req QueryRequest) *data.APIError {
	if req.Operation != "query" && req.Operation != "queryAll" {
		return invalidJob("operation must be query or queryAll, not " + req.Operation)
	}
	if req.ContentType != "" && req.ContentType != "CSV" {
		return invalidJob("contentType must be CSV")
	}
	return nil
}

// CreateQuery creates a query job for q, the parsed req.Query, and starts
// it: it begins UploadComplete and runs at once ("Create a Query Job").
func (js *Jobs) CreateQuery(v string, req QueryRequest, q *soqlengine.Query) (Info, *data.APIError) {
	object := q.Object()
	js.store.Read(func(rd *data.Reader) {
		if so, ok := rd.Object(object); ok {
			object = so.Name
		}
	})
	j, err := js.newJob(v, req.Operation, object, req.ColumnDelimiter, req.LineEnding)
	if err != nil {
		return Info{}, err
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	j.query = true
	j.soqlQuery = q
	j.info.Query = req.Query
	j.info.JobType = "V2Query"
	j.info.State = StateUploadComplete
	info := j.info
	js.start(j)
	return info, nil
}

// CheckUpload answers whether the job takes an upload now. The docs are
// silent on a second upload to the same job; Salesforce's limits are per
// job ("Maximum file size" in "Limits and Allocations") and the job has one
// parent batch for "the initial upload" ("Understanding Bulk API 2.0
// Ingest"), so the fake takes exactly one upload per job and refuses
// another with INVALIDJOBSTATE.
func (js *Jobs) CheckUpload(j *Job) *data.APIError {
	js.mu.Lock()
	state, uploaded := j.info.State, j.upload != ""
	js.mu.Unlock()
	if uploaded {
		return invalidJobState("Job " + j.info.ID + " already holds its upload: one upload per job")
	}
	if state != StateOpen {
		return invalidJobState("Job " + j.info.ID + " is " + state + ": only an Open job takes data")
	}
	return nil
}

// Patch applies "Upload Complete" (state UploadComplete, ingest jobs) or
// "Abort a Job" (state Aborted).
func (js *Jobs) Patch(j *Job, state string) (Info, *data.APIError) {
	js.mu.Lock()
	current := j.info.State
	switch {
	case state == StateUploadComplete && !j.query:
		if current != StateOpen {
			js.mu.Unlock()
			return Info{}, invalidJobState("Job " + j.info.ID + " is " + current + ": only an Open job can be closed")
		}
		j.info.State = StateUploadComplete
		js.start(j)
	case state == StateAborted:
		if terminal(current) {
			js.mu.Unlock()
			done := current
			if current == StateComplete {
				done = "Completed" // the wording Salesforce sends (restforce/restforce#905)
			}
			return Info{}, invalidJobState("Aborting already " + done + " Job not allowed")
		}
		js.mu.Unlock()
		js.stop(j)
		js.mu.Lock()
		j.info.State = StateAborted
	default:
		js.mu.Unlock()
		return Info{}, invalidJobState("state must be UploadComplete (ingest jobs) or Aborted, not " + state)
	}
	j.info.SystemModstamp = time.Now().UTC().Format(data.DateTimeLayout)
	info := j.info
	js.mu.Unlock()
	return info, nil
}

// start starts processing; Jobs.mu is held.
func (js *Jobs) start(j *Job) {
	j.started = true
	js.wg.Add(1)
	go func() {
		defer js.wg.Done()
		defer close(j.done)
		if j.query {
			js.runQuery(j)
		} else {
			js.runIngest(j)
		}
	}()
}

// stop asks processing to stop and waits for it.
func (js *Jobs) stop(j *Job) {
	j.abort.Store(true)
	js.mu.Lock()
	started := j.started
	js.mu.Unlock()
	if started {
		<-j.done
	}
}

// Delete removes the job and its files ("Delete a Job"): only in
// UploadComplete, JobComplete, Aborted or Failed.
func (js *Jobs) Delete(j *Job) *data.APIError {
	js.mu.Lock()
	state := j.info.State
	js.mu.Unlock()
	if state != StateUploadComplete && !terminal(state) {
		return invalidJobState("Job " + j.info.ID + " is " + state + ": a job can be deleted when UploadComplete, JobComplete, Aborted or Failed")
	}
	js.stop(j)
	js.mu.Lock()
	delete(js.jobs, j.info.ID)
	js.order = slices.DeleteFunc(js.order, func(id string) bool { return id == j.info.ID })
	files := []string{j.upload, j.success, j.failed, j.result}
	js.mu.Unlock()
	for _, f := range files {
		if f != "" {
			_ = os.Remove(f)
		}
	}
	return nil
}

// set updates the job's state and counters.
func (js *Jobs) set(j *Job, fn func(*Info)) {
	js.mu.Lock()
	fn(&j.info)
	j.info.SystemModstamp = time.Now().UTC().Format(data.DateTimeLayout)
	js.mu.Unlock()
}

// fail ends the job Failed with errorMessage.
func (js *Jobs) fail(j *Job, msg string) {
	js.set(j, func(i *Info) { i.State, i.ErrorMessage = StateFailed, msg })
}
