package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sfmtls/sfmtls/client"
)

// Operation is an ingest job's operation ("Create a Job").
type Operation string

// The operations of Bulk API 2.0 ingest jobs.
const (
	Insert     Operation = "insert"
	Update     Operation = "update"
	Upsert     Operation = "upsert"
	Delete     Operation = "delete"
	HardDelete Operation = "hardDelete"
)

// JobState is a job's state ("Job States"): Open → UploadComplete →
// InProgress → JobComplete, Failed or Aborted.
type JobState string

// The job states.
const (
	StateOpen           JobState = "Open"
	StateUploadComplete JobState = "UploadComplete"
	StateInProgress     JobState = "InProgress"
	StateJobComplete    JobState = "JobComplete"
	StateFailed         JobState = "Failed"
	StateAborted        JobState = "Aborted"
)

// Terminal reports whether the job will not change state any more.
func (s JobState) Terminal() bool {
	return s == StateJobComplete || s == StateFailed || s == StateAborted
}

// JobInfo is a job as Salesforce describes it ("Get Information About an
// Ingest Job", "Get Information About a Query Job").
type JobInfo struct {
	ID                      string    `json:"id"`
	Operation               Operation `json:"operation"`
	Object                  string    `json:"object"`
	CreatedByID             string    `json:"createdById,omitempty"`
	CreatedDate             string    `json:"createdDate,omitempty"`
	SystemModstamp          string    `json:"systemModstamp,omitempty"`
	State                   JobState  `json:"state"`
	ExternalIDFieldName     string    `json:"externalIdFieldName,omitempty"`
	ConcurrencyMode         string    `json:"concurrencyMode,omitempty"`
	ContentType             string    `json:"contentType,omitempty"`
	APIVersion              float64   `json:"apiVersion,omitempty"`
	JobType                 string    `json:"jobType,omitempty"`
	ContentURL              string    `json:"contentUrl,omitempty"`
	LineEnding              string    `json:"lineEnding,omitempty"`
	ColumnDelimiter         string    `json:"columnDelimiter,omitempty"`
	NumberRecordsProcessed  int64     `json:"numberRecordsProcessed"`
	NumberRecordsFailed     int64     `json:"numberRecordsFailed"`
	Retries                 int64     `json:"retries,omitempty"`
	TotalProcessingTime     int64     `json:"totalProcessingTime,omitempty"`
	APIActiveProcessingTime int64     `json:"apiActiveProcessingTime,omitempty"`
	ApexProcessingTime      int64     `json:"apexProcessingTime,omitempty"`
	ErrorMessage            string    `json:"errorMessage,omitempty"`
	// Query is the SOQL of a query job.
	Query string `json:"query,omitempty"`
}

// ErrJobFailed and ErrJobAborted match a *JobError by the job's final state.
var (
	ErrJobFailed  = errors.New("bulk: job failed")
	ErrJobAborted = errors.New("bulk: job aborted")
)

// ErrUploadTooLarge: the data of one upload exceeded Options.MaxUploadBytes
// (a record alone larger than the limit cannot be sent at all).
var ErrUploadTooLarge = errors.New("bulk: upload exceeds the size limit")

// JobError is a job that ended Failed or Aborted. Job.ErrorMessage carries
// Salesforce's errorMessage. It matches ErrJobFailed or ErrJobAborted.
type JobError struct {
	Job JobInfo
}

// Error names the job, its state, errorMessage and counts.
func (e *JobError) Error() string {
	msg := fmt.Sprintf("bulk: job %s %s", e.Job.ID, e.Job.State)
	if e.Job.ErrorMessage != "" {
		msg += ": " + e.Job.ErrorMessage
	}
	return fmt.Sprintf("%s (%d records processed, %d failed)", msg, e.Job.NumberRecordsProcessed, e.Job.NumberRecordsFailed)
}

// Is matches ErrJobFailed and ErrJobAborted.
func (e *JobError) Is(target error) bool {
	return (target == ErrJobFailed && e.Job.State == StateFailed) ||
		(target == ErrJobAborted && e.Job.State == StateAborted)
}

// Options tune a Client. The zero value is ready to use.
type Options struct {
	// PollInterval is the first wait between job status checks; it grows by
	// half each time up to MaxPollInterval. Defaults: 500ms and 10s.
	PollInterval, MaxPollInterval time.Duration
	// MaxUploadBytes bounds the uncompressed CSV of one job's upload.
	// Default (and maximum) 100,000,000: "Upload Job Data" allows 150 MB of
	// base64, which it says is about 100 MB of data.
	MaxUploadBytes int64
	// DisableCompression sends uploads as they are instead of gzip
	// (REST API Developer Guide, "Compression Headers": Content-Encoding gzip).
	DisableCompression bool
	// CompressionLevel is the gzip level of uploads; 0 means gzip.BestSpeed.
	CompressionLevel int
}

// maxUpload is the largest upload Salesforce accepts for one job, in bytes of CSV.
const maxUpload = 100_000_000

// Client runs Bulk API 2.0 jobs over a REST client's mutual TLS transport.
// It is safe for concurrent use.
type Client struct {
	rest *client.Client
	opts Options
}

// NewClient returns a Bulk API 2.0 client on c.
func NewClient(c *client.Client, opts Options) *Client {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	if opts.MaxPollInterval <= 0 {
		opts.MaxPollInterval = 10 * time.Second
	}
	if opts.MaxPollInterval < opts.PollInterval {
		opts.MaxPollInterval = opts.PollInterval
	}
	if opts.MaxUploadBytes <= 0 || opts.MaxUploadBytes > maxUpload {
		opts.MaxUploadBytes = maxUpload
	}
	return &Client{rest: c, opts: opts}
}

// doJSON sends a JSON request (body may be nil) and decodes the JSON answer
// into out (may be nil). It is sent once: job creation (POST) and state
// changes (PATCH) are not retried, so a job is never created twice.
func (b *Client) doJSON(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	h := http.Header{"Accept": {"application/json"}}
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw) // replayable after a session refresh
		h.Set("Content-Type", "application/json; charset=UTF-8")
	}
	resp, err := b.rest.Raw(ctx, method, path, rd, h)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("bulk: %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// getJSON is doJSON for GETs, which are idempotent: a network error or a 5xx
// answer is retried twice after a short pause.
func (b *Client) getJSON(ctx context.Context, path string, out any) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			if err := sleep(ctx, time.Duration(attempt)*b.opts.PollInterval); err != nil {
				return err
			}
		}
		if err = b.doJSON(ctx, http.MethodGet, path, nil, out); err == nil || !transient(ctx, err) {
			return err
		}
	}
	return err
}

// getStream GETs path for a streaming body, retrying like getJSON before any
// of the body is read.
func (b *Client) getStream(ctx context.Context, path string, h http.Header) (*http.Response, error) {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			if err := sleep(ctx, time.Duration(attempt)*b.opts.PollInterval); err != nil {
				return nil, err
			}
		}
		var resp *http.Response
		if resp, err = b.rest.Raw(ctx, http.MethodGet, path, nil, h); err == nil || !transient(ctx, err) {
			return resp, err
		}
	}
	return nil, err
}

// transient tells errors worth another GET: 5xx answers and network
// failures, unless the context ended.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500
	}
	// Failures below HTTP: the connection broke or timed out. Anything else
	// (a bad token, a refused certificate) would fail the same way again.
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// wait polls path until the job reaches a terminal state, calling progress
// (if not nil) with every status seen. A Failed or Aborted job is a *JobError.
func (b *Client) wait(ctx context.Context, path string, progress func(JobInfo)) (JobInfo, error) {
	interval := b.opts.PollInterval
	for {
		var info JobInfo
		if err := b.getJSON(ctx, path, &info); err != nil {
			return info, err
		}
		if progress != nil {
			progress(info)
		}
		switch info.State {
		case StateJobComplete:
			return info, nil
		case StateFailed, StateAborted:
			return info, &JobError{Job: info}
		}
		if err := sleep(ctx, interval); err != nil {
			return info, err
		}
		interval = min(interval+interval/2, b.opts.MaxPollInterval)
	}
}
