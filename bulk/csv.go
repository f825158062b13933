// Package bulk runs Salesforce Bulk API 2.0 jobs over the SDK's mutual TLS
// client, in constant memory.
//
// Ingest: Client.Ingest (a CSV io.Reader) and IngestRecords (an iterator of
// your structs, encoded with the conventions below) create an ingest job
// (insert, update, upsert by external id, delete, hardDelete), upload the CSV
// gzip-compressed, close the job and wait for it with growing intervals,
// reporting progress. Salesforce takes one upload of at most 100 MB per job,
// so larger data goes to several jobs, cut at record boundaries with the
// header repeated. Successful, Failed and Unprocessed stream the result rows
// as iterators; WriteResults writes them as one CSV. A job that ends Failed
// or Aborted is a *JobError carrying Salesforce's errorMessage.
//
// Query: Client.Query creates a query or queryAll job and waits for it;
// Records streams the rows into your structs across every result page
// (Sforce-Locator, maxRecords) and QueryJob.WriteCSV writes them as one CSV.
//
// # What is retried
//
// Bulk has no retries of its own: every call goes through the transport's,
// paced by Config.CallRetry. A write is never sent twice. Job creation (POST),
// the upload (PUT) and state changes (PATCH: close, abort) are sent again
// only after an answer saying Salesforce did not process them (429, 503,
// SERVER_UNAVAILABLE); if one fails in flight its outcome is unknown and the
// error is returned. When Salesforce rejects the session, the transport
// replays a request only if its body can be read again (job creation and
// state changes can; a streaming upload cannot and fails with
// *transport.SessionExpiredError — Salesforce stored none of it). GETs (job
// status, results, query pages) are idempotent: they are also retried after a
// network error or a gateway's 502 or 504, before any of the body is read.
// Waiting ends with the context; give it a deadline.
//
// The CSV codec underneath is usable alone: Encoder streams Go structs into
// the job data CSV that an ingest job uploads, and Decoder streams result
// CSV (ingest successfulResults, failedResults, unprocessedrecords, and query
// results) back into structs, one record at a time in constant memory.
//
// # Column names
//
// A struct field's column is named by its `sf:"Name"` tag, or else by its
// `json:"Name"` tag, or else by the Go field name. Reusing the json tag lets
// one struct serve the REST client (which encodes records with encoding/json)
// and Bulk API 2.0 alike; the sf tag wins where the two must differ. A name of
// "-" skips the field. A nested struct (or pointer to struct) field named
// Owner contributes columns Owner.Email and so on, which is how Bulk API 2.0
// writes relationship fields ("Relationship Fields in a Header Row") and how
// query results name parent fields (Account.Name). Embedded structs, and
// fields tagged `sf:",inline"`, add their columns without a prefix.
//
// Tag options: omitempty (see below) and date (a time.Time field holds a date
// field, written yyyy-MM-dd).
//
// # Empty cells and #N/A
//
// In job data an empty cell leaves the field unchanged on update and #N/A sets
// it to null ("Prepare CSV Files", "Valid CSV Record Rows"). The encoder maps
// the REST client's JSON meaning onto those two: a field with omitempty whose
// value is empty (nil pointer, zero number, false, "", zero time) is left out,
// which is an empty cell; a field without omitempty whose value is nil, "" or
// the zero time is sent as null, which is #N/A. A literal string "#N/A" cannot
// be sent as text and is refused. On decode both an empty cell and #N/A read
// as null: the zero value, and nil for pointers.
package bulk

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// NullValue is the cell that sets a field to null in Bulk API 2.0 job data.
const NullValue = "#N/A"

// maxHeaderChars is the documented length limit of a job data header row.
const maxHeaderChars = 32000

// defaultMaxRecordBytes bounds one CSV record read by a Decoder unless
// Format.MaxRecordBytes says otherwise.
const defaultMaxRecordBytes = 32 << 20

// Format is the CSV dialect of a job, its fields named as in encoding/csv. The
// zero value is the API default: commas and LF line endings.
type Format struct {
	// Comma is the column delimiter: ',' (also the zero value), '`', '^', '|',
	// ';' or '\t', the ones Bulk API 2.0 accepts (its columnDelimiter COMMA,
	// BACKQUOTE, CARET, PIPE, SEMICOLON, TAB).
	Comma rune
	// UseCRLF ends lines with \r\n (the job's lineEnding CRLF) instead of \n (LF).
	UseCRLF bool
	// MaxRecordBytes bounds one record when decoding (0 means 32 MiB), so a
	// malformed or hostile result file cannot make the decoder buffer without
	// limit. The encoder ignores it.
	MaxRecordBytes int
}

// delimiterNames are the API's names of the column delimiters it accepts.
var delimiterNames = map[rune]string{',': "COMMA", '`': "BACKQUOTE", '^': "CARET", '|': "PIPE", ';': "SEMICOLON", '\t': "TAB"}

func (f Format) delimiter() (rune, error) {
	d := f.Comma
	if d == 0 {
		d = ','
	}
	if _, ok := delimiterNames[d]; !ok {
		return 0, fmt.Errorf("%w: column delimiter %q (want one of , ` ^ | ; or a tab)", ErrFormat, d)
	}
	return d, nil
}

func (f Format) lineEnding() string {
	if f.UseCRLF {
		return "\r\n"
	}
	return "\n"
}

// jobFields are the job's columnDelimiter and lineEnding for a Format whose
// delimiter was checked.
func (f Format) jobFields() (delimiter, lineEnding string) {
	d, _ := f.delimiter()
	if f.UseCRLF {
		return delimiterNames[d], "CRLF"
	}
	return delimiterNames[d], "LF"
}

// unprefixed is err's message without this package's prefix, for an error
// that wraps it and says "bulk: " itself.
func unprefixed(err error) string { return strings.TrimPrefix(err.Error(), "bulk: ") }

type kind uint8

const (
	kString kind = iota
	kBool
	kInt
	kUint
	kFloat
	kTime
)

// column is one CSV column bound to a (possibly nested) struct field.
type column struct {
	name      string
	index     []int        // field indexes from the record type, through nested structs
	leaf      reflect.Type // the field's type with one pointer removed
	ptr       bool         // the field itself is a pointer
	kind      kind
	omitEmpty bool
	date      bool
}

var timeType = reflect.TypeOf(time.Time{})

// columnsOf maps a struct type to its columns, in field order.
func columnsOf(t reflect.Type) ([]column, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: %s is not a struct", ErrType, t)
	}
	var cols []column
	if err := addColumns(&cols, t, "", nil, 0); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: %s has no exported fields", ErrType, t)
	}
	seen := make(map[string]bool, len(cols))
	for _, c := range cols {
		if seen[c.name] {
			return nil, fmt.Errorf("%w: %s maps two fields to column %s", ErrType, t, c.name)
		}
		seen[c.name] = true
	}
	return cols, nil
}

const maxDepth = 8 // nested struct levels; stops recursive types

func addColumns(cols *[]column, t reflect.Type, prefix string, index []int, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: %s nests structs deeper than %d levels", ErrType, t, maxDepth)
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		name, opts := sf.Tag.Get("sf"), ""
		if name == "" {
			name = sf.Tag.Get("json")
		}
		name, opts, _ = strings.Cut(name, ",")
		if name == "-" && opts == "" {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		ft := sf.Type
		ptr := ft.Kind() == reflect.Pointer
		if ptr {
			ft = ft.Elem()
		}
		inline := hasOpt(opts, "inline") || (sf.Anonymous && name == "")
		if ft.Kind() == reflect.Struct && ft != timeType {
			if !sf.IsExported() && !inline {
				continue
			}
			p := prefix
			if !inline {
				if name == "" {
					name = sf.Name
				}
				p = prefix + name + "."
			}
			if err := addColumns(cols, ft, p, idx, depth+1); err != nil {
				return err
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		c := column{name: prefix + name, index: idx, leaf: ft, ptr: ptr,
			omitEmpty: hasOpt(opts, "omitempty"), date: hasOpt(opts, "date")}
		switch {
		case ft == timeType:
			c.kind = kTime
		case ft.Kind() == reflect.String:
			c.kind = kString
		case ft.Kind() == reflect.Bool:
			c.kind = kBool
		case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Int64:
			c.kind = kInt
		case ft.Kind() >= reflect.Uint && ft.Kind() <= reflect.Uintptr:
			c.kind = kUint
		case ft.Kind() == reflect.Float32 || ft.Kind() == reflect.Float64:
			c.kind = kFloat
		default:
			return fmt.Errorf("%w: field %s (%s) has no CSV form; use a string, number, bool or time.Time", ErrType, sf.Name, sf.Type)
		}
		if c.date && c.kind != kTime {
			return fmt.Errorf("%w: field %s has the date option but is not a time.Time", ErrType, sf.Name)
		}
		*cols = append(*cols, c)
	}
	return nil
}

func hasOpt(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

// Layouts from "Valid Date Format in Records (2.0)": dateTime as
// yyyy-MM-ddTHH:mm:ss.SSSZ (written in UTC) and date as yyyy-MM-dd.
const (
	dateTimeLayout = "2006-01-02T15:04:05.000Z"
	dateLayout     = "2006-01-02"
)

// Encoder writes records of type T as Bulk API 2.0 job data CSV. The header
// row is written before the first record. Call Flush when done. An Encoder is
// not safe for concurrent use.
type Encoder[T any] struct {
	w       *bufio.Writer
	cols    []column
	delim   byte
	eol     string
	scratch []byte
	records int
	header  bool  // header row written
	err     error // sticky: a failed write leaves the CSV incomplete
}

// NewEncoder returns an Encoder for T, which must be a struct type whose
// fields all have a CSV form.
func NewEncoder[T any](w io.Writer, f Format) (*Encoder[T], error) {
	cols, err := columnsOf(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	d, err := f.delimiter()
	if err != nil {
		return nil, err
	}
	eol := f.lineEnding()
	if err := checkHeader(cols); err != nil {
		return nil, err
	}
	return &Encoder[T]{w: bufio.NewWriterSize(w, 64<<10), cols: cols, delim: byte(d), eol: eol}, nil
}

// checkHeader enforces the documented 32,000-character header row limit
// (names plus one delimiter between each).
func checkHeader(cols []column) error {
	n := len(cols) - 1
	for _, c := range cols {
		n += utf8.RuneCountInString(c.name)
	}
	if n > maxHeaderChars {
		return fmt.Errorf("%w: header row is %d characters; Bulk API 2.0 allows %d", ErrHeader, n, maxHeaderChars)
	}
	return nil
}

// Header returns the column names the encoder writes, in order.
func (e *Encoder[T]) Header() []string {
	h := make([]string, len(e.cols))
	for i, c := range e.cols {
		h[i] = c.name
	}
	return h
}

// Encode writes one record, preceded by the header row on the first call. A
// record with a bad value is not written, and the encoder stays usable.
func (e *Encoder[T]) Encode(v T) error {
	if e.err != nil {
		return e.err
	}
	if !e.header {
		e.header = true
		for i, c := range e.cols {
			if i > 0 {
				e.w.WriteByte(e.delim)
			}
			e.writeCell(c.name)
		}
		e.w.WriteString(e.eol)
	}
	// Format every cell before writing any, so a bad value leaves no partial
	// row behind. Cells are appended to scratch, separated by their offsets.
	rv := reflect.ValueOf(&v).Elem()
	e.scratch = e.scratch[:0]
	var ends [64]int
	offs := ends[:0]
	if len(e.cols) > len(ends) {
		offs = make([]int, 0, len(e.cols))
	}
	for _, c := range e.cols {
		var err error
		e.scratch, err = appendCell(e.scratch, rv, &c)
		if err != nil {
			return &EncodeError{Record: e.records + 1, Column: c.name, Err: err}
		}
		offs = append(offs, len(e.scratch))
	}
	start := 0
	for i, end := range offs {
		if i > 0 {
			e.w.WriteByte(e.delim)
		}
		e.writeCellBytes(e.scratch[start:end])
		start = end
	}
	if _, err := e.w.WriteString(e.eol); err != nil {
		e.err = err
		return err
	}
	e.records++
	return nil
}

// Flush writes any buffered data to the underlying writer.
func (e *Encoder[T]) Flush() error {
	if e.err != nil {
		return e.err
	}
	if err := e.w.Flush(); err != nil {
		e.err = err
	}
	return e.err
}

// Records returns how many records have been written.
func (e *Encoder[T]) Records() int { return e.records }

// encodeAll writes every record of seq as CSV to w, flushes, and returns the
// number of records written. It stops at the first error.
func encodeAll[T any](w io.Writer, f Format, seq iter.Seq[T]) (int, error) {
	e, err := NewEncoder[T](w, f)
	if err != nil {
		return 0, err
	}
	for v := range seq {
		if err := e.Encode(v); err != nil {
			return e.Records(), err
		}
	}
	return e.Records(), e.Flush()
}

func (e *Encoder[T]) needsQuotes(s []byte) bool {
	for _, c := range s {
		if c == e.delim || c == '"' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// writeCellBytes writes one cell, quoting it when it holds the delimiter, a
// double quote or a line break, with inner quotes doubled ("Valid CSV Record
// Rows").
func (e *Encoder[T]) writeCellBytes(s []byte) {
	if !e.needsQuotes(s) {
		e.w.Write(s)
		return
	}
	e.w.WriteByte('"')
	for _, c := range s {
		if c == '"' {
			e.w.WriteByte('"')
		}
		e.w.WriteByte(c)
	}
	e.w.WriteByte('"')
}

func (e *Encoder[T]) writeCell(s string) { e.writeCellBytes([]byte(s)) }

// field walks c.index from the record. It reports nilParent when a pointer to
// an enclosing struct is nil, and nilLeaf when the field is a nil pointer.
func field(rv reflect.Value, c *column) (v reflect.Value, nilParent, nilLeaf bool) {
	last := len(c.index) - 1
	for i, x := range c.index {
		rv = rv.Field(x)
		if i < last && rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				return rv, true, false
			}
			rv = rv.Elem()
		}
	}
	if c.ptr {
		if rv.IsNil() {
			return rv, false, true
		}
		rv = rv.Elem()
	}
	return rv, false, false
}

func appendCell(buf []byte, rec reflect.Value, c *column) ([]byte, error) {
	v, nilParent, nilLeaf := field(rec, c)
	if nilParent {
		// No related record given: leave the relationship alone.
		return buf, nil
	}
	null := func() []byte {
		if c.omitEmpty {
			return buf
		}
		return append(buf, NullValue...)
	}
	if nilLeaf {
		return null(), nil
	}
	// As in encoding/json, omitempty drops a zero value but never a non-nil
	// pointer, whatever it points to.
	omitZero := c.omitEmpty && !c.ptr
	switch c.kind {
	case kString:
		s := v.String()
		if s == "" {
			return null(), nil
		}
		if s == NullValue {
			return buf, fmt.Errorf("%w: the text %s cannot be sent, Bulk API 2.0 reads it as null", ErrValue, NullValue)
		}
		if !utf8.ValidString(s) {
			return buf, fmt.Errorf("%w: text is not valid UTF-8, which job data must be", ErrValue)
		}
		return append(buf, s...), nil
	case kBool:
		if omitZero && !v.Bool() {
			return buf, nil
		}
		return strconv.AppendBool(buf, v.Bool()), nil
	case kInt:
		if omitZero && v.Int() == 0 {
			return buf, nil
		}
		return strconv.AppendInt(buf, v.Int(), 10), nil
	case kUint:
		if omitZero && v.Uint() == 0 {
			return buf, nil
		}
		return strconv.AppendUint(buf, v.Uint(), 10), nil
	case kFloat:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return buf, fmt.Errorf("%w: NaN or infinity has no Salesforce number form", ErrValue)
		}
		if omitZero && f == 0 {
			return buf, nil
		}
		bits := 64
		if v.Kind() == reflect.Float32 {
			bits = 32
		}
		return strconv.AppendFloat(buf, f, 'f', -1, bits), nil
	case kTime:
		t := *v.Addr().Interface().(*time.Time) // via the pointer: no copy to the heap
		if t.IsZero() {
			return null(), nil
		}
		if c.date {
			// A date has no zone ("Specifying an offset for date is not
			// supported"): the calendar date in t's own location is sent.
			if y := t.Year(); y < 0 || y > 9999 {
				return buf, fmt.Errorf("%w: year %d is outside 0000-9999", ErrValue, y)
			}
			return t.AppendFormat(buf, dateLayout), nil
		}
		t = t.UTC()
		if y := t.Year(); y < 0 || y > 9999 {
			return buf, fmt.Errorf("%w: year %d is outside 0000-9999", ErrValue, y)
		}
		return t.AppendFormat(buf, dateTimeLayout), nil
	}
	return buf, fmt.Errorf("%w: unknown column kind", ErrType)
}
