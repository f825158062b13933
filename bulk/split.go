package bulk

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxRecordBytes bounds one CSV record the splitter holds; Salesforce's own
// limit is 400,000 characters a record ("Limits and Allocations").
const maxRecordBytes = 4 << 20

// splitter cuts a CSV stream into uploads of at most limit bytes, each
// starting with the header row, at record boundaries. A record ends at a line
// break outside double quotes; inner quotes are doubled in CSV, so counting
// quote characters tells whether a line break is inside a value. Memory: one
// record at a time.
type splitter struct {
	r       *bufio.Reader
	limit   int64
	header  []byte
	pending []byte // the next record, read but not yet sent
	spare   []byte // the record being sent
	eof     bool
	records int64 // records handed out so far
}

func newSplitter(r io.Reader, limit int64) (*splitter, error) {
	s := &splitter{r: bufio.NewReaderSize(r, 64<<10), limit: limit}
	h, err := s.readRecord(nil)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(h)) == 0 {
		return nil, fmt.Errorf("%w: the CSV is empty: its first line must be the header row of field names", ErrHeader)
	}
	if int64(len(h)) >= limit {
		return nil, fmt.Errorf("%w: the header row alone is %d bytes", ErrUploadTooLarge, len(h))
	}
	if h[len(h)-1] != '\n' {
		return nil, fmt.Errorf("%w: the CSV has a header row but no records", ErrHeader)
	}
	s.header = h
	if s.pending, err = s.readRecord(nil); err != nil {
		return nil, err
	}
	if len(s.pending) == 0 {
		return nil, fmt.Errorf("%w: the CSV has a header row but no records", ErrHeader)
	}
	return s, nil
}

// readRecord appends the next record, with its line break, to buf. At the
// end of the stream it returns what is left (possibly nothing) and sets eof.
func (s *splitter) readRecord(buf []byte) ([]byte, error) {
	quotes := 0
	start := len(buf)
	for {
		line, err := s.r.ReadSlice('\n')
		buf = append(buf, line...)
		quotes += bytes.Count(line, []byte{'"'})
		if len(buf)-start > maxRecordBytes {
			return nil, fmt.Errorf("%w: a record of the CSV exceeds %d bytes (unbalanced quotes?)", ErrRecordTooLarge, maxRecordBytes)
		}
		switch {
		case err == nil && quotes%2 == 0:
			return buf, nil
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			s.eof = true
			if quotes%2 != 0 {
				return nil, fmt.Errorf("%w: the CSV ends inside a quoted value", ErrFormat)
			}
			return buf, nil
		default:
			return nil, err
		}
	}
}

// more reports whether records remain for another upload.
func (s *splitter) more() bool { return len(s.pending) > 0 }

// next returns a reader of the next upload: the header, then records while
// they fit in limit. A record larger than limit on its own is ErrUploadTooLarge.
func (s *splitter) next() io.Reader {
	return &chunk{s: s, size: int64(len(s.header)), buf: s.header}
}

type chunk struct {
	s    *splitter
	size int64  // bytes of this upload so far, header and pending included
	buf  []byte // bytes left to hand out of the current piece
	body bool   // the header has been handed out
	done bool
}

// Read fills p with as many records as fit: a reader handing out one small
// record per call would make the HTTP/2 transport send tiny DATA frames.
func (c *chunk) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(c.buf) == 0 {
			if c.done {
				break
			}
			if err := c.advance(); err != nil {
				return n, err
			}
			continue
		}
		m := copy(p[n:], c.buf)
		c.buf = c.buf[m:]
		n += m
	}
	if n == 0 && c.done {
		return 0, io.EOF
	}
	return n, nil
}

// advance moves the pending record into the chunk when it fits.
func (c *chunk) advance() error {
	s := c.s
	if len(s.pending) == 0 {
		c.done = true
		return nil
	}
	if c.body && c.size+int64(len(s.pending)) > s.limit {
		c.done = true
		return nil
	}
	if !c.body && c.size+int64(len(s.pending)) > s.limit {
		return fmt.Errorf("%w: record %d alone is %d bytes with the header (limit %d)", ErrUploadTooLarge, s.records+1, c.size+int64(len(s.pending)), s.limit)
	}
	c.body = true
	c.size += int64(len(s.pending))
	// Hand out the record and read the next into the spare buffer: the one
	// being handed out stays intact until the chunk has sent it.
	c.buf = s.pending
	s.pending, s.spare = s.spare[:0], s.pending
	s.records++
	if !s.eof {
		var err error
		if s.pending, err = s.readRecord(s.pending); err != nil {
			return err
		}
	}
	return nil
}
