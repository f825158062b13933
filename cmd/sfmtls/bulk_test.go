package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	assert.Zero(t, org.Data().BulkJobCount()-1, "the query job is deleted after the download; the ingest job stays")
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
	id, err := org.Data().Create("Account", map[string]any{"Name": "Gone"})
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

// On a terminal the commands show progress: records processed of the total,
// failed, elapsed time.
func TestBulkProgressOnTerminal(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	b := bulk.NewClient(org.Client(t), bulk.Options{PollInterval: 5 * time.Millisecond})
	var stderr bytes.Buffer
	code := runBulkIngest(t.Context(), b, bulkIngestFlags{Object: "Account", Operation: "insert", File: "-"},
		bulkIO{stdin: strings.NewReader("Name\nP1\nP2\n"), stdout: &bytes.Buffer{}, stderr: &stderr, isTerminal: true})
	require.Equal(t, 0, code, stderr.String())
	assert.Regexp(t, "\r\033\\[Kprocessed 2 of 2 records 100%  ETA 0s  failed 0  jobs 1  elapsed \\d+s", stderr.String())

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
	org.Setup().Handle("GET "+bulkJobsPath+"/ingest/{id}/failedResults/", true, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
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
	org.Setup().Handle("GET "+bulkJobsPath+"/ingest/{id}/unprocessedrecords/", true, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "Name\nC\n")
	}))
	r = bulkRun(t, vars, "Name\nC\n", "bulk", "ingest", "--object", "Account", "--operation", "insert",
		"--force", "--unprocessed", unprocessed, "-")
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
	org.Setup().Handle("GET "+bulkJobsPath+"/query/{id}/results", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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

// Ctrl-C during an upload ends the context; sfmtls bulk ingest then aborts
// the job ("Close or Abort a Job": PATCH state Aborted), waiting up to 30 s
// for the answer. Here neither the upload nor the abort is ever answered: a
// second Ctrl-C exits at once, with 130, instead of waiting.
func TestBulkIngestSecondInterruptExitsAtOnce(t *testing.T) {
	org, vars := orgEnv(t)
	done := make(chan int, 1)
	t.Cleanup(func() { <-done }) // last: once the handlers are released, the command ends
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hang := func(seen chan struct{}) http.Handler {
		var once sync.Once
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
			once.Do(func() { close(seen) })
			select { // never answers while the test runs
			case <-release:
			case <-r.Context().Done():
			}
		})
	}
	uploading, aborting := make(chan struct{}), make(chan struct{})
	org.Setup().Handle("PUT "+bulkJobsPath+"/ingest/{id}/batches", true, hang(uploading))
	org.Setup().Handle("PATCH "+bulkJobsPath+"/ingest/{id}", true, hang(aborting))

	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	stderr := &syncBuffer{}
	ctx, stop := interruptContext(t.Context(), sigs, stderr, func(code int) { exited <- code })
	defer stop()
	go func() {
		done <- run([]string{"bulk", "ingest", "--object", "Account", "--operation", "insert", "-"},
			&env{ctx: ctx, stdin: strings.NewReader("Name\nA\n"), stdout: &syncBuffer{}, stderr: stderr,
				getenv: func(k string) string { return vars[k] }})
	}()
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case code := <-done:
			t.Fatalf("the command ended with %d before %s; stderr: %s", code, what, stderr.String())
		case <-time.After(20 * time.Second):
			t.Fatalf("no %s; stderr: %s", what, stderr.String())
		}
	}
	wait(uploading, "upload")
	sigs <- os.Interrupt
	wait(aborting, "abort after the first interrupt")
	select {
	case code := <-exited:
		t.Fatalf("exited with %d after one interrupt", code)
	default:
	}

	sigs <- os.Interrupt
	select {
	case code := <-exited:
		assert.Equal(t, 130, code)
		assert.Contains(t, stderr.String(), "sfmtls: interrupt received twice: exiting now")
	case <-time.After(10 * time.Second): // well under the abort's 30 s
		t.Fatalf("a second interrupt did not exit; stderr: %s", stderr.String())
	}
}

// The first signal ends the context and nothing else; stop before any
// signal ends the watcher without exiting.
func TestInterruptContext(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	var stderr syncBuffer
	ctx, stop := interruptContext(t.Context(), sigs, &stderr, func(code int) { exited <- code })
	sigs <- syscall.SIGTERM
	<-ctx.Done()
	assert.Empty(t, exited)
	sigs <- syscall.SIGTERM
	assert.Equal(t, 128+int(syscall.SIGTERM), <-exited)
	stop()

	ctx, stop = interruptContext(t.Context(), sigs, &stderr, func(code int) { exited <- code })
	stop()
	<-ctx.Done()
	sigs <- os.Interrupt // no watcher left to take it
	assert.Len(t, sigs, 1)
}

// TestBulkMainProcess is sfmtls itself, main and all, when SFMTLS_TEST_MAIN
// holds its arguments as JSON: the child of
// TestBulkIngestSecondInterruptProcess.
func TestBulkMainProcess(t *testing.T) {
	raw := os.Getenv("SFMTLS_TEST_MAIN")
	if raw == "" {
		t.Skip("the child process of TestBulkIngestSecondInterruptProcess")
	}
	var args []string
	require.NoError(t, json.Unmarshal([]byte(raw), &args))
	os.Args = append([]string{"sfmtls"}, args...)
	main() // exits
}

// The same as TestBulkIngestSecondInterruptExitsAtOnce with real signals to
// a real process: main's wiring. Two SIGINTs while the abort hangs exit at
// once with 130.
func TestBulkIngestSecondInterruptProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send on Windows")
	}
	org, vars := orgEnv(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hang := func(seen chan struct{}) http.Handler {
		var once sync.Once
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
			once.Do(func() { close(seen) })
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
	}
	uploading, aborting := make(chan struct{}), make(chan struct{})
	org.Setup().Handle("PUT "+bulkJobsPath+"/ingest/{id}/batches", true, hang(uploading))
	org.Setup().Handle("PATCH "+bulkJobsPath+"/ingest/{id}", true, hang(aborting))

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // never a hang
	defer cancel()
	args, err := json.Marshal([]string{"bulk", "ingest", "--object", "Account", "--operation", "insert", "-"})
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBulkMainProcess$")
	cmd.Env = append(os.Environ(), "SFMTLS_TEST_MAIN="+string(args))
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader("Name\nA\n")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case err := <-exited:
			t.Fatalf("sfmtls ended (%v) before %s; stderr: %s", err, what, stderr.String())
		case <-time.After(time.Minute):
			t.Fatalf("no %s; stderr: %s", what, stderr.String())
		}
	}
	wait(uploading, "upload")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	wait(aborting, "abort after the first interrupt")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case err := <-exited:
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 130, ee.ExitCode(), stderr.String())
		assert.Contains(t, stderr.String(), "sfmtls: interrupt received twice: exiting now")
	case <-time.After(10 * time.Second): // well under the abort's 30 s
		t.Fatalf("a second interrupt did not end sfmtls; stderr: %s", stderr.String())
	}
}
