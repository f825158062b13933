package bulk

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// QueryJob is one Bulk API 2.0 query job.
type QueryJob struct {
	b      *Client
	ID     string
	format Format
}

// QuerySpec describes a query job ("Create a Query Job").
type QuerySpec struct {
	// Query is the SOQL. Bulk queries refuse GROUP BY, OFFSET, TYPEOF,
	// aggregates such as COUNT() and parent-to-child subqueries.
	Query string
	// All includes deleted and archived records (operation queryAll).
	All bool
	// Format of the result CSV (default COMMA, LF).
	Format Format
}

// CreateQueryJob creates a query job (POST jobs/query), sent once.
func (b *Client) CreateQueryJob(ctx context.Context, spec QuerySpec) (*QueryJob, JobInfo, error) {
	if spec.Query == "" {
		return nil, JobInfo{}, fmt.Errorf("%w: QuerySpec.Query is empty: give the SOQL, e.g. SELECT Id FROM Account", ErrFormat)
	}
	if _, err := spec.Format.delimiter(); err != nil {
		return nil, JobInfo{}, err
	}
	op := "query"
	if spec.All {
		op = "queryAll"
	}
	delim, ending := spec.Format.jobFields()
	body := map[string]string{"operation": op, "query": spec.Query, "contentType": "CSV", "columnDelimiter": delim, "lineEnding": ending}
	var info JobInfo
	if err := b.doJSON(ctx, http.MethodPost, "jobs/query", body, &info); err != nil {
		return nil, info, err
	}
	if info.ID == "" {
		return nil, info, errors.New("bulk: Salesforce created a query job but sent no id")
	}
	return &QueryJob{b: b, ID: info.ID, format: spec.Format}, info, nil
}

// QueryJob returns an existing query job by id; f is its CSV format.
func (b *Client) QueryJob(id string, f Format) *QueryJob { return &QueryJob{b: b, ID: id, format: f} }

// Query creates a query job and waits for it to complete, calling progress
// (if not nil) with each status.
func (b *Client) Query(ctx context.Context, spec QuerySpec, progress func(JobInfo)) (*QueryJob, JobInfo, error) {
	job, info, err := b.CreateQueryJob(ctx, spec)
	if err != nil {
		return nil, info, err
	}
	info, err = job.Wait(ctx, progress)
	return job, info, err
}

func (j *QueryJob) path(elems ...string) string {
	p := "jobs/query/" + url.PathEscape(j.ID)
	for _, e := range elems {
		p += "/" + e
	}
	return p
}

// Info returns the job's current status.
func (j *QueryJob) Info(ctx context.Context) (JobInfo, error) {
	var info JobInfo
	err := j.b.getJSON(ctx, j.path(), &info)
	return info, err
}

// Wait polls the job until it is JobComplete, Failed or Aborted (a *JobError).
func (j *QueryJob) Wait(ctx context.Context, progress func(JobInfo)) (JobInfo, error) {
	return j.b.wait(ctx, j.path(), progress)
}

// Abort aborts the job (PATCH state Aborted), sent once.
func (j *QueryJob) Abort(ctx context.Context) (JobInfo, error) {
	var info JobInfo
	err := j.b.doJSON(ctx, http.MethodPatch, j.path(), map[string]JobState{"state": StateAborted}, &info)
	return info, err
}

// Delete deletes the job and its results.
func (j *QueryJob) Delete(ctx context.Context) error {
	return j.b.doJSON(ctx, http.MethodDelete, j.path(), nil, nil)
}

// resultPage is one result set of a query job: a CSV with its header row.
type resultPage struct {
	// Number counts pages from 1.
	Number int
	// Body is the CSV; it is valid until the iteration moves on.
	Body io.Reader
	// Records is Sforce-NumberOfRecords, -1 when absent.
	Records int64
	// Locator is the Sforce-Locator of the next page; "" on the last.
	Locator string
}

// pages streams the job's result sets in order, following Sforce-Locator
// until it is "null" ("Get Results for a Query Job"). maxRecords caps each
// set (0: the server's default). Each GET is retried by the transport (see
// "What is retried") before its body is read; a failure mid-body ends the
// iteration with the error. A locator sent before, by any earlier page, ends
// it with ErrLocatorRepeated before that page is fetched again, so no record
// is yielded twice.
func (j *QueryJob) pages(ctx context.Context, maxRecords int) iter.Seq2[resultPage, error] {
	return func(yield func(resultPage, error) bool) {
		locator := ""
		// Each locator followed, by its hash, with the page that sent it;
		// hashes keep the memory small whatever the server sends.
		seen := make(map[[sha256.Size]byte]int)
		for n := 1; n <= maxPages; n++ {
			q := url.Values{}
			if locator != "" {
				q.Set("locator", locator)
			}
			if maxRecords > 0 {
				q.Set("maxRecords", strconv.Itoa(maxRecords))
			}
			p := j.path("results")
			if len(q) > 0 {
				p += "?" + q.Encode()
			}
			resp, err := j.b.getStream(ctx, p, http.Header{"Accept": {"text/csv"}})
			if err != nil {
				yield(resultPage{}, err)
				return
			}
			page := resultPage{Number: n, Body: resp.Body, Records: -1, Locator: resp.Header.Get("Sforce-Locator")}
			if n, err := strconv.ParseInt(resp.Header.Get("Sforce-NumberOfRecords"), 10, 64); err == nil {
				page.Records = n
			}
			if page.Locator == "null" {
				page.Locator = ""
			}
			more := yield(page, nil)
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if !more || page.Locator == "" {
				return
			}
			key := sha256.Sum256([]byte(page.Locator))
			if first, ok := seen[key]; ok {
				yield(resultPage{}, fmt.Errorf("%w: query job %s: page %d sent the locator that page %d sent", ErrLocatorRepeated, j.ID, n, first))
				return
			}
			seen[key] = n
			locator = page.Locator
		}
		yield(resultPage{}, fmt.Errorf("bulk: query job %s: more than %d result pages", j.ID, maxPages))
	}
}

// maxPages bounds the pages one query job is followed for.
const maxPages = 1 << 20

// WriteCSV writes every result page to w as one CSV: the header row once,
// then the records, in constant memory. It returns the records written,
// counted as they are copied, and calls progress (if not nil) after each
// page. Every page must carry the first page's header, column for column: a
// page with other columns, or the same ones in another order, is an
// ErrHeader error before any of its rows is written. A locator sent twice
// is ErrLocatorRepeated.
func (j *QueryJob) WriteCSV(ctx context.Context, w io.Writer, maxRecords int, progress func(records int64)) (int64, error) {
	comma, err := j.format.delimiter()
	if err != nil {
		return 0, err
	}
	join := &csvJoin{w: w, comma: comma}
	for page, err := range j.pages(ctx, maxRecords) {
		if err != nil {
			return join.rows, err
		}
		if err := join.add(page.Body, fmt.Sprintf("page %d of query job %s", page.Number, j.ID)); err != nil {
			return join.rows, err
		}
		if progress != nil {
			progress(join.rows)
		}
	}
	return join.rows, nil
}

// Records streams the job's records across every page, decoded into T with
// the CSV conventions of Decoder, in constant memory. Errors are as
// Decoder's: a bad cell value is yielded and the sequence goes on; any other
// error is yielded and ends it. Every page must carry the first page's
// header (ErrHeader otherwise); a locator sent twice is ErrLocatorRepeated.
func Records[T any](ctx context.Context, j *QueryJob, maxRecords int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		var header []string
		for page, err := range j.pages(ctx, maxRecords) {
			if err != nil {
				yield(zero, err)
				return
			}
			where := fmt.Sprintf("page %d of query job %s", page.Number, j.ID)
			if !decodeAll(io.NopCloser(page.Body), j.format, &header, where, yield) {
				return
			}
		}
	}
}
