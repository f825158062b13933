package bulk

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// sameHeader checks that a later result set's header equals the first's,
// column for column: rows are matched to columns by position when CSV is
// joined, so another order would put values under the wrong names. where
// names the result set for the message.
func sameHeader(first, got []string, where string) error {
	if len(got) != len(first) {
		return fmt.Errorf("%w: %s has %d columns, the first result set had %d", ErrHeader, where, len(got), len(first))
	}
	for i := range first {
		if got[i] != first[i] {
			return fmt.Errorf("%w: %s has column %d %q where the first result set had %q", ErrHeader, where, i+1, got[i], first[i])
		}
	}
	return nil
}

// csvJoin writes CSV bodies that each start with a header row as one CSV:
// the first header once, then every body's rows, streamed. A body whose
// header differs from the first is refused before any of its rows is
// written. An empty body (no header, no rows) adds nothing.
type csvJoin struct {
	w      io.Writer
	comma  rune
	header []string // nil until a body with a header was added
	rows   int64    // data rows written
}

// add copies one body; where names it for errors.
func (c *csvJoin) add(body io.Reader, where string) error {
	sp := &splitter{r: bufio.NewReaderSize(body, 64<<10)}
	raw, err := sp.readRecord(nil)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if !sp.eof {
			return fmt.Errorf("%w: %s starts with an empty line instead of a header row", ErrHeader, where)
		}
		return nil
	}
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.Comma = c.comma
	hdr, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrHeader, where, err)
	}
	hdr[0] = trimBOM(hdr[0])
	if c.header == nil {
		if _, err := c.w.Write(raw); err != nil {
			return err
		}
		c.header = hdr
	} else if err := sameHeader(c.header, hdr, where); err != nil {
		return err
	}
	rc := &rowCounter{w: c.w}
	_, err = io.Copy(rc, sp.r)
	c.rows += rc.finish()
	return err
}

// rowCounter passes CSV bytes through and counts the records in them: a
// record ends at a line break outside double quotes (a doubled quote inside a
// value toggles twice); a line with nothing on it is not a record. It holds
// no record, so a long value costs no memory.
type rowCounter struct {
	w        io.Writer
	n        int64
	inQuotes bool
	content  bool // the current record has bytes other than its line break
}

func (r *rowCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		switch {
		case b == '"':
			r.inQuotes = !r.inQuotes
			r.content = true
		case b == '\n' && !r.inQuotes:
			if r.content {
				r.n++
			}
			r.content = false
		case b != '\r':
			r.content = true
		}
	}
	return r.w.Write(p)
}

// finish counts a last record without a line break.
func (r *rowCounter) finish() int64 {
	if r.content {
		r.n++
		r.content = false
	}
	return r.n
}

// trimBOM drops a UTF-8 byte order mark, which is not part of the first
// column's name. The Bulk API 2.0 docs are silent on whether results carry one.
func trimBOM(s string) string { return strings.TrimPrefix(s, "\uFEFF") }
