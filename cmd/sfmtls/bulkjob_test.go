package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/bulk"
)

// A job left running (here an Open ingest job, as Ctrl-C leaves one) can be
// seen and aborted by its id: "Get Information About an Ingest Job" (GET
// jobs/ingest/jobID) and "Close or Abort a Job" (PATCH state Aborted), which
// Salesforce refuses for a job that has ended.
func TestBulkStatusAndAbortByID(t *testing.T) {
	org, vars := orgEnv(t)
	b := bulk.NewClient(org.Client(t), bulk.Options{})
	job, _, err := b.CreateIngestJob(t.Context(), bulk.IngestSpec{Object: "Account", Operation: bulk.Insert})
	require.NoError(t, err)

	r := bulkRun(t, vars, "", "bulk", "status", job.ID)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^job:\s+`+job.ID+` \(ingest\)$`, r.stdout)
	assert.Regexp(t, `(?m)^state:\s+Open$`, r.stdout)
	assert.Regexp(t, `(?m)^operation:\s+insert$`, r.stdout)
	assert.Regexp(t, `(?m)^object:\s+Account$`, r.stdout)
	assert.Empty(t, r.stderr)

	r = bulkRun(t, vars, "", "bulk", "abort", job.ID)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "job "+job.ID+" Aborted\n", r.stdout)
	info, err := job.Info(t.Context())
	require.NoError(t, err)
	assert.Equal(t, bulk.StateAborted, info.State)

	r = bulkRun(t, vars, "", "bulk", "status", job.ID)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^state:\s+Aborted$`, r.stdout)

	// An ended job is not aborted again: exit 1, the state named.
	r = bulkRun(t, vars, "", "bulk", "abort", job.ID)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "sfmtls: job "+job.ID+" has ended (Aborted): there is nothing to abort\n", r.stderr)
}

// status finds a query job by its id too ("Get Information About a Query
// Job": GET jobs/query/jobID).
func TestBulkStatusOfQueryJob(t *testing.T) {
	org, vars := orgEnv(t)
	b := bulk.NewClient(org.Client(t), bulk.Options{})
	job, _, err := b.CreateQueryJob(t.Context(), bulk.QuerySpec{Query: "SELECT Id FROM Account"})
	require.NoError(t, err)
	r := bulkRun(t, vars, "", "bulk", "status", job.ID)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^job:\s+`+job.ID+` \(query\)$`, r.stdout)
	assert.Regexp(t, `(?m)^operation:\s+query$`, r.stdout)
	assert.Regexp(t, `(?m)^query:\s+SELECT Id FROM Account$`, r.stdout)

	r = bulkRun(t, vars, "", "bulk", "results", "--failed", filepath.Join(t.TempDir(), "f.csv"), job.ID)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "job "+job.ID+" is a query job")
}

// A job id Salesforce does not know is answered 404 NOT_FOUND: each command
// says so, naming the id, with exit 1.
func TestBulkJobCommandsUnknownID(t *testing.T) {
	_, vars := orgEnv(t)
	const id = "750000000000000AAA"
	out := filepath.Join(t.TempDir(), "failed.csv")
	for _, args := range [][]string{
		{"bulk", "status", id},
		{"bulk", "abort", id},
		{"bulk", "results", "--failed", out, id},
	} {
		r := bulkRun(t, vars, "", args...)
		assert.Equal(t, 1, r.code, "%v: %s", args, r.stderr)
		assert.Equal(t, "sfmtls: Salesforce has no Bulk API 2.0 ingest or query job "+id+" (404 NOT_FOUND) "+
			"(give the job id sfmtls bulk ingest or bulk query printed, e.g. 7505g00000XyZabAAB)\n", r.stderr, "%v", args)
		assert.Empty(t, r.stdout)
	}
	assert.NoFileExists(t, out)
}

// results writes an ingest job's result sets, fetched later by its id: "Get
// Job Successful Record Results" (sf__Id, sf__Created, then the columns
// sent) and "Get Job Failed Record Results" (sf__Id, sf__Error, ...). A file
// that exists is replaced only with --force, checked before any fetch.
func TestBulkResultsByID(t *testing.T) {
	org, vars := orgEnv(t)
	r := bulkRun(t, vars, "Name,NumberOfEmployees\nOk,1\nBad,many\n",
		"bulk", "ingest", "--object", "Account", "--operation", "insert", "-")
	require.Equal(t, 1, r.code, r.stderr)
	id := regexp.MustCompile(`job\(s\) (750\w{15})`).FindStringSubmatch(r.stderr)
	require.NotNil(t, id, r.stderr)

	dir := t.TempDir()
	ok, failed, unprocessed := filepath.Join(dir, "ok.csv"), filepath.Join(dir, "failed.csv"), filepath.Join(dir, "unprocessed.csv")
	r = bulkRun(t, vars, "", "bulk", "results", id[1], "--successful", ok, "--failed", failed, "--unprocessed", unprocessed)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, ok+": 1 successful row(s) of job "+id[1]+"\n"+failed+": 1 failed row(s) of job "+id[1]+"\n"+
		unprocessed+": 0 unprocessed row(s) of job "+id[1]+"\n", r.stderr)
	raw, err := os.ReadFile(ok)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, `"sf__Id","sf__Created","Name","NumberOfEmployees"`, lines[0])
	assert.Contains(t, lines[1], `"true","Ok","1"`)
	raw, err = os.ReadFile(failed)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(raw), `"sf__Id","sf__Error","Name","NumberOfEmployees"`+"\n"), string(raw))
	assert.Contains(t, string(raw), `"Bad","many"`)
	st, err := os.Stat(failed)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// Again: refused without --force, before anything is fetched.
	before := org.Stats().APIRequests
	r = bulkRun(t, vars, "", "bulk", "results", "--failed", failed, id[1])
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "sfmtls: "+failed+" already exists: choose another name, or add --force to replace it\n", r.stderr)
	assert.Equal(t, before, org.Stats().APIRequests)
	r = bulkRun(t, vars, "", "bulk", "results", "--force", "--failed", failed, id[1])
	require.Equal(t, 0, r.code, r.stderr)

	// No file named: wrong usage.
	r = bulkRun(t, vars, "", "bulk", "results", id[1])
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "name at least one file")
}
