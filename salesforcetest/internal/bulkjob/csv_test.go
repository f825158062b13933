package bulkjob

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A job's row count is its records, not its lines: quoted values may hold
// line breaks ("Bulk API 2.0 and Bulk API Developer Guide", "Valid CSV
// Record Rows"). The cap decides on this count.
func TestCountCSVRowsCountsRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upload.csv")
	require.NoError(t, os.WriteFile(path, []byte("Name,Description\nA,\"one\nline more\"\nB,\"two\r\nlines\"\nC,x\n"), 0o600))
	n, exact := countCSVRows(path, ',')
	assert.True(t, exact)
	assert.EqualValues(t, 3, n)
	_, exact = countCSVRows(filepath.Join(t.TempDir(), "missing.csv"), ',')
	assert.False(t, exact)
}

// Result rows quote every value and double the quotes inside ("Get Job
// Successful Record Results").
func TestResultWriterQuotesEveryValue(t *testing.T) {
	var buf bytes.Buffer
	rw := &ResultWriter{W: bufio.NewWriter(&buf), Delim: "|", EOL: "\r\n"}
	rw.Row([]string{"001", "true"}, []string{`say "hi"`, ""})
	require.NoError(t, rw.W.Flush())
	assert.Equal(t, `"001"|"true"|"say ""hi"""|""`+"\r\n", buf.String())
}

// FuzzUploadCSV: any uploaded bytes are counted and copied back as
// unprocessed rows without a panic; the count is encoding/csv's wherever
// encoding/csv reads the upload, and the copy holds no more rows than the
// count found, plus the header.
func FuzzUploadCSV(f *testing.F) {
	for _, seed := range []string{"Name\nA\nB\n", "Name,Description\nA,\"x\ny\"\n", "\"unterminated\n", "a,b\n1\n1,2,3\n", "", "\ufeffName\r\nA\r\n"} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, upload string) {
		path := filepath.Join(dir, "upload.csv")
		require.NoError(t, os.WriteFile(path, []byte(upload), 0o600))
		n, exact := countCSVRows(path, ',')
		require.True(t, exact)
		if want, ok := csvRows(upload); ok {
			require.Equal(t, want, n, "encoding/csv reads %d rows from %q", want, upload)
		}
		in, err := os.Open(path)
		require.NoError(t, err)
		defer in.Close()
		var out bytes.Buffer
		require.NoError(t, copyUnprocessed(&out, in, ',', "\n", 0))
		copied, _ := countCSVRows(writeTemp(t, out.String()), ',')
		require.LessOrEqual(t, copied, n+1, "copy %q of %q", out.String(), upload)
	})
}

// csvRows counts the data rows encoding/csv reads from s, and false when
// it cannot read them all.
func csvRows(s string) (int64, bool) {
	cr := newCSVReader(strings.NewReader(s), ',')
	var n int64
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return max(n-1, 0), true
		}
		if err != nil {
			return 0, false
		}
		n++
	}
}

func writeTemp(t *testing.T, s string) string {
	path := filepath.Join(t.TempDir(), strings.ReplaceAll(t.Name(), "/", "_")+".csv")
	require.NoError(t, os.WriteFile(path, []byte(s), 0o600))
	return path
}
