package salesforcetest

// Bulk API 2.0, as the "Bulk API 2.0 and Bulk API Developer Guide" documents
// it: ingest jobs (Create a Job, Upload Job Data, Upload Complete, Abort,
// Delete, Get Job Info, Get All Jobs, successful/failed/unprocessed results)
// and query jobs (Create a Query Job, Get Results with Sforce-Locator and
// maxRecords). Every call goes through handleData, so it is authenticated and
// counted against the API allocation like any REST call. These handlers only
// translate HTTP: the jobs, their files and their work are
// internal/bulkjob's. An insert or upsert job with more rows than
// Config.BulkStoreMaxRecords ends Failed before any row is applied, its
// errorMessage naming the cap, so no row the fake did not keep is reported
// as a success (bench/README.md, "The fake org's Bulk store", has the
// memory figures).

import (
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/bulkjob"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// Ingest is available from API 41.0 and query jobs from 47.0 ("Create a
// Job", "Create a Query Job").
const (
	ingestSince = 41
	querySince  = 47
)

// newBulkJobs returns the org's Bulk API 2.0 jobs, on its store.
func (o *Org) newBulkJobs(maxRows int) *bulkjob.Jobs {
	return bulkjob.New(bulkjob.Config{Store: o.data, MaxRows: maxRows,
		Query: func(q *soqlengine.Query, v string, all bool) (res *soqlengine.Result, err error) {
			o.data.Read(func(rd *data.Reader) {
				res, err = soqlengine.Execute(q, soqlSchema{rd}, rd,
					soqlengine.Options{Now: rd.Now(), APIVersion: v, IncludeDeleted: all})
			})
			return res, err
		}})
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
			// "Get All Jobs": one page with every job of the kind.
			writeJSON(w, http.StatusOK, map[string]any{"done": true, "records": o.bulk.List(query), "nextRecordsUrl": nil})
		} else if query {
			o.handleCreateQueryJob(w, r, v)
		} else {
			o.handleCreateIngestJob(w, r, v)
		}
		return
	}
	j, ok := o.bulk.Get(segs[1], query)
	if !ok {
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
			writeJSON(w, http.StatusOK, o.bulk.Info(j))
		case http.MethodPatch:
			o.handlePatchJob(w, r, j)
		default:
			if err := o.bulk.Delete(j); err != nil {
				writeAPIError(w, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	case !query && len(segs) == 3 && segs[2] == "batches":
		if allow(w, r, http.MethodPut) {
			o.handleUpload(w, r, j)
		}
	case !query && len(segs) == 3 && slices.Contains([]string{"successfulResults", "failedResults", "unprocessedrecords"}, segs[2]):
		if allow(w, r, http.MethodGet) {
			write, err := o.bulk.IngestResults(j, segs[2])
			if err != nil {
				writeAPIError(w, err)
				return
			}
			serveCSV(w, r, write)
		}
	case query && len(segs) == 3 && segs[2] == "results":
		if allow(w, r, http.MethodGet) {
			o.handleQueryResults(w, r, v, j)
		}
	default:
		writeAPIError(w, notFound())
	}
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

// handleCreateIngestJob: "Create a Job".
func (o *Org) handleCreateIngestJob(w http.ResponseWriter, r *http.Request, v string) {
	var req bulkjob.IngestRequest
	if err := readJobRequest(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	info, err := o.bulk.CreateIngest(v, req)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// handleUpload: "Upload Job Data" — PUT text/csv, 201 with no body. The
// body may be compressed (REST API Developer Guide, "Compression Headers":
// Content-Encoding gzip or deflate).
func (o *Org) handleUpload(w http.ResponseWriter, r *http.Request, j *bulkjob.Job) {
	if err := o.bulk.CheckUpload(j); err != nil {
		writeAPIError(w, err)
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
	if err := o.bulk.Upload(j, body); err != nil {
		writeAPIError(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// handlePatchJob: "Upload Complete" and "Abort a Job".
func (o *Org) handlePatchJob(w http.ResponseWriter, r *http.Request, j *bulkjob.Job) {
	var req struct{ State string }
	if err := readJobRequest(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	info, err := o.bulk.Patch(j, req.State)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// serveCSV writes a CSV, gzip-compressed when the client accepts it ("Use
// Compression for Bulk API 2.0 Responses").
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

// handleCreateQueryJob: "Create a Query Job". The SOQL is parsed at once and
// a malformed query is refused with the REST query errors (the Bulk pages
// do not show the error body); the job starts as UploadComplete and runs.
func (o *Org) handleCreateQueryJob(w http.ResponseWriter, r *http.Request, v string) {
	var req bulkjob.QueryRequest
	if err := readJobRequest(r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	if err := bulkjob.CheckQuery(req); err != nil {
		writeAPIError(w, err)
		return
	}
	q, err := soqlengine.Parse(req.Query)
	if err != nil {
		writeQueryError(w, err)
		return
	}
	info, apiErr := o.bulk.CreateQuery(v, req, q)
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// handleQueryResults: "Get Results for a Query Job", a page at a time with
// Sforce-Locator and Sforce-NumberOfRecords.
func (o *Org) handleQueryResults(w http.ResponseWriter, r *http.Request, v string, j *bulkjob.Job) {
	qv := r.URL.Query()
	page, err := o.bulk.QueryResults(j, v, qv.Get("locator"), qv.Get("maxRecords"))
	if err != nil {
		writeAPIError(w, err)
		return
	}
	w.Header().Set("Sforce-Locator", page.Locator)
	w.Header().Set("Sforce-NumberOfRecords", strconv.FormatInt(page.Records, 10))
	serveCSV(w, r, page.Write)
}

// BulkJobCount returns how many Bulk API 2.0 jobs the org holds, for tests
// that check jobs are deleted.
func (d Data) BulkJobCount() int { return d.o.bulk.Count() }
