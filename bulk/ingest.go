package bulk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/klauspost/compress/gzip"
)

// IngestSpec describes an ingest job ("Create a Job").
type IngestSpec struct {
	Object    string
	Operation Operation
	// ExternalIDField is required for Upsert: the field that matches rows to
	// records; it must be a column of the CSV.
	ExternalIDField string
	// Format of the CSV: column delimiter and line ending (default COMMA, LF).
	Format Format
	// AssignmentRuleID optionally names a case or lead assignment rule.
	AssignmentRuleID string
}

func (s IngestSpec) check() error {
	if s.Object == "" {
		return fmt.Errorf("%w: IngestSpec.Object is empty: name the sObject, e.g. Account", ErrFormat)
	}
	switch s.Operation {
	case Insert, Update, Delete, HardDelete:
		if s.ExternalIDField != "" {
			return fmt.Errorf("%w: ExternalIDField is only for upsert, not %s", ErrFormat, s.Operation)
		}
	case Upsert:
		if s.ExternalIDField == "" {
			return fmt.Errorf("%w: upsert needs IngestSpec.ExternalIDField, the external id field that matches rows to records", ErrFormat)
		}
	default:
		return fmt.Errorf("%w: operation %q (want insert, update, upsert, delete or hardDelete)", ErrFormat, s.Operation)
	}
	_, err := s.Format.delimiter()
	return err
}

// IngestJob is one Bulk API 2.0 ingest job.
type IngestJob struct {
	b      *Client
	ID     string
	format Format
}

// CreateIngestJob creates an Open ingest job (POST jobs/ingest). The POST is
// never sent twice (see "What is retried").
func (b *Client) CreateIngestJob(ctx context.Context, spec IngestSpec) (*IngestJob, JobInfo, error) {
	if err := spec.check(); err != nil {
		return nil, JobInfo{}, err
	}
	delim, ending := spec.Format.jobFields()
	body := map[string]string{
		"object": spec.Object, "operation": string(spec.Operation), "contentType": "CSV",
		"columnDelimiter": delim, "lineEnding": ending,
	}
	if spec.ExternalIDField != "" {
		body["externalIdFieldName"] = spec.ExternalIDField
	}
	if spec.AssignmentRuleID != "" {
		body["assignmentRuleId"] = spec.AssignmentRuleID
	}
	var info JobInfo
	if err := b.doJSON(ctx, http.MethodPost, "jobs/ingest", body, &info); err != nil {
		return nil, info, err
	}
	if info.ID == "" {
		return nil, info, errors.New("bulk: Salesforce created an ingest job but sent no id")
	}
	return &IngestJob{b: b, ID: info.ID, format: spec.Format}, info, nil
}

// IngestJob returns an existing ingest job by id, e.g. to fetch its results
// later; f is its CSV format.
func (b *Client) IngestJob(id string, f Format) *IngestJob {
	return &IngestJob{b: b, ID: id, format: f}
}

func (j *IngestJob) path(elems ...string) string {
	p := "jobs/ingest/" + url.PathEscape(j.ID)
	for _, e := range elems {
		p += "/" + e
	}
	return p
}

// Upload sends the job's CSV in one PUT (gzip unless disabled) and returns
// the bytes of CSV sent. The data must fit Options.MaxUploadBytes; Ingest
// splits larger data into several jobs. The PUT is not retried: if it fails
// in flight, Salesforce may or may not hold the data, so abort the job and
// start again rather than send it twice.
func (j *IngestJob) Upload(ctx context.Context, csv io.Reader) (int64, error) {
	counted := &limitCounter{r: csv, limit: j.b.opts.MaxUploadBytes}
	h := http.Header{"Content-Type": {"text/csv"}, "Accept": {"application/json"}}
	var body io.Reader = counted
	if !j.b.opts.DisableCompression {
		h.Set("Content-Encoding", "gzip")
		level := j.b.opts.CompressionLevel
		if level == 0 {
			level = gzip.HuffmanOnly
		}
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Buffered: each of the compressor's small writes would otherwise
			// be a pipe hand-off and a write to the connection.
			bw := bufio.NewWriterSize(pw, 64<<10)
			zw, err := gzip.NewWriterLevel(bw, level)
			if err == nil {
				_, err = io.Copy(zw, counted)
				err = errors.Join(err, zw.Close(), bw.Flush())
			}
			pw.CloseWithError(err)
		}()
		// Stop the compressor if the request ended early, and wait for it
		// before reading its counts.
		defer func() { pr.Close(); <-done }()
		body = pr
	}
	resp, err := j.b.rest.Raw(ctx, http.MethodPut, j.path("batches"), body, h)
	if err != nil {
		return 0, &uploadError{job: j.ID, err: err, counted: counted}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return counted.n, nil
}

// uploadError reports a failed upload; its cause is read once the
// compressor has stopped.
type uploadError struct {
	job     string
	err     error
	counted *limitCounter
}

func (e *uploadError) cause() error {
	if e.counted.err != nil {
		return e.counted.err // the cause, rather than the transport's view of it
	}
	return e.err
}

func (e *uploadError) Error() string {
	return fmt.Sprintf("bulk: uploading to job %s: %s", e.job, unprefixed(e.cause()))
}

func (e *uploadError) Unwrap() error { return e.cause() }

// limitCounter counts bytes read and fails past limit.
type limitCounter struct {
	r     io.Reader
	n     int64
	limit int64
	err   error
}

func (l *limitCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.limit {
		l.err = fmt.Errorf("%w: more than %d bytes", ErrUploadTooLarge, l.limit)
		return n, l.err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = err
	}
	return n, err
}

// Close marks the upload complete (PATCH state UploadComplete), which starts
// processing. Never sent twice (see "What is retried").
func (j *IngestJob) Close(ctx context.Context) (JobInfo, error) {
	return j.setState(ctx, StateUploadComplete)
}

// Abort aborts the job (PATCH state Aborted). Never sent twice (see "What is
// retried").
func (j *IngestJob) Abort(ctx context.Context) (JobInfo, error) {
	return j.setState(ctx, StateAborted)
}

func (j *IngestJob) setState(ctx context.Context, s JobState) (JobInfo, error) {
	var info JobInfo
	err := j.b.doJSON(ctx, http.MethodPatch, j.path(), map[string]JobState{"state": s}, &info)
	return info, err
}

// Info returns the job's current status.
func (j *IngestJob) Info(ctx context.Context) (JobInfo, error) {
	var info JobInfo
	err := j.b.getJSON(ctx, j.path(), &info)
	return info, err
}

// Wait polls the job, with growing intervals, until it is JobComplete,
// Failed or Aborted, calling progress (if not nil) with each status. A
// Failed or Aborted job returns a *JobError carrying Salesforce's errorMessage.
func (j *IngestJob) Wait(ctx context.Context, progress func(JobInfo)) (JobInfo, error) {
	return j.b.wait(ctx, j.path(), progress)
}

// Delete deletes the job and its data (DELETE, answered 204).
func (j *IngestJob) Delete(ctx context.Context) error {
	return j.b.doJSON(ctx, http.MethodDelete, j.path(), nil, nil)
}

// ResultKind names one of an ingest job's result sets.
type ResultKind string

// The result sets of an ingest job.
const (
	SuccessfulResults  ResultKind = "successfulResults"
	FailedResults      ResultKind = "failedResults"
	UnprocessedRecords ResultKind = "unprocessedrecords"
)

// Results streams one result set as CSV: successful results start with
// sf__Id and sf__Created, failed results with sf__Id and sf__Error, then the
// uploaded columns; unprocessed records are the uploaded rows. The caller
// closes it. Responses may arrive gzip-compressed ("Use Compression for Bulk
// API 2.0 Responses"); the transport decompresses them.
func (j *IngestJob) Results(ctx context.Context, kind ResultKind) (io.ReadCloser, error) {
	resp, err := j.b.getStream(ctx, j.path(string(kind)+"/"), http.Header{"Accept": {"text/csv"}})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Successful streams the successful results of jobs, one after another,
// decoded into IngestResult[T]; rows are read as they arrive, never all held.
//
// Errors in Successful, Failed and Unprocessed are as Decoder's, each
// yielded once: after a bad cell value (a *DecodeError with a Column,
// wrapping ErrValue) the sequence goes on with the next row; after any other
// error (a request that failed, a malformed line, a row with the wrong number
// of cells, a record over Format.MaxRecordBytes, a bad header) it ends, and
// the later jobs' results are not read. A caller may log errors and go on:
// the sequence always ends.
func Successful[T any](ctx context.Context, jobs ...*IngestJob) iter.Seq2[IngestResult[T], error] {
	return decodeResults[IngestResult[T]](ctx, SuccessfulResults, jobs)
}

// Failed streams the failed results of jobs; Error holds sf__Error.
func Failed[T any](ctx context.Context, jobs ...*IngestJob) iter.Seq2[IngestResult[T], error] {
	return decodeResults[IngestResult[T]](ctx, FailedResults, jobs)
}

// Unprocessed streams the rows of jobs that were not processed (the job
// failed or was aborted first).
func Unprocessed[T any](ctx context.Context, jobs ...*IngestJob) iter.Seq2[T, error] {
	return decodeResults[T](ctx, UnprocessedRecords, jobs)
}

func decodeResults[T any](ctx context.Context, kind ResultKind, jobs []*IngestJob) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for _, j := range jobs {
			body, err := j.Results(ctx, kind)
			if err != nil {
				yield(zero, err)
				return
			}
			if !decodeAll(body, j.format, nil, "", yield) {
				return
			}
		}
	}
}

// decodeAll yields every record of body; false means stop. An empty body
// (no header) has no records. A bad cell value is yielded and decoding goes
// on; an error that ends the input (see Decoder) is yielded and stops the
// whole iteration. With header set, the body's header must equal *header,
// which the first body with a header sets; where names the body for that
// error.
func decodeAll[T any](body io.ReadCloser, f Format, header *[]string, where string, yield func(T, error) bool) bool {
	defer body.Close()
	var zero T
	br := bufio.NewReaderSize(body, 64<<10)
	if _, err := br.Peek(1); errors.Is(err, io.EOF) {
		return true // an empty result set: no header either
	}
	dec, err := NewDecoder[T](br, f)
	if err != nil {
		yield(zero, err)
		return false
	}
	if err := dec.start(); err != nil {
		yield(zero, err)
		return false
	}
	if header != nil {
		if *header == nil {
			*header = dec.names
		} else if err := sameHeader(*header, dec.names, where); err != nil {
			yield(zero, err)
			return false
		}
	}
	for {
		var v T
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return true
		}
		if !yield(v, err) || dec.ended() {
			return false
		}
	}
}

// Progress is the state of an Ingest run.
type Progress struct {
	Jobs      int   // jobs created so far
	Uploaded  int64 // bytes of CSV uploaded so far
	Processed int64 // records processed, failed ones included
	Failed    int64
	Elapsed   time.Duration
	Done      bool // every job reached a terminal state
}

// Ingestion is the outcome of Ingest: its jobs, in order, and their final
// status. Stream the rows with Successful, Failed and Unprocessed(ctx, Jobs...).
type Ingestion struct {
	Jobs  []*IngestJob
	Infos []JobInfo
	// Records is the number of data rows read from the CSV.
	Records   int64
	Processed int64
	Failed    int64
}

// Unprocessed counts the rows Salesforce did not process.
func (in *Ingestion) Unprocessed() int64 { return in.Records - in.Processed }

// Ingest runs the whole ingest of csv: it creates a job, uploads as many
// records as fit Options.MaxUploadBytes (the header repeated), closes it, and
// creates the next job for the rest — Salesforce takes one upload per job
// (see the report: the 150 MB limit is per job). Then it waits for every job,
// calling progress (if not nil). Memory stays constant: one record at a time
// is held.
//
// Jobs closed before an error go on processing at Salesforce; the returned
// Ingestion lists them so their results can still be read. A job whose upload
// failed is aborted. A Failed or Aborted job is reported as a *JobError after
// every job has finished.
func (b *Client) Ingest(ctx context.Context, spec IngestSpec, csv io.Reader, progress func(Progress)) (*Ingestion, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	start := time.Now()
	sp, err := newSplitter(csv, b.opts.MaxUploadBytes)
	if err != nil {
		return nil, err
	}
	in := &Ingestion{}
	var uploaded int64
	report := func(done bool) {
		if progress != nil {
			progress(Progress{Jobs: len(in.Jobs), Uploaded: uploaded, Processed: in.Processed, Failed: in.Failed,
				Elapsed: time.Since(start), Done: done})
		}
	}
	for sp.more() {
		job, _, err := b.CreateIngestJob(ctx, spec)
		if err != nil {
			return in, err
		}
		in.Jobs = append(in.Jobs, job)
		n, err := job.Upload(ctx, sp.next())
		uploaded += n
		if err == nil {
			_, err = job.Close(ctx)
		}
		if err != nil {
			// A fresh context: the caller's may be what ended.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_, _ = job.Abort(actx)
			cancel()
			in.Records = sp.records
			return in, err
		}
		report(false)
	}
	in.Records = sp.records
	in.Infos = make([]JobInfo, len(in.Jobs))
	var jobErrs []error
	for i, job := range in.Jobs {
		before := in.Processed
		beforeFailed := in.Failed
		info, err := job.Wait(ctx, func(info JobInfo) {
			in.Processed = before + info.NumberRecordsProcessed
			in.Failed = beforeFailed + info.NumberRecordsFailed
			report(false)
		})
		in.Infos[i] = info
		var je *JobError
		if errors.As(err, &je) {
			jobErrs = append(jobErrs, err)
			continue
		}
		if err != nil {
			return in, err
		}
	}
	report(true)
	return in, errors.Join(jobErrs...)
}

// IngestRecords encodes records to CSV with the API's conventions (see
// Encoder) and runs Ingest on them, streaming: the records are encoded as
// the upload sends them.
func IngestRecords[T any](ctx context.Context, b *Client, spec IngestSpec, records iter.Seq[T], progress func(Progress)) (*Ingestion, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := encodeAll(pw, spec.Format, records)
		pw.CloseWithError(err)
	}()
	defer pr.Close() // stops the encoder when Ingest returns early
	return b.Ingest(ctx, spec, pr, progress)
}

// WriteResults writes one result set of jobs to w as a single CSV: the
// header row once, then every job's rows, streamed. It returns the data rows
// written, counted as they are copied. Every job's result set must carry the
// first one's header, column for column (the jobs of one Ingest do): another
// is an ErrHeader error before any of its rows is written. A job with an
// empty result set (no header either) adds nothing.
func WriteResults(ctx context.Context, w io.Writer, kind ResultKind, jobs ...*IngestJob) (int64, error) {
	var join *csvJoin
	for _, j := range jobs {
		comma, err := j.format.delimiter()
		if err != nil {
			return 0, err
		}
		if join == nil {
			join = &csvJoin{w: w, comma: comma}
		}
		join.comma = comma
		body, err := j.Results(ctx, kind)
		if err != nil {
			return join.rows, err
		}
		err = join.add(body, fmt.Sprintf("the %s of job %s", kind, j.ID))
		body.Close()
		if err != nil && !errors.Is(err, ErrHeader) {
			err = fmt.Errorf("bulk: %s of job %s: %w", kind, j.ID, err)
		}
		if err != nil {
			return join.rows, err
		}
	}
	if join == nil {
		return 0, nil
	}
	return join.rows, nil
}
