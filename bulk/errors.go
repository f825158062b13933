package bulk

import (
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is.
var (
	// ErrFormat means a Format field has a value the API does not accept.
	ErrFormat = errors.New("bulk: invalid CSV format")
	// ErrType means the record type cannot be mapped to CSV columns.
	ErrType = errors.New("bulk: record type has no CSV mapping")
	// ErrValue means a value cannot be written to, or read from, a cell.
	ErrValue = errors.New("bulk: invalid cell value")
	// ErrHeader means a CSV header is unusable (empty, duplicate column, too
	// long), or differs from the first one where result sets are joined.
	ErrHeader = errors.New("bulk: invalid CSV header")
	// ErrRecordTooLarge means one record exceeded Format.MaxRecordBytes.
	ErrRecordTooLarge = errors.New("bulk: CSV record too large")
)

// EncodeError reports a value the encoder could not write. Record counts data
// rows from 1. The message never includes the value itself.
type EncodeError struct {
	Record int
	Column string
	Err    error
}

func (e *EncodeError) Error() string {
	return fmt.Sprintf("bulk: record %d, column %s: %s", e.Record, e.Column, unprefixed(e.Err))
}

// Unwrap returns the underlying error.
func (e *EncodeError) Unwrap() error { return e.Err }

// DecodeError reports a cell or line the decoder could not read. Line is the
// 1-based line in the input, Record counts data rows from 1 (0 for the
// header), Column is the header name (empty when the whole line is at fault).
// The message never includes the cell's content.
type DecodeError struct {
	Line   int
	Record int
	Column string
	Err    error
}

func (e *DecodeError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("bulk: line %d (record %d): %s", e.Line, e.Record, unprefixed(e.Err))
	}
	return fmt.Sprintf("bulk: line %d (record %d), column %s: %s", e.Line, e.Record, e.Column, unprefixed(e.Err))
}

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

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

// ErrLocatorRepeated means Salesforce sent, as the Sforce-Locator of a query
// job's next result page, a locator an earlier page had sent: following it
// would yield the same records again, without end. The paging stops before
// fetching that page, so what was written or yielded holds no record twice;
// the rest of the job's results were not read. Running the query again is
// the remedy.
var ErrLocatorRepeated = errors.New("bulk: Salesforce sent a result locator again")
