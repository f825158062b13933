package bulk

import (
	"encoding/csv"
	"errors"
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

// IngestResult is one row of an ingest job's successfulResults or
// failedResults CSV ("Get Job Successful Record Results", "Get Job Failed
// Record Results"): the sf__ columns Salesforce adds, and the fields of the
// row as uploaded, decoded into Record. ID is empty for a failed row unless
// Salesforce reports one; Error is empty for a successful row.
type IngestResult[T any] struct {
	ID      string `sf:"sf__Id"`
	Created bool   `sf:"sf__Created"`
	Error   string `sf:"sf__Error"`
	Record  T      `sf:",inline"`
}

// Decoder reads CSV records into values of type T, binding each header column
// to the field of the same name (an exact match first, else one that differs
// only in case, since Salesforce field names are case-insensitive). Columns
// with no field are skipped; fields with no column keep their zero value.
// Memory use does not grow with the number of records. A Decoder is not safe
// for concurrent use.
//
// # Errors that are skipped and errors that end the input
//
// Each error is returned once. A bad cell value (a *DecodeError naming its
// Column, wrapping ErrValue: text that is not a number, a date out of range,
// invalid UTF-8) fails only its own record, which was read whole; decoding
// goes on with the next record. Every other error ends the input, and the
// next Decode returns io.EOF:
//   - a header that is missing, has an empty or duplicated name (ErrHeader);
//   - a malformed line, such as a bare quote or a value left open (ErrValue,
//     no Column): where the next record starts is guesswork;
//   - a record with more or fewer cells than the header (ErrValue, no
//     Column): its cells cannot be matched to columns, and the stream no
//     longer is what its header says;
//   - a record over Format.MaxRecordBytes (ErrRecordTooLarge);
//   - an error reading the underlying reader, returned as is.
//
// So a caller that logs an error and goes on always reaches the end: read
// until io.EOF.
type Decoder[T any] struct {
	r       *csv.Reader
	lim     *limitReader
	max     int
	cols    []column
	binding []int    // for each CSV column, an index into cols or -1
	names   []string // the header as read, the first name without a byte order mark
	records int
	started bool
	err     error // the error that ended the input; later calls return io.EOF
}

// NewDecoder returns a Decoder for T reading r in format f. It reads nothing
// until the first call to Decode.
func NewDecoder[T any](r io.Reader, f Format) (*Decoder[T], error) {
	cols, err := columnsOf(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	d, err := f.delimiter()
	if err != nil {
		return nil, err
	}
	max := f.MaxRecordBytes
	if max <= 0 {
		max = defaultMaxRecordBytes
	}
	lim := &limitReader{r: r, left: max + readAhead}
	cr := csv.NewReader(lim)
	cr.Comma = d
	cr.ReuseRecord = true
	return &Decoder[T]{r: cr, lim: lim, max: max, cols: cols}, nil
}

// Header returns the CSV header, or nil before the first Decode.
func (d *Decoder[T]) Header() []string {
	if !d.started {
		return nil
	}
	h := make([]string, len(d.binding))
	for i, b := range d.binding {
		if b >= 0 {
			h[i] = d.cols[b].name
		}
	}
	return h
}

// Decode reads the next record into *v, which it first resets to the zero
// value. It returns io.EOF after the last record, and after an error that
// ends the input (see Decoder). Errors are *DecodeError naming the line and
// column, or the underlying reader's error; each is returned once.
func (d *Decoder[T]) Decode(v *T) error {
	if d.err != nil {
		return io.EOF
	}
	if err := d.start(); err != nil {
		return err
	}
	d.lim.left = d.max + readAhead
	rec, err := d.r.Read()
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		d.err = d.lineError(err)
		return d.err
	}
	d.records++
	var zero T
	*v = zero
	rv := reflect.ValueOf(v).Elem()
	for i, cell := range rec {
		b := d.binding[i]
		if b < 0 {
			continue
		}
		if err := setCell(rv, &d.cols[b], cell); err != nil {
			line, _ := d.r.FieldPos(i)
			*v = zero
			return &DecodeError{Line: line, Record: d.records, Column: d.cols[b].name, Err: err}
		}
	}
	return nil
}

// All returns the remaining records as a sequence. Each error is yielded
// once, with the zero T: after a bad cell value the sequence goes on with the
// next record, after an error that ends the input (see Decoder) it ends.
func (d *Decoder[T]) All() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			var v T
			err := d.Decode(&v)
			if err == io.EOF {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// start reads the header unless it was read; an error ends the input.
func (d *Decoder[T]) start() error {
	if d.started {
		return d.err
	}
	d.started = true
	if err := d.readHeader(); err != nil {
		d.err = err
		return err
	}
	return nil
}

// ended reports whether an error ended the input.
func (d *Decoder[T]) ended() bool { return d.err != nil }

func (d *Decoder[T]) readHeader() error {
	hdr, err := d.r.Read()
	if err == io.EOF {
		return &DecodeError{Line: 1, Err: fmt.Errorf("%w: input is empty, a header row is required", ErrHeader)}
	}
	if err != nil {
		return d.lineError(err)
	}
	byName := make(map[string]int, len(d.cols))
	byFold := make(map[string]int, len(d.cols))
	for i, c := range d.cols {
		byName[c.name] = i
		byFold[strings.ToLower(c.name)] = i
	}
	d.binding = make([]int, len(hdr))
	d.names = make([]string, len(hdr))
	seen := make(map[string]bool, len(hdr))
	for i, name := range hdr {
		if i == 0 {
			name = trimBOM(name)
		}
		d.names[i] = name
		key := strings.ToLower(name)
		if name == "" || seen[key] {
			return &DecodeError{Line: 1, Column: name, Err: fmt.Errorf("%w: empty or duplicate column name", ErrHeader)}
		}
		seen[key] = true
		b, ok := byName[name]
		if !ok {
			if b, ok = byFold[key]; !ok {
				b = -1
			}
		}
		d.binding[i] = b
	}
	return nil
}

func (d *Decoder[T]) lineError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &DecodeError{Line: pe.Line, Record: d.records + 1, Err: fmt.Errorf("%w: %v", ErrValue, pe.Err)}
	}
	if errors.Is(err, ErrRecordTooLarge) {
		line, _ := d.r.FieldPos(0)
		return &DecodeError{Line: line, Record: d.records + 1, Err: fmt.Errorf("%w: over %d bytes", ErrRecordTooLarge, d.max)}
	}
	return err // an I/O error from the underlying reader, as is
}

// setCell parses cell into the field of rec that c names. An empty cell and
// #N/A are null: the field keeps its zero value.
func setCell(rec reflect.Value, c *column, cell string) error {
	if cell == "" || cell == NullValue {
		return nil
	}
	f := rec
	for i, x := range c.index {
		f = f.Field(x)
		if f.Kind() == reflect.Pointer && (i < len(c.index)-1 || c.ptr) {
			if f.IsNil() {
				f.Set(reflect.New(f.Type().Elem()))
			}
			f = f.Elem()
		}
	}
	switch c.kind {
	case kString:
		if !utf8.ValidString(cell) {
			return fmt.Errorf("%w: text is not valid UTF-8", ErrValue)
		}
		f.SetString(cell)
	case kBool:
		// Salesforce writes booleans as true and false.
		switch {
		case strings.EqualFold(cell, "true"):
			f.SetBool(true)
		case strings.EqualFold(cell, "false"):
			f.SetBool(false)
		default:
			return fmt.Errorf("%w: want true or false for a %s field", ErrValue, c.leaf)
		}
	case kInt:
		n, err := strconv.ParseInt(cell, 10, c.leaf.Bits())
		if err != nil {
			// A number field can come back as 5.0; accept it only when whole.
			fl, ferr := strconv.ParseFloat(cell, 64)
			if ferr != nil || fl != math.Trunc(fl) || fl < math.MinInt64 || fl >= math.MaxInt64 {
				return fmt.Errorf("%w: want an integer that fits %s", ErrValue, c.leaf)
			}
			n = int64(fl)
			if f.OverflowInt(n) {
				return fmt.Errorf("%w: want an integer that fits %s", ErrValue, c.leaf)
			}
		}
		f.SetInt(n)
	case kUint:
		n, err := strconv.ParseUint(cell, 10, c.leaf.Bits())
		if err != nil {
			return fmt.Errorf("%w: want a non-negative integer that fits %s", ErrValue, c.leaf)
		}
		f.SetUint(n)
	case kFloat:
		fl, err := strconv.ParseFloat(cell, c.leaf.Bits())
		if err != nil || math.IsNaN(fl) || math.IsInf(fl, 0) {
			return fmt.Errorf("%w: want a finite number for a %s field", ErrValue, c.leaf)
		}
		f.SetFloat(fl)
	case kTime:
		t, err := parseTime(cell)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(t))
	}
	return nil
}

// parseTime reads the forms of "Valid Date Format in Records (2.0)": a date
// yyyy-MM-dd (as midnight UTC) or a dateTime with optional milliseconds and a
// Z or ±HH:mm (or ±HHmm, as older API versions document) offset.
func parseTime(s string) (time.Time, error) {
	if len(s) == len(dateLayout) {
		if t, err := time.Parse(dateLayout, s); err == nil {
			return t, nil
		}
	} else {
		for _, layout := range []string{
			"2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05Z07:00",
			"2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700",
		} {
			if t, err := time.Parse(layout, s); err == nil {
				// Salesforce stores years 0000-9999 in UTC; an offset that
				// moves the instant outside them is not one of its values.
				if y := t.UTC().Year(); y < 0 || y > 9999 {
					break
				}
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%w: want yyyy-MM-dd or yyyy-MM-ddTHH:mm:ss.SSSZ", ErrValue)
}

// readAhead is slack for what encoding/csv's bufio.Reader reads beyond the
// current record.
const readAhead = 64 << 10

// limitReader fails with ErrRecordTooLarge once left bytes have been read;
// the Decoder refills left before each record.
type limitReader struct {
	r    io.Reader
	left int
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, ErrRecordTooLarge
	}
	if len(p) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= n
	return n, err
}
