package bulkjob

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// Upload stores a job's data ("Upload Job Data"): body is the CSV, already
// decompressed, of at most MaxUpload bytes.
func (js *Jobs) Upload(j *Job, body io.Reader) *data.APIError {
	f, err := js.File("upload-*.csv")
	if err != nil {
		return data.NewAPIError(http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "the fake org could not store the upload")
	}
	cw := &countingWriter{w: f, limit: MaxUpload}
	_, err = io.Copy(cw, body)
	err = errors.Join(err, f.Close())
	if err != nil {
		_ = os.Remove(f.Name())
		if errors.Is(err, errTooLarge) {
			// The docs give the limit, not the error; EXCEEDED_MAX_SIZE_REQUEST
			// is Salesforce's StatusCode for a request over a size limit.
			return data.NewAPIError(http.StatusRequestEntityTooLarge, "EXCEEDED_MAX_SIZE_REQUEST",
				"A request can provide CSV data that does not in total exceed 150 MB of base64 encoded content (about 100 MB of data)")
		}
		return data.NewAPIError(http.StatusBadRequest, "INVALIDBATCH", "the upload could not be read: "+err.Error())
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	if j.info.State != StateOpen || j.upload != "" { // aborted or uploaded meanwhile
		_ = os.Remove(f.Name())
		return invalidJobState("Job " + j.info.ID + " is no longer Open")
	}
	j.upload, j.uploadRows = f.Name(), cw.lines
	return nil
}

// runIngest processes the upload row by row.
func (js *Jobs) runIngest(j *Job) {
	js.mu.Lock()
	upload, rows, info := j.upload, j.uploadRows, j.info
	js.mu.Unlock()
	if upload == "" {
		js.fail(j, "InvalidBatch : no data was uploaded to the job before UploadComplete")
		return
	}
	js.set(j, func(i *Info) { i.State = StateInProgress })
	start := time.Now()
	in, err := os.Open(upload)
	if err != nil {
		js.fail(j, "InternalError : the fake org could not read the upload")
		return
	}
	defer in.Close()
	cr := newCSVReader(in, j.delim)
	header, err := cr.Read()
	if err != nil {
		js.fail(j, "InvalidBatch : the CSV has no header row")
		return
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	var so *data.SObject
	var unknown string
	js.store.Read(func(rd *data.Reader) {
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
		js.fail(j, "InvalidBatch : Field name not found : "+unknown)
		return
	}
	if info.Operation == "insert" || info.Operation == "upsert" {
		// Rows that create records stay in memory: refuse the job whole
		// rather than keep part of it. rows counts line breaks, an upper
		// bound (quoted values may hold some): count exactly when it passes.
		if rows-1 > js.maxRows {
			if n, exact := countCSVRows(upload, j.delim); !exact || n > js.maxRows {
				js.fail(j, fmt.Sprintf("FakeOrgRowCap : the fake org stores at most %d rows of a Bulk API insert or upsert job "+
					"(salesforcetest Config.BulkStoreMaxRecords, sfmtls fake-org --bulk-store-max) and this job has %s: "+
					"no row was applied; split the CSV or raise the cap", js.maxRows, rowCount(n, exact, rows-1)))
				return
			}
		}
	}
	files := [2]*os.File{}
	writers := [2]*ResultWriter{}
	for i, pattern := range []string{"success-*.csv", "failed-*.csv"} {
		f, err := js.File(pattern)
		if err != nil {
			js.fail(j, "InternalError : the fake org could not write results")
			return
		}
		defer f.Close()
		files[i] = f
		writers[i] = &ResultWriter{W: bufio.NewWriterSize(f, 64<<10), Delim: string(j.delim), EOL: j.eol}
	}
	writers[0].Row([]string{"sf__Id", "sf__Created"}, header)
	writers[1].Row([]string{"sf__Id", "sf__Error"}, header)
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
		var rowErr *data.APIError
		if err != nil {
			rowErr = data.NewAPIError(http.StatusBadRequest, "INVALID_FIELD", "the CSV row could not be read: "+err.Error())
		} else if len(rec) != len(header) {
			rowErr = data.NewAPIError(http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("the row has %d values for %d header columns", len(rec), len(header)))
		} else {
			id, created, rowErr = js.ingestRow(so, info, header, rec)
		}
		if rowErr != nil {
			failed++
			writers[1].Row([]string{id, rowErr.ErrorCode + ":" + rowErr.Message}, rec)
		} else {
			writers[0].Row([]string{id, strconv.FormatBool(created)}, rec)
		}
		if processed%1000 == 0 {
			js.set(j, func(i *Info) { i.NumberRecordsProcessed, i.NumberRecordsFailed = processed, failed })
		}
	}
	for _, rw := range writers {
		if err := rw.W.Flush(); err != nil {
			js.fail(j, "InternalError : the fake org could not write results")
			return
		}
	}
	elapsed := time.Since(start).Milliseconds()
	js.mu.Lock()
	defer js.mu.Unlock()
	j.success, j.failed, j.handled = files[0].Name(), files[1].Name(), handled
	j.info.NumberRecordsProcessed, j.info.NumberRecordsFailed = processed, failed
	j.info.TotalProcessingTime, j.info.APIActiveProcessingTime = elapsed, elapsed
	if !j.abort.Load() {
		j.info.State = StateComplete
	}
}

// ingestRow applies one row in a transaction of its own: empty cells are
// left out (ignored on update), #N/A sets null ("Valid CSV Record Rows").
// It returns the record id and whether it was created.
func (js *Jobs) ingestRow(so *data.SObject, info Info, header, rec []string) (string, bool, *data.APIError) {
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
	return ApplyRow(js.store, so, info.Operation, info.ExternalIDFieldName, Row{Fields: fields, ID: id, ExternalID: ext})
}

// Row is one record of an ingest job or batch, decoded: its fields, and the
// Id or external id value that names the record to change.
type Row struct {
	Fields     map[string]any
	ID         string
	ExternalID string
}

// ApplyRow applies one row of a Bulk API ingest operation (insert, update,
// upsert on extField, delete, hardDelete) to object so in a transaction of
// its own, for Bulk API 2.0 and 1.0 alike. It returns the record id and
// whether it was created.
func ApplyRow(store *data.Store, so *data.SObject, operation, extField string, row Row) (string, bool, *data.APIError) {
	id, ext, fields := row.ID, row.ExternalID, row.Fields
	missingID := data.NewAPIError(http.StatusBadRequest, "MISSING_ARGUMENT", "Id not specified in an "+operation+" call")
	switch operation {
	case "insert":
		if id != "" {
			return "", false, data.NewAPIError(http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call")
		}
		var newID string
		err := store.Transaction(func(t *data.Txn) *data.APIError {
			var e *data.APIError
			newID, e = t.Create(so.Name, fields)
			return e
		})
		return newID, err == nil, err
	case "update":
		if id == "" {
			return "", false, missingID
		}
		return idOrText(id), false, store.Transaction(func(t *data.Txn) *data.APIError { return t.Update(so.Name, id, fields) })
	case "upsert":
		if ext == "" {
			return "", false, data.NewAPIError(http.StatusBadRequest, "MISSING_ARGUMENT", extField+" not specified")
		}
		var res data.UpsertResult
		err := store.Transaction(func(t *data.Txn) *data.APIError {
			var e *data.APIError
			res, _, e = t.Upsert(so.Name, extField, ext, fields, false)
			return e
		})
		return res.ID, res.Created, err
	default: // delete, hardDelete
		if id == "" {
			return "", false, missingID
		}
		id18, _ := data.NormalizeID(id)
		return idOrText(id), false, store.Transaction(func(t *data.Txn) *data.APIError {
			if err := t.Delete(so.Name, id); err != nil {
				return err
			}
			if operation == "hardDelete" {
				t.Purge(id18) // hard-deleted records skip the recycle bin
			}
			return nil
		})
	}
}

// idOrText is an id in its 18-character form, or as given when it is not one.
func idOrText(id string) string {
	if id18, ok := data.NormalizeID(id); ok {
		return id18
	}
	return id
}

// IngestResults returns what writes an ingest job's result CSV ("Get Job
// Successful Record Results", "Get Job Failed Record Results", "Get Job
// Unprocessed Record Results"; kind is successfulResults, failedResults or
// unprocessedrecords). The docs do not say what a job still in progress
// answers; the fake serves results once the job is JobComplete, Failed or
// Aborted and answers INVALIDJOBSTATE before.
func (js *Jobs) IngestResults(j *Job, kind string) (func(io.Writer) error, *data.APIError) {
	js.mu.Lock()
	state, upload, success, failed, handled := j.info.State, j.upload, j.success, j.failed, j.handled
	js.mu.Unlock()
	if !terminal(state) {
		return nil, invalidJobState("Job " + j.info.ID + " is " + state + ": results are available once it is JobComplete, Failed or Aborted")
	}
	switch kind {
	case "successfulResults", "failedResults":
		path := success
		if kind == "failedResults" {
			path = failed
		}
		return func(out io.Writer) error {
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
		}, nil
	default:
		// The uploaded rows from the first one not handled.
		return func(out io.Writer) error {
			if upload == "" {
				return nil
			}
			f, err := os.Open(upload)
			if err != nil {
				return err
			}
			defer f.Close()
			return copyUnprocessed(out, f, j.delim, j.eol, handled)
		}, nil
	}
}
