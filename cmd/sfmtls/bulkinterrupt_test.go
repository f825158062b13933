package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/bulk"
)

// interruptRun runs sfmtls in-process with the signal channel main wires to
// Ctrl-C, sends one interrupt once reached is closed, and returns the exit
// status and standard error. A second interrupt is never sent: the exit
// recorder must stay empty.
func interruptRun(t *testing.T, vars map[string]string, stdin string, reached chan struct{}, args ...string) (int, string) {
	t.Helper()
	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	stderr := &syncBuffer{}
	ctx, stop := interruptContext(t.Context(), sigs, stderr, func(code int) { exited <- code })
	defer stop()
	done := make(chan int, 1)
	go func() {
		done <- run(args, &env{ctx: ctx, stdin: strings.NewReader(stdin), stdout: &syncBuffer{}, stderr: stderr,
			getenv: func(k string) string { return vars[k] }})
	}()
	select {
	case <-reached:
	case code := <-done:
		t.Fatalf("the command ended with %d before the interrupt; stderr: %s", code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the command never got there; stderr: %s", stderr.String())
	}
	sigs <- os.Interrupt
	select {
	case code := <-done:
		assert.Empty(t, exited, "one interrupt never calls exit")
		return code, stderr.String()
	case <-time.After(60 * time.Second): // the clean-up is bounded by 30 s
		t.Fatalf("the command did not end after the interrupt; stderr: %s", stderr.String())
	}
	return 0, ""
}

// once closes ch the first time it is called.
func once(ch chan struct{}) func() {
	var o sync.Once
	return func() { o.Do(func() { close(ch) }) }
}

var jobIDPattern = regexp.MustCompile(`job (750\w{15})`)

// Ctrl-C during the upload: bulk ingest aborts the job ("Close or Abort a
// Job": PATCH state Aborted), says so with the job's id, and exits 130.
func TestBulkIngestInterruptDuringUploadAbortsAndExits130(t *testing.T) {
	org, vars := orgEnv(t)
	uploading := make(chan struct{})
	seen := once(uploading)
	org.Setup().Handle("PUT "+bulkJobsPath+"/ingest/{id}/batches", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		seen()
		<-r.Context().Done() // never answers: the client gives up at the interrupt
	}))
	code, stderr := interruptRun(t, vars, "Name\nA\nB\n", uploading,
		"bulk", "ingest", "--object", "Account", "--operation", "insert", "-")
	assert.Equal(t, 130, code, stderr)
	m := jobIDPattern.FindStringSubmatch(stderr)
	require.NotNil(t, m, stderr)
	assert.Equal(t, "sfmtls bulk ingest: interrupted: job "+m[1]+" aborted (0 records processed); "+
		"'sfmtls bulk results "+m[1]+" --unprocessed FILE' writes the rows not processed\n", stderr)
	info, err := bulk.NewClient(org.Client(t), bulk.Options{}).IngestJob(m[1], bulk.Format{}).Info(t.Context())
	require.NoError(t, err)
	assert.Equal(t, bulk.StateAborted, info.State, "what was said is what Salesforce holds")
}

// Ctrl-C while the job is processing: the data is at Salesforce, so the job
// is left running, and the message gives its id and the commands to see or
// abort it; exit 130. Salesforce says InProgress here ("Get Information
// About an Ingest Job": state).
func TestBulkIngestInterruptWhileProcessingLeavesJobRunning(t *testing.T) {
	org, vars := orgEnv(t)
	polling := make(chan struct{})
	seen := once(polling)
	org.Setup().Handle("GET "+bulkJobsPath+"/ingest/{id}", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(bulk.JobInfo{ID: r.PathValue("id"), Object: "Account", Operation: bulk.Insert, State: bulk.StateInProgress})
	}))
	code, stderr := interruptRun(t, vars, "Name\nA\n", polling,
		"bulk", "ingest", "--object", "Account", "--operation", "insert", "-")
	assert.Equal(t, 130, code, stderr)
	m := jobIDPattern.FindStringSubmatch(stderr)
	require.NotNil(t, m, stderr)
	id := m[1]
	assert.Equal(t, "sfmtls bulk ingest: interrupted: job "+id+" left running (InProgress): "+
		"see it with 'sfmtls bulk status "+id+"', abort it with 'sfmtls bulk abort "+id+"'\n", stderr)
}

// Ctrl-C while a query job runs: nobody will read its results, so it is
// aborted ("Abort a Query Job": PATCH state Aborted, answered with the job's
// info), the message names it, and the exit status is 130.
func TestBulkQueryInterruptAbortsAndExits130(t *testing.T) {
	org, vars := orgEnv(t)
	polling := make(chan struct{})
	seen := once(polling)
	org.Setup().Handle("GET "+bulkJobsPath+"/query/{id}", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(bulk.JobInfo{ID: r.PathValue("id"), Operation: "query", State: bulk.StateInProgress})
	}))
	aborted := make(chan string, 1)
	org.Setup().Handle("PATCH "+bulkJobsPath+"/query/{id}", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ State string }
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<10)).Decode(&req)
		aborted <- req.State
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(bulk.JobInfo{ID: r.PathValue("id"), Operation: "query", State: bulk.StateAborted})
	}))
	code, stderr := interruptRun(t, vars, "", polling, "bulk", "query", "SELECT Id FROM Account")
	assert.Equal(t, 130, code, stderr)
	assert.Regexp(t, `^sfmtls bulk query: interrupted: query job 750\w{15} aborted\n$`, stderr)
	assert.Equal(t, "Aborted", <-aborted)
}

// Ctrl-C while the job is being created ("Create a Job": POST jobs/ingest,
// here never answered): no id is known and no data was sent; exit 130.
func TestBulkIngestInterruptBeforeAnyJob(t *testing.T) {
	org, vars := orgEnv(t)
	creating := make(chan struct{})
	seen := once(creating)
	org.Setup().Handle("POST "+bulkJobsPath+"/ingest", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen()
		<-r.Context().Done()
	}))
	code, stderr := interruptRun(t, vars, "Name\nA\n", creating,
		"bulk", "ingest", "--object", "Account", "--operation", "insert", "-")
	assert.Equal(t, 130, code, stderr)
	assert.Equal(t, "sfmtls bulk ingest: interrupted before Salesforce sent a job id: no data was uploaded\n", stderr)
}

// Ctrl-C during the download of a complete query job's results ("Get
// Results for a Query Job", here never answered): the output is incomplete,
// so the job is deleted ("Delete a Query Job"), as after a full download;
// exit 130.
func TestBulkQueryInterruptDuringDownloadDeletesJob(t *testing.T) {
	org, vars := orgEnv(t)
	downloading := make(chan struct{})
	seen := once(downloading)
	org.Setup().Handle("GET "+bulkJobsPath+"/query/{id}/results", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen()
		<-r.Context().Done()
	}))
	code, stderr := interruptRun(t, vars, "", downloading, "bulk", "query", "SELECT Id FROM Account")
	assert.Equal(t, 130, code, stderr)
	m := regexp.MustCompile(`^sfmtls bulk query: interrupted: the output is incomplete; query job (750\w{15}) deleted\n$`).FindStringSubmatch(stderr)
	require.NotNil(t, m, stderr)
	r := bulkRun(t, vars, "", "bulk", "status", m[1])
	assert.Equal(t, 1, r.code, "the job is gone: %s", r.stdout)
	assert.Contains(t, r.stderr, m[1]+" (404 NOT_FOUND)")
}
