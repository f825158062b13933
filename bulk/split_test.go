package bulk

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// splitAll runs the splitter over data and returns the uploads.
func splitAll(data []byte, limit int64) ([][]byte, error) {
	sp, err := newSplitter(bytes.NewReader(data), limit)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for sp.more() && len(out) <= len(data) {
		b, err := io.ReadAll(sp.next())
		if err != nil {
			return out, err
		}
		out = append(out, b)
	}
	return out, nil
}

func TestSplitKeepsQuotedLineBreaksAndRepeatsTheHeader(t *testing.T) {
	data := []byte("A,B\r\n1,\"x\r\ny\"\r\n2,\"\"\"q\"\"\"\r\n3,z")
	chunks, err := splitAll(data, 16)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A,B\r\n1,\"x\r\ny\"\r\n", "A,B\r\n2,\"\"\"q\"\"\"\r\n", "A,B\r\n3,z"}
	if len(chunks) != len(want) {
		t.Fatalf("got %q", chunks)
	}
	for i := range want {
		if string(chunks[i]) != want[i] {
			t.Errorf("chunk %d = %q, want %q", i, chunks[i], want[i])
		}
	}
	if _, err := splitAll([]byte("A\n\"open\n"), 100); !errors.Is(err, ErrFormat) {
		t.Errorf("unbalanced quote: %v", err)
	}
}

// FuzzSplit: whatever the input, the uploads each start with the header,
// fit the limit, and put together (headers dropped but the first) give back
// the input exactly.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"A,B\n1,2\n3,4\n", "A\n\"x\ny\"\n", "A\r\n\"\"\"\"\r\nb", "A\n", ""} {
		f.Add([]byte(s), uint16(8))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		chunks, err := splitAll(data, int64(limit)+1)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrHeader) && !errors.Is(err, ErrUploadTooLarge) && !errors.Is(err, ErrRecordTooLarge) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		if len(chunks) == 0 {
			t.Fatal("no uploads and no error")
		}
		sp, _ := newSplitter(bytes.NewReader(data), int64(limit)+1)
		var joined []byte
		for i, c := range chunks {
			if int64(len(c)) > int64(limit)+1 {
				t.Fatalf("upload %d is %d bytes, over %d", i, len(c), int64(limit)+1)
			}
			if !bytes.HasPrefix(c, sp.header) || len(c) == len(sp.header) {
				t.Fatalf("upload %d does not hold the header and a record: %q", i, c)
			}
			if i > 0 {
				c = c[len(sp.header):]
			}
			joined = append(joined, c...)
		}
		if !bytes.Equal(joined, data) {
			t.Fatalf("uploads joined differ from the input:\n%q\n%q", joined, data)
		}
	})
}
