package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Issue 20.4: bulk ingest's progress shows a percent and an ETA where the
// total is known: the bytes of a file while it is uploaded, then the
// records once the whole CSV is read (from a file or standard input).
func TestProgressLine(t *testing.T) {
	for _, c := range []struct {
		s    ingestState
		want string
	}{
		// A file of 40 MiB, a quarter sent in 10 s: 30 s to go.
		{ingestState{read: 10 << 20, size: 40 << 20, elapsed: 10 * time.Second, progress: bulk.Progress{Jobs: 1}},
			"uploading 25%  10.0 MiB of 40.0 MiB  ETA 30s  failed 0  jobs 1  elapsed 10s"},
		// Standard input: no size, no percent.
		{ingestState{read: 10 << 20, size: -1, elapsed: 10 * time.Second},
			"uploading 10.0 MiB  failed 0  jobs 0  elapsed 10s"},
		// Read in 10 s; 50,000 of 200,000 processed in the 20 s since: 60 s to go.
		{ingestState{progress: bulk.Progress{Jobs: 2, Processed: 50_000, Failed: 3}, records: 200_000, recordsKnown: true,
			elapsed: 30 * time.Second, readFor: 10 * time.Second},
			"processed 50000 of 200000 records 25%  ETA 1m0s  failed 3  jobs 2  elapsed 30s"},
		// Nothing processed yet: no rate, no ETA.
		{ingestState{progress: bulk.Progress{Jobs: 1}, records: 10, recordsKnown: true, elapsed: 2 * time.Second, readFor: time.Second},
			"processed 0 of 10 records 0%  ETA --  failed 0  jobs 1  elapsed 2s"},
		{ingestState{progress: bulk.Progress{Jobs: 1, Processed: 10}, records: 10, recordsKnown: true, elapsed: 2 * time.Second, readFor: time.Second},
			"processed 10 of 10 records 100%  ETA 0s  failed 0  jobs 1  elapsed 2s"},
	} {
		assert.Equal(t, c.want, progressLine(c.s))
	}
}

// The meter counts records, not lines: a quoted value may hold line ends,
// and the last line may lack its own.
func TestCSVMeterCountsRecords(t *testing.T) {
	for _, c := range []struct {
		csv  string
		want int64
	}{
		{"Name\nA\nB\n", 2},
		{"Name\nA\nB", 2},
		{"Name,Description\r\nA,\"one\r\ntwo\"\r\nB,\"say \"\"hi\"\"\nthen\"\r\n", 2},
		{"Name\n", 0},
		{"", 0},
	} {
		m := &csvMeter{r: strings.NewReader(c.csv), size: int64(len(c.csv)), start: time.Now()}
		_, known := m.records()
		assert.False(t, known, "unknown before the end")
		buf := make([]byte, 3) // small reads: quotes across reads
		for {
			if _, err := m.Read(buf); err != nil {
				break
			}
		}
		n, known := m.records()
		assert.True(t, known)
		assert.Equal(t, c.want, n, "%q", c.csv)
	}
}

// On a terminal, bulk ingest of a file shows the percent of the records
// and ends at 100%.
func TestBulkIngestProgressShowsPercent(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	b := bulk.NewClient(org.Client(t), bulk.Options{PollInterval: 5 * time.Millisecond})
	csv := filepath.Join(t.TempDir(), "a.csv")
	require.NoError(t, os.WriteFile(csv, []byte("Name\nQ1\nQ2\nQ3\n"), 0o600))
	var stderr bytes.Buffer
	code := runBulkIngest(t.Context(), b, bulkIngestFlags{Object: "Account", Operation: "insert", File: csv},
		bulkIO{stderr: &stderr, stdout: &bytes.Buffer{}, isTerminal: true})
	require.Equal(t, 0, code, stderr.String())
	assert.Regexp(t, regexp.MustCompile(`\r\033\[Kprocessed 3 of 3 records 100%  ETA 0s  failed 0  jobs 1  elapsed \d+s\n`), stderr.String())
}
