package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/retry"
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

// Options tune a Client. The zero value is ready to use.
type Options struct {
	// PollInterval is the wait between a job's first status check (made at
	// once) and the second; default 500ms. Each later check comes half the
	// time waited so far after the one before (at PollInterval × 1.5, × 2.25,
	// …), so a job is noticed within the larger of PollInterval and half its
	// run time, with a number of status checks (each an API call) that grows
	// with the logarithm of the run time. When the context has a deadline, a
	// last check is made just before it.
	PollInterval time.Duration
	// MaxPollInterval, when set, bounds the wait between two checks; by
	// default there is no bound but the half of the time waited.
	MaxPollInterval time.Duration
	// MaxUploadBytes bounds the uncompressed CSV of one job's upload.
	// Default (and maximum) 100,000,000: "Upload Job Data" allows 150 MB of
	// base64, which it says is about 100 MB of data.
	MaxUploadBytes int64
	// DisableCompression sends uploads as they are instead of gzip
	// (REST API Developer Guide, "Compression Headers": Content-Encoding gzip).
	DisableCompression bool
	// CompressionLevel is the gzip level of uploads, -2 (gzip.HuffmanOnly)
	// to 9 as compress/gzip's; 0 means gzip.HuffmanOnly, which compresses
	// CSV to about two thirds faster than a 1 Gbit link takes it, even on a
	// busy core, so that compression slows no upload. On a slow link
	// gzip.BestSpeed sends a third of the CSV where Huffman only sends two
	// thirds (bench/README.md, "Compression").
	CompressionLevel int
}

// maxUpload is the largest upload Salesforce accepts for one job, in bytes of CSV.
const maxUpload = 100_000_000

// Client runs Bulk API 2.0 jobs over a REST client's mutual TLS transport.
// It is safe for concurrent use.
type Client struct {
	rest  *client.Client
	opts  Options
	clock clock
}

// clock is the time the status checks are scheduled by; tests replace it.
type clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error { return retry.Sleep(ctx, d) }

// NewClient returns a Bulk API 2.0 client on c.
func NewClient(c *client.Client, opts Options) *Client {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	if opts.MaxPollInterval > 0 && opts.MaxPollInterval < opts.PollInterval {
		opts.MaxPollInterval = opts.PollInterval
	}
	if opts.MaxUploadBytes <= 0 || opts.MaxUploadBytes > maxUpload {
		opts.MaxUploadBytes = maxUpload
	}
	return &Client{rest: c, opts: opts, clock: realClock{}}
}

// doJSON sends a JSON request (body may be nil) and decodes the JSON answer
// into out (may be nil). Job creation (POST) and state changes (PATCH) are
// not idempotent: the transport resends them only after an answer that says
// Salesforce did not process them, so a job is never created twice.
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

// getJSON GETs path and decodes the JSON answer into out. The transport
// retries it after a failure without an answer or an answer that says it was
// not processed, as it does every idempotent call, with its one policy.
func (b *Client) getJSON(ctx context.Context, path string, out any) error {
	return b.doJSON(ctx, http.MethodGet, path, nil, out)
}

// getStream GETs path for a streaming body; the transport retries it as
// getJSON, before any of the body is read. It asks for gzip ("Use
// Compression for Bulk API 2.0 Responses") itself, rather than leave it to
// net/http, so that a gzip answer is read by the faster decoder of
// github.com/klauspost/compress (see bench/README.md); the body returned is
// the CSV.
func (b *Client) getStream(ctx context.Context, path string, h http.Header) (*http.Response, error) {
	h = h.Clone()
	h.Set("Accept-Encoding", "gzip")
	resp, err := b.rest.Raw(ctx, http.MethodGet, path, nil, h)
	if err != nil {
		return nil, err
	}
	switch enc := resp.Header.Get("Content-Encoding"); {
	case enc == "":
	case strings.EqualFold(enc, "gzip"):
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("bulk: GET %s: the gzip answer cannot be read: %w", path, err)
		}
		resp.Body = &gzipBody{Reader: zr, body: resp.Body}
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("bulk: GET %s: the answer is in Content-Encoding %q, which was not asked for", path, enc)
	}
	return resp, nil
}

// gzipBody is a response body read through a gzip decoder.
type gzipBody struct {
	*gzip.Reader
	body io.ReadCloser
}

func (g *gzipBody) Close() error {
	return errors.Join(g.Reader.Close(), g.body.Close())
}

// wait polls path until the job reaches a terminal state, calling progress
// (if not nil) with every status seen. A Failed or Aborted job is a *JobError.
// The checks follow nextPoll; with a deadline on ctx, one last check is made
// before it (lastPoll).
func (b *Client) wait(ctx context.Context, path string, progress func(JobInfo)) (JobInfo, error) {
	start := b.clock.Now()
	var planned time.Duration // of the check about to be made, since start
	last := false             // the check about to be made is the last look before ctx's deadline
	for {
		callStart := b.clock.Now()
		var info JobInfo
		if err := b.getJSON(ctx, path, &info); err != nil {
			return info, err
		}
		latency := b.clock.Now().Sub(callStart)
		if progress != nil {
			progress(info)
		}
		switch info.State {
		case StateJobComplete:
			return info, nil
		case StateFailed, StateAborted:
			return info, &JobError{Job: info}
		}
		if last {
			return info, b.clock.Sleep(ctx, math.MaxInt64) // until the deadline
		}
		planned = nextPoll(planned, b.opts.PollInterval, b.opts.MaxPollInterval)
		at := start.Add(planned)
		if deadline, ok := ctx.Deadline(); ok {
			at, last = lastPoll(at, deadline, latency)
		}
		if err := b.clock.Sleep(ctx, at.Sub(b.clock.Now())); err != nil {
			return info, err
		}
	}
}

// nextPoll returns when to check a job's status again, counted from the
// first check, after the check planned at prev: first after the first
// check, then half the time waited so far later (a growth of 1.5 each time),
// the wait at most max when max > 0. A job that ends between two checks is
// noticed within the larger of first and half its run time, and after about
// 2 + log1.5(run time / first) checks.
func nextPoll(prev, first, max time.Duration) time.Duration {
	if prev < first {
		return first
	}
	gap := prev / 2
	if max > 0 && gap > max {
		gap = max
	}
	return prev + gap
}

// lastPoll moves a check planned at at to just before deadline (by twice the
// last check's latency, so that its answer comes in time) when at is past
// that, and reports whether it did: that check is the last look.
func lastPoll(at, deadline time.Time, latency time.Duration) (time.Time, bool) {
	last := deadline.Add(-2 * latency)
	if at.Before(last) {
		return at, false
	}
	return last, true
}
