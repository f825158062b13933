package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// bulkJobsPath is where the Bulk API 2.0 jobs of the fake org are.
const bulkJobsPath = "/services/data/v" + salesforcetest.APIVersion + "/jobs"

// bulkRun runs sfmtls with stdin in-process against the org's settings.
func bulkRun(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{ctx: context.Background(), stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return vars[k] }}
	code := run(args, e)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func TestBulkIngestAllSucceedExitsZero(t *testing.T) {
	org, vars := orgEnv(t)
	csv := filepath.Join(t.TempDir(), "accounts.csv")
	require.NoError(t, os.WriteFile(csv, []byte("Name,Industry\nCli A,Energy\nCli B,Banking\nCli C,Energy\n"), 0o600))
	r := bulkRun(t, vars, "", "bulk", "ingest", "--object", "Account", "--operation", "insert", csv)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `^insert Account: 3 records, 3 succeeded, 0 failed, 0 unprocessed, 1 job\(s\) 750\w{15}, in \S+\n$`, r.stderr)
	assert.Empty(t, r.stdout)

	// And back out as CSV, one header row.
	r = bulkRun(t, vars, "", "bulk", "query", "SELECT Name, Industry FROM Account WHERE Name LIKE 'Cli %' ORDER BY Name")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "\"Name\",\"Industry\"\n\"Cli A\",\"Energy\"\n\"Cli B\",\"Banking\"\n\"Cli C\",\"Energy\"\n", r.stdout)
	assert.Empty(t, r.stderr)
	assert.Zero(t, org.BulkJobCount()-1, "the query job is deleted after the download; the ingest job stays")
}

// Exit 1 when any record fails; counts on standard error, the failed rows
// with sf__Error in --failed.
func TestBulkIngestFailuresFromStdin(t *testing.T) {
	_, vars := orgEnv(t)
	failed := filepath.Join(t.TempDir(), "failed.csv")
	r := bulkRun(t, vars, "Name,NumberOfEmployees\nOk,1\nBad,many\n#N/A,2\n",
		"bulk", "ingest", "--object", "Account", "--operation", "insert", "--failed", failed, "-")
	require.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "insert Account: 3 records, 1 succeeded, 2 failed, 0 unprocessed")
	raw, err := os.ReadFile(failed)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, `"sf__Id","sf__Error","Name","NumberOfEmployees"`, lines[0])
	assert.Contains(t, lines[1]+lines[2], `JSON_PARSER_ERROR:`)
	assert.Contains(t, lines[1]+lines[2], `REQUIRED_FIELD_MISSING:`)
	st, err := os.Stat(failed)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

// A failed job: exit 1, Salesforce's errorMessage, the rows in --unprocessed.
func TestBulkIngestFailedJob(t *testing.T) {
	_, vars := orgEnv(t)
	unprocessed := filepath.Join(t.TempDir(), "unprocessed.csv")
	r := bulkRun(t, vars, "Name,Nope__c\nA,1\n", "bulk", "ingest", "--object", "Account", "--operation", "insert",
		"--unprocessed", unprocessed, "-")
	require.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "Failed: InvalidBatch : Field name not found : Nope__c")
	assert.Contains(t, r.stderr, "1 records, 0 succeeded, 0 failed, 1 unprocessed")
	raw, err := os.ReadFile(unprocessed)
	require.NoError(t, err)
	assert.Equal(t, "\"Name\",\"Nope__c\"\n\"A\",\"1\"\n", string(raw))
}

func TestBulkUsage(t *testing.T) {
	_, vars := orgEnv(t)
	for _, args := range [][]string{
		{"bulk"},
		{"bulk", "export"},
		{"bulk", "ingest", "--object", "Account", "--operation", "upsert", "-"},
		{"bulk", "ingest", "--object", "Account", "--operation", "insert", "--external-id", "X", "-"},
		{"bulk", "ingest", "--operation", "insert", "-"},
		{"bulk", "ingest", "--object", "Account", "--operation", "merge", "-"},
		{"bulk", "ingest", "--object", "Account", "--operation", "insert"},
		{"bulk", "query"},
	} {
		r := bulkRun(t, vars, "", args...)
		assert.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
		assert.NotEmpty(t, r.stderr)
	}
	r := bulkRun(t, vars, "", "bulk", "ingest", "--object", "Account", "--operation", "insert", filepath.Join(t.TempDir(), "missing.csv"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no such file")
}

// --all includes deleted records; --out writes the file.
func TestBulkQueryAllToFile(t *testing.T) {
	org, vars := orgEnv(t)
	id, err := org.Create("Account", map[string]any{"Name": "Gone"})
	require.NoError(t, err)
	r := bulkRun(t, vars, "Id\n"+id+"\n", "bulk", "ingest", "--object", "Account", "--operation", "delete", "-")
	require.Equal(t, 0, r.code, r.stderr)
	out := filepath.Join(t.TempDir(), "all.csv")
	r = bulkRun(t, vars, "", "bulk", "query", "--all", "--out", out, "SELECT Name, IsDeleted FROM Account WHERE Name = 'Gone'")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "\"Name\",\"IsDeleted\"\n\"Gone\",\"true\"\n", string(raw))
	r = bulkRun(t, vars, "", "bulk", "query", "SELECT Name FROM Account WHERE Name = 'Gone'")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout, "query without --all does not see deleted records")
}

// On a terminal the commands show progress: records processed and failed,
// elapsed time.
func TestBulkProgressOnTerminal(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	b := bulk.NewClient(org.Client(t), bulk.Options{PollInterval: 5 * time.Millisecond})
	var stderr bytes.Buffer
	code := runBulkIngest(t.Context(), b, bulkIngestFlags{Object: "Account", Operation: "insert", File: "-"},
		bulkIO{stdin: strings.NewReader("Name\nP1\nP2\n"), stdout: &bytes.Buffer{}, stderr: &stderr, isTerminal: true})
	require.Equal(t, 0, code, stderr.String())
	assert.Regexp(t, "\r\033\\[Kjobs 1  uploaded 11 B  processed 2  failed 0  elapsed \\d+s", stderr.String())

	stderr.Reset()
	var stdout bytes.Buffer
	code = runBulkQuery(t.Context(), b, bulkQueryFlags{SOQL: "SELECT Name FROM Account WHERE Name LIKE 'P%'"},
		bulkIO{stdout: &stdout, stderr: &stderr, isTerminal: true})
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stderr.String(), "\r\033[Krecords 2  elapsed")
	assert.Contains(t, stderr.String(), "JobComplete")
	assert.Equal(t, "\"Name\"\n\"P1\"\n\"P2\"\n", stdout.String())

	// Without a terminal, only the summary.
	stderr.Reset()
	code = runBulkIngest(t.Context(), b, bulkIngestFlags{Object: "Account", Operation: "insert", File: "-"},
		bulkIO{stdin: strings.NewReader("Name\nP3\n"), stdout: &bytes.Buffer{}, stderr: &stderr})
	require.Equal(t, 0, code)
	assert.NotContains(t, stderr.String(), "\r")
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"))
}

// The exit status follows the rows the tool found, not only the job's
// counters: here the job reports 0 failed and 0 unprocessed ("Get Job
// Info": numberRecordsFailed), while its failedResults ("Get Job Failed
// Record Results") and unprocessedrecords hold rows. Exit 1, and the
// mismatch is said.
func TestBulkIngestExitFollowsFailedRowsFound(t *testing.T) {
	org, vars := orgEnv(t)
	org.Handle("GET "+bulkJobsPath+"/ingest/{id}/failedResults/", true, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		_, _ = io.WriteString(w, "\"sf__Id\",\"sf__Error\",\"Name\"\n\"\",\"E1\",\"A\"\n\"\",\"E2\",\"B\"\n")
	}))
	dir := t.TempDir()
	failed, unprocessed := filepath.Join(dir, "failed.csv"), filepath.Join(dir, "unprocessed.csv")
	r := bulkRun(t, vars, "Name\nA\nB\n", "bulk", "ingest", "--object", "Account", "--operation", "insert",
		"--failed", failed, "--unprocessed", unprocessed, "-")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "insert Account: 2 records, 2 succeeded, 0 failed, 0 unprocessed")
	assert.Contains(t, r.stderr, "sfmtls bulk ingest: "+failed+" holds 2 failed row(s), the jobs reported 0\n")
	assert.NotContains(t, r.stderr, unprocessed)
	raw, err := os.ReadFile(failed)
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(raw), "\n"))

	// The same for unprocessed rows.
	org.Handle("GET "+bulkJobsPath+"/ingest/{id}/unprocessedrecords/", true, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "Name\nC\n")
	}))
	r = bulkRun(t, vars, "Name\nC\n", "bulk", "ingest", "--object", "Account", "--operation", "insert",
		"--unprocessed", unprocessed, "-")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "sfmtls bulk ingest: "+unprocessed+" holds 1 unprocessed row(s), the jobs reported 0\n")
}

// A locator cycle A -> B -> A ("Get Results for a Query Job": Sforce-Locator)
// ends sfmtls bulk query with exit 1 and the error's message; each page is
// written once.
func TestBulkQueryLocatorCycleExitsNonZero(t *testing.T) {
	org, vars := orgEnv(t)
	next := map[string]string{"": "A", "A": "B", "B": "A"}
	var requests atomic.Int32
	org.Handle("GET "+bulkJobsPath+"/query/{id}/results", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) > 10 {
			http.Error(w, "too many pages", http.StatusBadRequest)
			return
		}
		loc := r.URL.Query().Get("locator")
		w.Header().Set("Sforce-Locator", next[loc])
		_, _ = io.WriteString(w, "\"Name\"\n\"page "+loc+"\"\n")
	}))
	r := bulkRun(t, vars, "", "bulk", "query", "SELECT Name FROM Account")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "sfmtls bulk query: bulk: Salesforce sent a result locator again: query job 750")
	assert.Equal(t, "\"Name\"\n\"page \"\n\"page A\"\n\"page B\"\n", r.stdout)
	assert.EqualValues(t, 3, requests.Load())
}
