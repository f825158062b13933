package bulkjob

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// countingWriter counts bytes and line breaks, and refuses to pass limit.
type countingWriter struct {
	w     io.Writer
	n     int64
	lines int64
	limit int64
}

// errTooLarge is an upload over MaxUpload.
var errTooLarge = errors.New("upload too large")

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.n+int64(len(p)) > c.limit {
		return 0, errTooLarge
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.lines += int64(bytes.Count(p[:n], []byte{'\n'}))
	return n, err
}

// ResultWriter writes a result CSV as Salesforce's examples show it: every
// value double-quoted ("Get Job Successful Record Results").
type ResultWriter struct {
	W     *bufio.Writer
	Delim string
	EOL   string
}

// Row writes one row made of the cells of each part in turn.
func (rw *ResultWriter) Row(cells ...[]string) {
	first := true
	for _, part := range cells {
		for _, c := range part {
			if !first {
				rw.W.WriteString(rw.Delim)
			}
			first = false
			rw.W.WriteByte('"')
			rw.W.WriteString(strings.ReplaceAll(c, `"`, `""`))
			rw.W.WriteByte('"')
		}
	}
	rw.W.WriteString(rw.EOL)
}

// newCSVReader reads delimited rows of any width, reusing its row slice.
func newCSVReader(r io.Reader, delim rune) *csv.Reader {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.Comma = delim
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	return cr
}

// countCSVRows counts the data rows of an uploaded CSV (the header left
// out); exact is false when the file cannot be read to its end.
func countCSVRows(path string, delim rune) (n int64, exact bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	cr := newCSVReader(f, delim)
	for {
		_, err := cr.Read()
		var perr *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return max(n-1, 0), true
		case err != nil && !errors.As(err, &perr):
			return n, false
		}
		n++ // a row that does not parse is still a row, failed when applied
	}
}

// rowCount says how many rows a job has, or at most how many.
func rowCount(n int64, exact bool, upper int64) string {
	if exact {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("up to %d", upper)
}

// copyUnprocessed writes the header and the records after the first skip.
func copyUnprocessed(out io.Writer, in io.Reader, delim rune, eol string, skip int64) error {
	cr := newCSVReader(in, delim)
	rw := &ResultWriter{W: bufio.NewWriterSize(out, 64<<10), Delim: string(delim), EOL: eol}
	for n := int64(-1); ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			continue
		}
		if n < 0 || n >= skip {
			rw.Row(rec)
		}
	}
	return rw.W.Flush()
}
