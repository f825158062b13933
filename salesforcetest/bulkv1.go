package salesforcetest

// Bulk API 1.0, as the "Bulk API 2.0 and Bulk API Developer Guide" documents
// it in its Bulk API chapters: /services/async/XX.X/job, authenticated by the
// X-SFDC-Session header, with jobs (create, close, abort, get), batches
// (add, list, get, request, results) and bulk query results. Jobs take CSV
// or JSON batches (XML and the ZIP types are refused when the job is
// created); job and batch info and errors are XML, or JSON for JSON jobs and
// requests. Rows go through the same store and SOQL engine as REST and
// Bulk API 2.0, each row its own transaction.
//
// A batch is processed while the request that adds it is answered, so its
// first status already tells the outcome; the answer to the add still says
// Queued, as the guide's examples show. Uploads, results and query records
// are kept in files (the Bulk API 2.0 jobs' directory), not on the heap.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/bulkjob"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// asyncNS is the namespace of every Bulk API 1.0 XML document.
const asyncNS = "http://www.force.com/2009/06/asyncapi/dataload"

// Bulk API 1.0 limits ("Bulk API and Bulk API 2.0 Limits and Allocations",
// "Batch Limits"): a batch holds at most 10,000 records in at most 10 MB.
const (
	v1MaxBatchRecords = 10_000
	v1MaxBatchBytes   = 10_000_000
)

// asyncJobs holds the org's Bulk API 1.0 jobs; its zero value is ready.
type asyncJobs struct {
	mu   sync.Mutex
	jobs map[string]*asyncJob
	seq  int64
}

// asyncJob is one job; its fields are guarded by asyncJobs.mu.
type asyncJob struct {
	info     v1JobInfo
	v        string // the API version it was created with
	batches  []*asyncBatch
	inserted int64 // rows its batches inserted, against Config.BulkStoreMaxRecords
}

// asyncBatch is one batch; its fields are guarded by asyncJobs.mu.
type asyncBatch struct {
	info     v1BatchInfo
	request  string // file holding the batch as sent
	result   string // file holding the results, or a query's records
	resultID string // a query batch's one result id
}

// apiVersion prints as Salesforce prints it: 36.0.
type apiVersion float64

func (v apiVersion) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(v), 'f', 1, 64)), nil
}

func (v apiVersion) MarshalJSON() ([]byte, error) { return v.MarshalText() }

// v1JobInfo is JobInfo ("Bulk API Reference", "JobInfo"), in the order of
// the guide's example.
type v1JobInfo struct {
	XMLName                 xml.Name   `xml:"http://www.force.com/2009/06/asyncapi/dataload jobInfo" json:"-"`
	ID                      string     `xml:"id" json:"id"`
	Operation               string     `xml:"operation" json:"operation"`
	Object                  string     `xml:"object" json:"object"`
	CreatedByID             string     `xml:"createdById" json:"createdById"`
	CreatedDate             string     `xml:"createdDate" json:"createdDate"`
	SystemModstamp          string     `xml:"systemModstamp" json:"systemModstamp"`
	State                   string     `xml:"state" json:"state"`
	ExternalIDFieldName     string     `xml:"externalIdFieldName,omitempty" json:"externalIdFieldName,omitempty"`
	ConcurrencyMode         string     `xml:"concurrencyMode" json:"concurrencyMode"`
	ContentType             string     `xml:"contentType" json:"contentType"`
	NumberBatchesQueued     int        `xml:"numberBatchesQueued" json:"numberBatchesQueued"`
	NumberBatchesInProgress int        `xml:"numberBatchesInProgress" json:"numberBatchesInProgress"`
	NumberBatchesCompleted  int        `xml:"numberBatchesCompleted" json:"numberBatchesCompleted"`
	NumberBatchesFailed     int        `xml:"numberBatchesFailed" json:"numberBatchesFailed"`
	NumberBatchesTotal      int        `xml:"numberBatchesTotal" json:"numberBatchesTotal"`
	NumberRecordsProcessed  int64      `xml:"numberRecordsProcessed" json:"numberRecordsProcessed"`
	NumberRetries           int        `xml:"numberRetries" json:"numberRetries"`
	APIVersion              apiVersion `xml:"apiVersion" json:"apiVersion"`
	NumberRecordsFailed     int64      `xml:"numberRecordsFailed" json:"numberRecordsFailed"`
	TotalProcessingTime     int64      `xml:"totalProcessingTime" json:"totalProcessingTime"`
	APIActiveProcessingTime int64      `xml:"apiActiveProcessingTime" json:"apiActiveProcessingTime"`
	ApexProcessingTime      int64      `xml:"apexProcessingTime" json:"apexProcessingTime"`
}

// v1BatchInfo is BatchInfo ("Bulk API Reference", "BatchInfo").
type v1BatchInfo struct {
	XMLName                 xml.Name `xml:"http://www.force.com/2009/06/asyncapi/dataload batchInfo" json:"-"`
	ID                      string   `xml:"id" json:"id"`
	JobID                   string   `xml:"jobId" json:"jobId"`
	State                   string   `xml:"state" json:"state"`
	StateMessage            string   `xml:"stateMessage,omitempty" json:"stateMessage,omitempty"`
	CreatedDate             string   `xml:"createdDate" json:"createdDate"`
	SystemModstamp          string   `xml:"systemModstamp" json:"systemModstamp"`
	NumberRecordsProcessed  int64    `xml:"numberRecordsProcessed" json:"numberRecordsProcessed"`
	NumberRecordsFailed     int64    `xml:"numberRecordsFailed" json:"numberRecordsFailed"`
	TotalProcessingTime     int64    `xml:"totalProcessingTime" json:"totalProcessingTime"`
	APIActiveProcessingTime int64    `xml:"apiActiveProcessingTime" json:"apiActiveProcessingTime"`
	ApexProcessingTime      int64    `xml:"apexProcessingTime" json:"apexProcessingTime"`
}

// Job states (JobInfo "state") and batch states (BatchInfo "state").
const (
	v1JobOpen           = "Open"
	v1JobClosed         = "Closed"
	v1JobAborted        = "Aborted"
	v1BatchQueued       = "Queued"
	v1BatchCompleted    = "Completed"
	v1BatchFailed       = "Failed"
	v1BatchNotProcessed = "NotProcessed"
)

// v1Error is a Bulk API 1.0 error ("Errors"): an exceptionCode and an
// exceptionMessage, sent with status 400 unless Status says otherwise
// ("HTTP Status Codes").
type v1Error struct {
	XMLName xml.Name `xml:"http://www.force.com/2009/06/asyncapi/dataload error" json:"-"`
	Code    string   `xml:"exceptionCode" json:"exceptionCode"`
	Message string   `xml:"exceptionMessage" json:"exceptionMessage"`
	status  int
}

func v1Err(code, format string, args ...any) *v1Error {
	return &v1Error{Code: code, Message: fmt.Sprintf(format, args...), status: http.StatusBadRequest}
}

// v1Reply writes v as XML, or as JSON when asJSON.
func v1Reply(w http.ResponseWriter, status int, asJSON bool, v any) {
	if asJSON {
		writeJSON(w, status, v)
		return
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", " ")
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(xml.Header + `<error xmlns="` + asyncNS + `"><exceptionCode>Unknown</exceptionCode><exceptionMessage>the fake org could not encode its answer</exceptionMessage></error>`)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func writeV1Error(w http.ResponseWriter, asJSON bool, e *v1Error) {
	v1Reply(w, e.status, asJSON, e)
}

// mediaType is r's Content-Type without parameters, in lower case.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// v1JSON says whether to answer in JSON: for a JSON request, or for a
// request without a body on a JSON job ("JobInfo": contentType JSON
// "Bulk API uses JSON for requests and responses").
func v1JSON(r *http.Request, j *asyncJob) bool {
	switch mediaType(r) {
	case "application/json":
		return true
	case "application/xml", "text/xml", "text/csv":
		return false
	}
	return j != nil && j.info.ContentType == "JSON"
}

var v1VersionPattern = regexp.MustCompile(`^(\d{1,3})\.0$`)

// handleAsync serves /services/async/XX.X/job/...
func (o *Org) handleAsync(w http.ResponseWriter, r *http.Request) {
	asJSON := v1JSON(r, nil)
	segs, ok := pathSegments(strings.TrimPrefix(r.URL.EscapedPath(), "/services/async"))
	if !ok || len(segs) == 0 {
		writeV1Error(w, asJSON, v1Err("InvalidUrl", "the URI %s is not a Bulk API resource", r.URL.Path))
		return
	}
	release, admitted := o.admitAsync(w, r, asJSON)
	if !admitted {
		return
	}
	defer release()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		// "HTTP Status Codes": 405 for a method other than GET or POST.
		w.Header().Set("Allow", "GET, POST")
		writeV1Error(w, asJSON, &v1Error{Code: "InvalidUrl", Message: "HTTP method " + r.Method + " is not allowed: Bulk API resources take GET or POST", status: http.StatusMethodNotAllowed})
		return
	}
	m := v1VersionPattern.FindStringSubmatch(segs[0])
	n := 0
	if m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	if n < oldestVersion || n > newestVersion {
		writeV1Error(w, asJSON, v1Err("InvalidUrl", "API version %s is not served: use %d.0 to %d.0", segs[0], oldestVersion, newestVersion))
		return
	}
	v := fmt.Sprintf("%d.0", n)
	if len(segs) < 2 || segs[1] != "job" {
		// "Errors": InvalidOperation, "Check the spelling of “job” in the URI".
		writeV1Error(w, asJSON, v1Err("InvalidOperation", "Unknown operation in the URI %s: check the spelling of job", r.URL.Path))
		return
	}
	segs = segs[2:]
	if len(segs) == 0 {
		if r.Method != http.MethodPost {
			writeV1Error(w, asJSON, v1Err("InvalidUrl", "a job is created with POST"))
			return
		}
		o.v1CreateJob(w, r, v)
		return
	}
	o.v1.mu.Lock()
	j := o.v1.jobs[segs[0]]
	o.v1.mu.Unlock()
	if j == nil {
		writeV1Error(w, asJSON, v1Err("InvalidJob", "Unable to find job with id %s", segs[0]))
		return
	}
	asJSON = v1JSON(r, j)
	if j.v != v {
		// "Add a Batch to a Job": the version of every batch operation must
		// match the job's. The guide names no error; InvalidJob is the one
		// for a job a request cannot use.
		writeV1Error(w, asJSON, v1Err("InvalidJob", "Job %s was created with API version %s: use the same version for its batches", j.info.ID, j.v))
		return
	}
	switch {
	case len(segs) == 1 && r.Method == http.MethodGet:
		o.v1.mu.Lock()
		info := j.info
		o.v1.mu.Unlock()
		v1Reply(w, http.StatusOK, asJSON, info)
	case len(segs) == 1:
		o.v1UpdateJob(w, r, j, asJSON)
	case len(segs) == 2 && segs[1] == "batch" && r.Method == http.MethodPost:
		o.v1AddBatch(w, r, j, asJSON)
	case len(segs) == 2 && segs[1] == "batch":
		o.v1.mu.Lock()
		list := struct {
			XMLName xml.Name      `xml:"http://www.force.com/2009/06/asyncapi/dataload batchInfoList" json:"-"`
			Batches []v1BatchInfo `xml:"batchInfo" json:"batchInfo"`
		}{Batches: []v1BatchInfo{}}
		for _, b := range j.batches {
			list.Batches = append(list.Batches, b.info)
		}
		o.v1.mu.Unlock()
		v1Reply(w, http.StatusOK, asJSON, list)
	case len(segs) >= 3 && segs[1] == "batch" && r.Method == http.MethodGet:
		o.v1.mu.Lock()
		var b *asyncBatch
		for _, x := range j.batches {
			if x.info.ID == segs[2] {
				b = x
			}
		}
		o.v1.mu.Unlock()
		if b == nil {
			writeV1Error(w, asJSON, v1Err("InvalidBatch", "Unable to find batch %s in job %s", segs[2], j.info.ID))
			return
		}
		o.v1ServeBatch(w, r, j, b, segs[3:], asJSON)
	default:
		writeV1Error(w, asJSON, v1Err("InvalidUrl", "the URI %s is not a Bulk API resource for %s", r.URL.Path, r.Method))
	}
}

// admitAsync authenticates a Bulk API 1.0 call by its X-SFDC-Session header
// ("Set a Session Header"; an OAuth access token serves as the session id)
// and the mutual authentication certificate, and counts it against the API
// allocation as REST calls are. An invalid session answers InvalidSessionId
// with status 400, as "HTTP Status Codes" lists no other status for it.
func (o *Org) admitAsync(w http.ResponseWriter, r *http.Request, asJSON bool) (func(), bool) {
	o.apiRequests.Add(1)
	user, valid := o.sessionFor(r.Header.Get("X-SFDC-Session"))
	if !valid {
		o.unauthorized.Add(1)
		writeV1Error(w, asJSON, v1Err("InvalidSessionId", "Invalid session id"))
		return nil, false
	}
	if !o.mutualAuthOK(r) {
		// As on every other API: 401 for a user that must use mutual TLS
		// and did not (the Bulk API pages do not cover it).
		o.unauthorized.Add(1)
		writeV1Error(w, asJSON, &v1Error{Code: codeMutualAuth, status: http.StatusUnauthorized,
			Message: "The user " + user + " requires mutual authentication: call on port 8443 with a registered client certificate"})
		return nil, false
	}
	release, err := o.limits.acquire()
	if err != nil {
		// "Errors": ExceededQuota.
		writeV1Error(w, asJSON, &v1Error{Code: "ExceededQuota", Message: err.Message, status: err.StatusCode})
		return nil, false
	}
	return release, true
}

// v1JobRequest is a create or update body, XML or JSON.
type v1JobRequest struct {
	Operation           string          `xml:"operation" json:"operation"`
	Object              string          `xml:"object" json:"object"`
	ExternalIDFieldName string          `xml:"externalIdFieldName" json:"externalIdFieldName"`
	ContentType         string          `xml:"contentType" json:"contentType"`
	State               string          `xml:"state" json:"state"`
	ConcurrencyModeXML  string          `xml:"concurrencyMode" json:"-"`
	ConcurrencyMode     json.RawMessage `xml:"-" json:"concurrencyMode"`
}

// readV1JobRequest decodes a job body: JSON for Content-Type
// application/json, XML otherwise.
func readV1JobRequest(r *http.Request, asJSON bool) (v1JobRequest, *v1Error) {
	var req v1JobRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return req, v1Err("ClientInputError", "the request body could not be read")
	}
	if asJSON {
		if err := json.Unmarshal(body, &req); err != nil {
			return req, v1Err("InvalidJob", "the JSON job body could not be parsed: %v", err)
		}
		// JobInfo's concurrencyMode is Parallel or Serial; simple-salesforce
		// sends the enum's ordinal (0 or 1), which Salesforce accepts.
		var s string
		var n int
		switch {
		case len(req.ConcurrencyMode) == 0 || string(req.ConcurrencyMode) == "null":
		case json.Unmarshal(req.ConcurrencyMode, &s) == nil:
			req.ConcurrencyModeXML = s
		case json.Unmarshal(req.ConcurrencyMode, &n) == nil && (n == 0 || n == 1):
			req.ConcurrencyModeXML = []string{"Parallel", "Serial"}[n]
		default:
			return req, v1Err("InvalidJob", "concurrencyMode must be Parallel or Serial, not %s", req.ConcurrencyMode)
		}
		return req, nil
	}
	if err := xml.Unmarshal(body, &struct {
		XMLName xml.Name `xml:"jobInfo"`
		*v1JobRequest
	}{v1JobRequest: &req}); err != nil {
		// "Errors": InvalidXML, "XML contained in the request body is invalid".
		return req, v1Err("InvalidXML", "the XML job body could not be parsed: %v", err)
	}
	return req, nil
}

var v1Operations = []string{"insert", "update", "upsert", "delete", "hardDelete", "query", "queryAll"}

// v1CreateJob: "Create a Job". The operation is case-sensitive ("you get an
// error if you use INSERT instead of insert"); contentType defaults to XML
// (JobInfo); the fake takes CSV and JSON batches only.
func (o *Org) v1CreateJob(w http.ResponseWriter, r *http.Request, v string) {
	asJSON := mediaType(r) == "application/json"
	req, e := readV1JobRequest(r, asJSON)
	if e != nil {
		writeV1Error(w, asJSON, e)
		return
	}
	contentType := valueOr(req.ContentType, "XML")
	mode := valueOr(req.ConcurrencyModeXML, "Parallel")
	obj, known := o.object(req.Object)
	switch {
	case req.State != "":
		e = v1Err("InvalidJob", "a new job cannot set its state")
	case !slices.Contains(v1Operations, req.Operation):
		e = v1Err("InvalidJob", "Invalid operation: %q: use one of %s, in that case", req.Operation, strings.Join(v1Operations, ", "))
	case req.Object == "":
		e = v1Err("InvalidJob", "object is required")
	case !known:
		e = v1Err("InvalidJob", "Unable to find object: %s", req.Object)
	case contentType != "CSV" && contentType != "JSON":
		e = v1Err("InvalidJob", "contentType %s is not served by the fake org: use CSV or JSON", contentType)
	case mode != "Parallel" && mode != "Serial":
		e = v1Err("InvalidJob", "concurrencyMode must be Parallel or Serial, not %s", mode)
	case req.Operation == "upsert" && req.ExternalIDFieldName == "":
		e = v1Err("InvalidJob", "externalIdFieldName is required for upsert")
	case req.Operation != "upsert" && req.ExternalIDFieldName != "":
		e = v1Err("InvalidJob", "externalIdFieldName is only for upsert")
	}
	if e == nil && req.Operation == "upsert" {
		var f *data.Field
		var err *APIError
		o.data.Read(func(rd *data.Reader) {
			so, _ := rd.Object(obj)
			f, err = data.ExternalIDField(so, req.ExternalIDFieldName)
		})
		if err != nil {
			e = v1Err("InvalidJob", "%s", err.Message)
		} else {
			req.ExternalIDFieldName = f.Name
		}
	}
	if e != nil {
		writeV1Error(w, asJSON, e)
		return
	}
	n, _ := strconv.ParseFloat(v, 64)
	var now, user string
	o.data.Read(func(rd *data.Reader) { now, user = rd.Now().UTC().Format(v1Time), rd.UserID() })
	o.v1.mu.Lock()
	if o.v1.jobs == nil {
		o.v1.jobs = map[string]*asyncJob{}
	}
	o.v1.seq++
	j := &asyncJob{v: v, info: v1JobInfo{
		ID: data.NewID("750", 1<<40+o.v1.seq), Operation: req.Operation, Object: obj, CreatedByID: user,
		CreatedDate: now, SystemModstamp: now, State: v1JobOpen, ExternalIDFieldName: req.ExternalIDFieldName,
		ConcurrencyMode: mode, ContentType: contentType, APIVersion: apiVersion(n),
	}}
	o.v1.jobs[j.info.ID] = j
	info := j.info
	o.v1.mu.Unlock()
	v1Reply(w, http.StatusCreated, asJSON, info)
}

// v1Time is the guide's timestamp format: 2015-12-15T21:41:45.000Z.
const v1Time = "2006-01-02T15:04:05.000Z"

// v1UpdateJob: "Close a Job" and "Abort a Job". The guide gives the code
// (InvalidJobState) for a state the job cannot take, not the message.
func (o *Org) v1UpdateJob(w http.ResponseWriter, r *http.Request, j *asyncJob, asJSON bool) {
	req, e := readV1JobRequest(r, mediaType(r) == "application/json")
	if e != nil {
		writeV1Error(w, asJSON, e)
		return
	}
	o.v1.mu.Lock()
	defer o.v1.mu.Unlock()
	state := j.info.State
	switch {
	case req.State == v1JobClosed && state == v1JobOpen:
	case req.State == v1JobAborted && (state == v1JobOpen || state == v1JobClosed):
		for _, b := range j.batches {
			if b.info.State == v1BatchQueued {
				b.info.State = v1BatchNotProcessed
			}
		}
	case req.State == v1JobClosed || req.State == v1JobAborted:
		writeV1Error(w, asJSON, v1Err("InvalidJobState", "Job %s is %s: it cannot become %s", j.info.ID, state, req.State))
		return
	default:
		writeV1Error(w, asJSON, v1Err("InvalidJobState", "state must be Closed or Aborted, not %q", req.State))
		return
	}
	j.info.State = req.State
	j.info.SystemModstamp = o.now().UTC().Format(v1Time)
	v1Reply(w, http.StatusOK, asJSON, j.info)
}

// v1AddBatch: "Add a Batch to a Job" and, for query jobs, "Use Bulk Query"
// (the body is the SOQL statement as plain text, sent with the job's
// content type). The batch is processed before the answer.
func (o *Org) v1AddBatch(w http.ResponseWriter, r *http.Request, j *asyncJob, asJSON bool) {
	o.v1.mu.Lock()
	state, contentType, query := j.info.State, j.info.ContentType, j.info.Operation == "query" || j.info.Operation == "queryAll"
	o.v1.mu.Unlock()
	if state != v1JobOpen {
		writeV1Error(w, asJSON, v1Err("InvalidJobState", "Job %s is %s: batches can be added to an Open job only", j.info.ID, state))
		return
	}
	want := map[string]string{"CSV": "text/csv", "JSON": "application/json"}[contentType]
	if mt := mediaType(r); mt != want {
		writeV1Error(w, asJSON, v1Err("InvalidBatch", "a batch of a %s job is sent with Content-Type %s, not %q", contentType, want, mt))
		return
	}
	var body io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			writeV1Error(w, asJSON, v1Err("InvalidBatch", "the gzip body could not be read: %v", err))
			return
		}
		body = zr
	default:
		// "HTTP Status Codes": 415, "The only valid compression value is gzip".
		writeV1Error(w, asJSON, &v1Error{Code: "InvalidBatch", Message: "Content-Encoding " + enc + " is not supported: use gzip", status: http.StatusUnsupportedMediaType})
		return
	}
	f, err := o.bulk.File("v1-request-*")
	if err != nil {
		writeV1Error(w, asJSON, &v1Error{Code: "Unknown", Message: "the fake org could not store the batch", status: http.StatusInternalServerError})
		return
	}
	n, err := io.Copy(f, io.LimitReader(body, v1MaxBatchBytes+1))
	err = errors.Join(err, f.Close())
	if err != nil || n > v1MaxBatchBytes {
		_ = os.Remove(f.Name())
		if err != nil {
			writeV1Error(w, asJSON, v1Err("InvalidBatch", "the batch could not be read: %v", err))
			return
		}
		// The limit is documented; the error is not.
		writeV1Error(w, asJSON, v1Err("InvalidBatch", "a batch is at most 10 MB (Bulk API limits): split the data into smaller batches"))
		return
	}
	o.v1.mu.Lock()
	if j.info.State != v1JobOpen { // closed or aborted meanwhile
		o.v1.mu.Unlock()
		_ = os.Remove(f.Name())
		writeV1Error(w, asJSON, v1Err("InvalidJobState", "Job %s is no longer Open", j.info.ID))
		return
	}
	o.v1.seq++
	now := o.now().UTC().Format(v1Time)
	b := &asyncBatch{request: f.Name(), info: v1BatchInfo{
		ID: data.NewID("751", 1<<40+o.v1.seq), JobID: j.info.ID, State: v1BatchQueued, CreatedDate: now, SystemModstamp: now,
	}}
	j.batches = append(j.batches, b)
	j.info.NumberBatchesTotal++
	j.info.NumberBatchesQueued++
	queued := b.info
	o.v1.mu.Unlock()

	start := time.Now()
	var res v1Outcome
	if query {
		res = o.v1RunQuery(j, b)
	} else {
		res = o.v1RunIngest(j, b)
	}
	o.v1.mu.Lock()
	ms := time.Since(start).Milliseconds()
	b.result, b.resultID = res.file, res.resultID
	b.info.NumberRecordsProcessed, b.info.NumberRecordsFailed = res.processed, res.failed
	b.info.TotalProcessingTime, b.info.APIActiveProcessingTime = ms, ms
	b.info.SystemModstamp = o.now().UTC().Format(v1Time)
	j.info.NumberBatchesQueued--
	if res.failure != "" {
		b.info.State, b.info.StateMessage = v1BatchFailed, res.failure
		j.info.NumberBatchesFailed++
	} else {
		b.info.State = v1BatchCompleted
		j.info.NumberBatchesCompleted++
	}
	j.info.NumberRecordsProcessed += res.processed
	j.info.NumberRecordsFailed += res.failed
	j.info.TotalProcessingTime += ms
	j.info.APIActiveProcessingTime += ms
	j.info.SystemModstamp = b.info.SystemModstamp
	o.v1.mu.Unlock()
	v1Reply(w, http.StatusCreated, asJSON, queued)
}

// v1Outcome is what processing a batch left.
type v1Outcome struct {
	file      string // results or query records
	resultID  string
	processed int64
	failed    int64
	failure   string // the stateMessage of a Failed batch
}

// v1ServeBatch serves a batch's info, request, results and query results.
func (o *Org) v1ServeBatch(w http.ResponseWriter, r *http.Request, j *asyncJob, b *asyncBatch, rest []string, asJSON bool) {
	o.v1.mu.Lock()
	info, request, result, resultID, contentType := b.info, b.request, b.result, b.resultID, j.info.ContentType
	query := j.info.Operation == "query" || j.info.Operation == "queryAll"
	o.v1.mu.Unlock()
	mimeType := map[string]string{"CSV": "text/csv", "JSON": "application/json"}[contentType]
	switch {
	case len(rest) == 0:
		// "Get Information for a Batch".
		v1Reply(w, http.StatusOK, asJSON, info)
	case len(rest) == 1 && rest[0] == "request":
		// "Get a Batch Request".
		serveV1File(w, mimeType, request)
	case rest[0] != "result" || len(rest) > 2:
		writeV1Error(w, asJSON, v1Err("InvalidUrl", "the URI %s is not a Bulk API resource", r.URL.Path))
	case info.State != v1BatchCompleted && !(info.State == v1BatchFailed && result != ""):
		// "Get Batch Results": results of a batch that completed processing.
		writeV1Error(w, asJSON, v1Err("InvalidBatch", "Batch %s is %s: its results are not available", info.ID, info.State))
	case len(rest) == 1 && query:
		// "Use Bulk Query": the batch's result ids, a result-list.
		if contentType == "JSON" {
			writeJSON(w, http.StatusOK, []string{resultID})
			return
		}
		v1Reply(w, http.StatusOK, false, struct {
			XMLName xml.Name `xml:"http://www.force.com/2009/06/asyncapi/dataload result-list"`
			Result  []string `xml:"result"`
		}{Result: []string{resultID}})
	case len(rest) == 1:
		serveV1File(w, mimeType, result)
	case !query || rest[1] != resultID:
		writeV1Error(w, asJSON, v1Err("InvalidBatch", "Batch %s has no result %s", info.ID, rest[1]))
	default:
		serveV1File(w, mimeType, result)
	}
}

// serveV1File answers with a file's content.
func serveV1File(w http.ResponseWriter, contentType, path string) {
	f, err := os.Open(path)
	if err != nil {
		writeV1Error(w, contentType == "application/json", &v1Error{Code: "Unknown", Message: "the fake org lost the file", status: http.StatusInternalServerError})
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, f)
}

// v1Row is one record of an ingest batch: its fields, and the Id or
// external id that names the record to change.
type v1Row struct {
	fields map[string]any
	id     string
	ext    string
	err    *APIError // a row that cannot be applied
}

// v1RunIngest applies an ingest batch row by row and writes its results:
// CSV rows "Id","Success","Created","Error", or JSON objects with success,
// created, id and errors ("Get Batch Results").
func (o *Org) v1RunIngest(j *asyncJob, b *asyncBatch) v1Outcome {
	o.v1.mu.Lock()
	info, request := j.info, b.request
	o.v1.mu.Unlock()
	raw, err := os.ReadFile(request)
	if err != nil {
		return v1Outcome{failure: "InvalidBatch : the fake org could not read the batch"}
	}
	var so *SObject
	o.data.Read(func(rd *data.Reader) { so, _ = rd.Object(info.Object) })
	var rows []v1Row
	var failure string
	if info.ContentType == "JSON" {
		rows, failure = v1JSONRows(so, info, raw)
	} else {
		rows, failure = v1CSVRows(so, info, raw)
	}
	if failure != "" {
		return v1Outcome{failure: failure}
	}
	if len(rows) > v1MaxBatchRecords {
		return v1Outcome{failure: fmt.Sprintf("InvalidBatch : a batch holds at most %d records and this one has %d: split it", v1MaxBatchRecords, len(rows))}
	}
	if info.Operation == "insert" || info.Operation == "upsert" {
		// As for Bulk API 2.0: what the fake would not keep is refused
		// whole, never reported as a success and dropped (an upsert can
		// create every row).
		o.v1.mu.Lock()
		over := j.inserted+int64(len(rows)) > o.bulk.MaxRows()
		if !over {
			j.inserted += int64(len(rows))
		}
		o.v1.mu.Unlock()
		if over {
			return v1Outcome{failure: fmt.Sprintf("FakeOrgRowCap : the fake org stores at most %d rows of a Bulk API insert or upsert job "+
				"(salesforcetest Config.BulkStoreMaxRecords, sfmtls fake-org --bulk-store-max): no row of this batch was applied", o.bulk.MaxRows())}
		}
	}
	f, err := o.bulk.File("v1-result-*")
	if err != nil {
		return v1Outcome{failure: "InvalidBatch : the fake org could not write results"}
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	out := v1Outcome{file: f.Name()}
	// A failed row's errors have the fields of the API's Error type
	// (statusCode, message, fields); the guide's JSON example shows
	// successes only.
	type jsonError struct {
		StatusCode string   `json:"statusCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	}
	type jsonResult struct {
		Success bool        `json:"success"`
		Created bool        `json:"created"`
		ID      *string     `json:"id"`
		Errors  []jsonError `json:"errors"`
	}
	var results []jsonResult
	if info.ContentType == "CSV" {
		bw.WriteString(`"Id","Success","Created","Error"` + "\n")
	}
	for _, row := range rows {
		id, created, e := row.id, false, row.err
		if e == nil {
			id, created, e = o.v1Apply(so, info, row)
		}
		out.processed++
		if e != nil {
			out.failed++
			id = ""
		}
		if info.ContentType == "JSON" {
			res := jsonResult{Success: e == nil, Created: created, Errors: []jsonError{}}
			if id != "" {
				res.ID = &id
			}
			if e != nil {
				res.Errors = append(res.Errors, jsonError{StatusCode: e.ErrorCode, Message: e.Message, Fields: append([]string{}, e.Fields...)})
			}
			results = append(results, res)
			continue
		}
		msg := ""
		if e != nil {
			// Salesforce's CSV form of an error: CODE:message:fields --
			msg = e.ErrorCode + ":" + e.Message + ":" + strings.Join(e.Fields, ",") + " --"
		}
		rw := &bulkjob.ResultWriter{W: bw, Delim: ",", EOL: "\n"}
		rw.Row([]string{id, strconv.FormatBool(e == nil), strconv.FormatBool(created), msg})
	}
	if info.ContentType == "JSON" {
		if results == nil {
			results = []jsonResult{}
		}
		if err := json.NewEncoder(bw).Encode(results); err != nil {
			return v1Outcome{failure: "InvalidBatch : the fake org could not write results"}
		}
	}
	if err := bw.Flush(); err != nil {
		return v1Outcome{failure: "InvalidBatch : the fake org could not write results"}
	}
	return out
}

// v1CSVRows reads a CSV batch: a header of field names, then one record a
// row; an empty cell is left out and #N/A sets null ("Valid CSV Record Rows").
func v1CSVRows(so *SObject, info v1JobInfo, raw []byte) ([]v1Row, string) {
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff"))))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, "InvalidBatch : the CSV has no header row"
	}
	names := make([]string, len(header))
	for i, h := range header {
		f, ok := so.Field(strings.TrimSpace(h))
		if !ok {
			// The stateMessage Salesforce gives for a column it cannot map.
			return nil, "InvalidBatch : Field name not found : " + h
		}
		names[i] = f.Name
	}
	var rows []v1Row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, ""
		}
		if err != nil {
			return nil, "InvalidBatch : the CSV could not be parsed: " + err.Error()
		}
		if len(rows) > v1MaxBatchRecords {
			return rows, "" // counted as over the limit by the caller
		}
		row := v1Row{fields: map[string]any{}}
		if len(rec) != len(names) {
			row.err = apiErr(http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("the row has %d values for %d columns", len(rec), len(names)))
		}
		for i := 0; i < len(rec) && i < len(names); i++ {
			row.set(info, names[i], rec[i], rec[i] == "", rec[i] == "#N/A")
		}
		rows = append(rows, row)
	}
}

// set files one value of a row under its field.
func (row *v1Row) set(info v1JobInfo, name string, v any, empty, null bool) {
	switch {
	case name == "Id":
		row.id, _ = v.(string)
	case info.Operation == "upsert" && name == info.ExternalIDFieldName:
		row.ext = fmt.Sprint(v)
		if null || empty {
			row.ext = ""
		}
	case empty:
	case null:
		row.fields[name] = nil
	default:
		row.fields[name] = v
	}
}

// v1JSONRows reads a JSON batch: an array of records keyed by field name
// ("Add a Batch to a Job", JSON example). A null value sets null; nested
// objects (a parent named by its external id) are not modelled and fail
// their row.
func v1JSONRows(so *SObject, info v1JobInfo, raw []byte) ([]v1Row, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var recs []map[string]any
	if err := dec.Decode(&recs); err != nil {
		return nil, "InvalidBatch : the JSON batch must be an array of records: " + err.Error()
	}
	rows := make([]v1Row, 0, len(recs))
	for _, rec := range recs {
		row := v1Row{fields: map[string]any{}}
		for k, v := range rec {
			if k == "attributes" {
				continue
			}
			f, ok := so.Field(k)
			if !ok {
				return nil, "InvalidBatch : Field name not found : " + k
			}
			switch x := v.(type) {
			case map[string]any, []any:
				row.err = apiErr(http.StatusBadRequest, "INVALID_FIELD", "the fake org does not take nested records in a Bulk API batch: "+k, k)
				continue
			case json.Number:
				v = x.String()
			}
			if f.Name == "Id" {
				s, _ := v.(string)
				row.id = s
				continue
			}
			row.set(info, f.Name, v, false, v == nil)
		}
		rows = append(rows, row)
	}
	return rows, ""
}

// v1Apply applies one row as its own transaction, as Bulk API 2.0 does.
func (o *Org) v1Apply(so *SObject, info v1JobInfo, row v1Row) (string, bool, *APIError) {
	return bulkjob.ApplyRow(o.data, so, info.Operation, info.ExternalIDFieldName, bulkjob.Row{Fields: row.fields, ID: row.id, ExternalID: row.ext})
}

// v1RunQuery runs a query batch and writes its records: CSV with the
// columns in SELECT order and parents' fields as Account.Name, or a JSON
// array of records as the REST API returns them ("Use Bulk Query"). What
// the page says Bulk API queries do not support (aggregate functions,
// GROUP BY, OFFSET, parent-to-child subqueries) fails the batch.
func (o *Org) v1RunQuery(j *asyncJob, b *asyncBatch) v1Outcome {
	o.v1.mu.Lock()
	info, request, v := j.info, b.request, j.v
	o.v1.mu.Unlock()
	raw, err := os.ReadFile(request)
	if err != nil {
		return v1Outcome{failure: "InvalidBatch : the fake org could not read the batch"}
	}
	fail := func(code, msg string) v1Outcome {
		// The stateMessage Salesforce gives for a query it refuses.
		return v1Outcome{failure: "InvalidBatch : Failed to process query: " + code + ": " + msg}
	}
	q, err := soqlengine.Parse(string(raw))
	var qe *soqlengine.Error
	if errors.As(err, &qe) {
		return fail(qe.Code, qe.Message)
	} else if err != nil {
		return fail("MALFORMED_QUERY", err.Error())
	}
	var res *soqlengine.Result
	o.data.Read(func(rd *data.Reader) {
		res, err = soqlengine.Execute(q, soqlSchema{rd}, rd,
			soqlengine.Options{Now: rd.Now(), APIVersion: v, IncludeDeleted: info.Operation == "queryAll"})
	})
	if errors.As(err, &qe) {
		return fail(qe.Code, qe.Message)
	} else if err != nil {
		return fail("UNKNOWN_EXCEPTION", err.Error())
	}
	unsupported := res.CountOnly || res.Aggregate
	for _, rec := range res.Records {
		for _, f := range rec.Fields {
			if _, sub := f.Value.(*soqlengine.Result); sub {
				unsupported = true
			}
		}
	}
	if unsupported {
		return fail("FeatureNotEnabled", "Bulk API query does not support aggregate functions, GROUP BY or parent-to-child subqueries")
	}
	f, err := o.bulk.File("v1-query-*")
	if err != nil {
		return v1Outcome{failure: "InvalidBatch : the fake org could not write results"}
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	if info.ContentType == "JSON" {
		records := make([]soqlengine.Record, len(res.Records))
		o.data.Read(func(rd *data.Reader) {
			for i, rec := range res.Records {
				records[i] = epochDates(rec, soqlSchema{rd})
			}
		})
		if err := json.NewEncoder(bw).Encode(records); err != nil {
			return v1Outcome{failure: "InvalidBatch : the fake org could not write results"}
		}
	} else {
		var columns []string
		seen := map[string]bool{}
		for _, rec := range res.Records {
			for _, name := range bulkjob.Flatten(rec, "", nil, func(string, any) {}) {
				if !seen[name] {
					seen[name] = true
					columns = append(columns, name)
				}
			}
		}
		rw := &bulkjob.ResultWriter{W: bw, Delim: ",", EOL: "\n"}
		if len(res.Records) > 0 {
			rw.Row(columns)
		}
		index := make(map[string]int, len(columns))
		for i, c := range columns {
			index[c] = i
		}
		cells := make([]string, len(columns))
		for _, rec := range res.Records {
			clear(cells)
			bulkjob.Flatten(rec, "", nil, func(name string, v any) { cells[index[name]] = bulkjob.FormatCell(v) })
			rw.Row(cells)
		}
	}
	if err := bw.Flush(); err != nil {
		return v1Outcome{failure: "InvalidBatch : the fake org could not write results"}
	}
	o.v1.mu.Lock()
	o.v1.seq++
	id := data.NewID("752", 1<<40+o.v1.seq)
	o.v1.mu.Unlock()
	return v1Outcome{file: f.Name(), resultID: id, processed: int64(len(res.Records))}
}

// epochDates writes a record's date and dateTime values as milliseconds
// since 1970, as Bulk API 1.0 JSON query results carry them: the guide does
// not say, and simple-salesforce/simple-salesforce#290 shows CreatedDate
// 1546659665000 from a bulk query where the REST API gives
// "2019-01-05T03:41:05.000+0000". A client that reads the REST form there
// must fail on the fake as it would on Salesforce.
func epochDates(rec soqlengine.Record, sc soqlengine.Schema) soqlengine.Record {
	obj, known := sc.Object(rec.Type)
	out := rec
	out.Fields = make([]soqlengine.Value, len(rec.Fields))
	for i, f := range rec.Fields {
		v := f.Value
		switch x := v.(type) {
		case *soqlengine.Record:
			if x != nil {
				y := epochDates(*x, sc)
				v = &y
			}
		case string:
			if !known {
				break
			}
			field, ok := obj.Field(f.Name)
			if !ok {
				break
			}
			switch field.Type {
			case data.TypeDate:
				if d, err := time.Parse("2006-01-02", x); err == nil {
					v = d.UnixMilli()
				}
			case data.TypeDateTime:
				if d, ok := data.ParseDateTime(x); ok {
					v = d.UnixMilli()
				}
			}
		}
		out.Fields[i] = soqlengine.Value{Name: f.Name, Value: v}
	}
	return out
}
