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
// out) as encoding/csv reads them: blank lines are no rows, and line breaks
// inside a quoted value belong to it. It reads lines instead of parsing
// fields and looks at single bytes only in lines that hold a quote, which
// keeps the count of a million-row upload cheap. exact is false when the
// file cannot be read to its end.
func countCSVRows(path string, delim rune) (n int64, exact bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	c := rowCounter{delim: byte(delim)} // every delimiter the API allows is one byte
	var long []byte
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return c.rows, false
		}
		c.line(line)
		if err != nil {
			return max(c.end()-1, 0), true
		}
	}
}

// rowCounter counts CSV records line by line.
type rowCounter struct {
	delim                          byte
	rows                           int64
	inQuotes, fieldStart, rowBegun bool
}

// line counts one line, its line break included (the last line may lack one).
func (c *rowCounter) line(line []byte) {
	if !c.inQuotes && bytes.IndexByte(line, '"') < 0 {
		// encoding/csv turns CRLF into LF and drops a CR before the end of
		// the file: what is left besides the line break is the row's data.
		content := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
		if len(content) > 0 {
			c.rows++
		}
		return
	}
	if !c.inQuotes {
		c.fieldStart, c.rowBegun = true, false
	}
	for i := 0; i < len(line); i++ {
		b := line[i]
		if c.inQuotes {
			if b == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					i++ // "" is a quote inside the value
				} else {
					c.inQuotes = false
				}
			}
			continue
		}
		switch b {
		case '\n':
			if c.rowBegun {
				c.rows++
			}
			c.fieldStart, c.rowBegun = true, false
		case '\r':
			// A lone CR is data; CRLF is a line break, and a CR at the end
			// of the file is dropped, as encoding/csv reads them.
			if i+1 < len(line) && line[i+1] != '\n' {
				c.fieldStart, c.rowBegun = false, true
			}
		case c.delim:
			c.fieldStart, c.rowBegun = true, true
		case '"':
			c.inQuotes = c.fieldStart
			c.fieldStart, c.rowBegun = false, true
		default:
			c.fieldStart, c.rowBegun = false, true
		}
	}
}

// end counts a last row the end of the file left open (without a line
// break after it, or inside a quoted value).
func (c *rowCounter) end() int64 {
	if c.inQuotes || c.rowBegun {
		c.rows++
	}
	return c.rows
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
