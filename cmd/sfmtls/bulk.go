package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/sfmtls/sfmtls/bulk"
)

const bulkUsage = `usage:
  sfmtls bulk ingest --object NAME --operation insert|update|upsert|delete|hardDelete
                     [--external-id FIELD] [--failed FILE] [--unprocessed FILE] [connection flags] FILE.csv|-
  sfmtls bulk query [--all] [--out FILE] [connection flags] SOQL
`

// bulkIngestFlags are the inputs of sfmtls bulk ingest.
type bulkIngestFlags struct {
	Object, Operation, ExternalID string
	Failed, Unprocessed           string // files for the failed and unprocessed rows; "" skips
	File                          string // the CSV, or "-" for standard input
}

// bulkQueryFlags are the inputs of sfmtls bulk query.
type bulkQueryFlags struct {
	All  bool
	Out  string // "" writes to standard output
	SOQL string
}

// bulkIO is what the bulk commands read and write.
type bulkIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// isTerminal: standard error is a terminal, so progress is shown.
	isTerminal bool
}

// cmdBulk is the entry of sfmtls bulk: it parses flags and runs ingest or query.
func cmdBulk(args []string, e *env) int {
	if len(args) == 0 || (args[0] != "ingest" && args[0] != "query") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(e.stdout, bulkUsage)
			return exitOK
		}
		fmt.Fprint(e.stderr, bulkUsage)
		return exitUsage
	}
	streams := bulkIO{stdin: e.stdin, stdout: e.stdout, stderr: e.stderr, isTerminal: isTerminal(e.stderr)}
	if streams.stdin == nil {
		streams.stdin = os.Stdin
	}
	if args[0] == "query" {
		var f bulkQueryFlags
		s, pos, code, ok := connectionFlags("bulk query", "[--all] [--out FILE] [connection flags] SOQL", args[1:], e, func(fs *flag.FlagSet) {
			fs.BoolVar(&f.All, "all", false, "queryAll: include deleted and archived records")
			fs.StringVar(&f.Out, "out", "", "write the CSV to this file instead of standard output")
		})
		if !ok {
			return code
		}
		if len(pos) != 1 {
			fmt.Fprintln(e.stderr, "sfmtls bulk query: expected one SOQL argument, e.g. 'SELECT Id, Name FROM Account'")
			return exitUsage
		}
		f.SOQL = pos[0]
		c, done, err := connect(s, e)
		if err != nil {
			return fail(e, err)
		}
		defer done()
		return runBulkQuery(e.ctx, bulk.NewClient(c, bulk.Options{}), f, streams)
	}
	var f bulkIngestFlags
	s, pos, code, ok := connectionFlags("bulk ingest", "--object NAME --operation OP [flags] FILE.csv|-", args[1:], e, func(fs *flag.FlagSet) {
		fs.StringVar(&f.Object, "object", "", "the sObject, e.g. Account")
		fs.StringVar(&f.Operation, "operation", "", "insert, update, upsert, delete or hardDelete")
		fs.StringVar(&f.ExternalID, "external-id", "", "the external id field that matches rows for upsert")
		fs.StringVar(&f.Failed, "failed", "", "write the failed rows, with sf__Error, to this CSV file")
		fs.StringVar(&f.Unprocessed, "unprocessed", "", "write the rows Salesforce did not process to this CSV file")
	})
	if !ok {
		return code
	}
	if msg := f.check(pos); msg != "" {
		fmt.Fprintf(e.stderr, "sfmtls bulk ingest: %s\n%s", msg, bulkUsage)
		return exitUsage
	}
	f.File = pos[0]
	c, done, err := connect(s, e)
	if err != nil {
		return fail(e, err)
	}
	defer done()
	return runBulkIngest(e.ctx, bulk.NewClient(c, bulk.Options{}), f, streams)
}

// check validates the flags and positional arguments; "" means fine.
func (f bulkIngestFlags) check(pos []string) string {
	switch {
	case len(pos) != 1:
		return "expected one CSV file, or - for standard input"
	case f.Object == "":
		return "--object is required, e.g. --object Account"
	}
	switch bulk.Operation(f.Operation) {
	case bulk.Insert, bulk.Update, bulk.Delete, bulk.HardDelete:
		if f.ExternalID != "" {
			return "--external-id is only for --operation upsert"
		}
	case bulk.Upsert:
		if f.ExternalID == "" {
			return "--operation upsert needs --external-id FIELD, the external id field that matches rows to records"
		}
	default:
		return fmt.Sprintf("--operation must be insert, update, upsert, delete or hardDelete, not %q", f.Operation)
	}
	return ""
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// runBulkIngest ingests the CSV and reports: progress on a terminal, a
// one-line summary, exit 0 only when every record succeeded.
func runBulkIngest(ctx context.Context, b *bulk.Client, f bulkIngestFlags, std bulkIO) int {
	in := std.stdin
	if f.File != "-" {
		file, err := os.Open(f.File)
		if err != nil {
			fmt.Fprintf(std.stderr, "sfmtls bulk ingest: %v\n", err)
			return exitFailure
		}
		defer file.Close()
		in = file
	}
	start := time.Now()
	progress := func(p bulk.Progress) {
		if std.isTerminal {
			fmt.Fprintf(std.stderr, "\r\033[Kjobs %d  uploaded %s  processed %d  failed %d  elapsed %s",
				p.Jobs, byteSize(p.Uploaded), p.Processed, p.Failed, p.Elapsed.Round(time.Second))
		}
	}
	spec := bulk.IngestSpec{Object: f.Object, Operation: bulk.Operation(f.Operation), ExternalIDField: f.ExternalID}
	res, err := b.Ingest(ctx, spec, in, progress)
	if std.isTerminal {
		fmt.Fprintln(std.stderr)
	}
	var jobErr *bulk.JobError
	if err != nil && !errors.As(err, &jobErr) {
		fmt.Fprintf(std.stderr, "sfmtls bulk ingest: %v\n", err)
		if res != nil && len(res.Jobs) > 0 {
			fmt.Fprintf(std.stderr, "sfmtls bulk ingest: jobs already sent: %s\n", jobIDs(res.Jobs))
		}
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(std.stderr, "sfmtls bulk ingest: %v\n", err)
	}
	// Result files are written even for failed jobs: they say what to resend.
	for _, out := range []struct {
		path string
		kind bulk.ResultKind
	}{{f.Failed, bulk.FailedResults}, {f.Unprocessed, bulk.UnprocessedRecords}} {
		if out.path == "" {
			continue
		}
		if werr := writeFile(out.path, func(w *os.File) error { return bulk.WriteResults(ctx, w, out.kind, res.Jobs...) }); werr != nil {
			fmt.Fprintf(std.stderr, "sfmtls bulk ingest: writing %s: %v\n", out.path, werr)
			return exitFailure
		}
	}
	succeeded := res.Processed - res.Failed
	fmt.Fprintf(std.stderr, "%s %s: %d records, %d succeeded, %d failed, %d unprocessed, %d job(s) %s, in %s\n",
		f.Operation, f.Object, res.Records, succeeded, res.Failed, res.Unprocessed(), len(res.Jobs), jobIDs(res.Jobs),
		time.Since(start).Round(time.Millisecond))
	if err != nil || res.Failed > 0 || res.Unprocessed() > 0 {
		return exitFailure
	}
	return exitOK
}

// runBulkQuery runs a query job and writes its CSV, all pages, to the file
// or standard output; progress on a terminal.
func runBulkQuery(ctx context.Context, b *bulk.Client, f bulkQueryFlags, std bulkIO) int {
	start := time.Now()
	show := func(format string, args ...any) {
		if std.isTerminal {
			fmt.Fprintf(std.stderr, "\r\033[K"+format+"  elapsed %s", append(args, time.Since(start).Round(time.Second))...)
		}
	}
	job, _, err := b.Query(ctx, bulk.QuerySpec{Query: f.SOQL, All: f.All}, func(info bulk.JobInfo) {
		show("query job %s %s", info.ID, info.State)
	})
	if err != nil {
		if std.isTerminal {
			fmt.Fprintln(std.stderr)
		}
		fmt.Fprintf(std.stderr, "sfmtls bulk query: %v\n", err)
		return exitFailure
	}
	write := func(w *os.File) error {
		var out = std.stdout
		if w != nil {
			out = w
		}
		_, err := job.WriteCSV(ctx, out, 0, func(n int64) { show("records %d", n) })
		return err
	}
	if f.Out == "" {
		err = write(nil)
	} else {
		err = writeFile(f.Out, write)
	}
	if std.isTerminal {
		fmt.Fprintln(std.stderr)
	}
	if err != nil {
		fmt.Fprintf(std.stderr, "sfmtls bulk query: %v\n", err)
		return exitFailure
	}
	// The job's results stay at Salesforce for days otherwise.
	if derr := job.Delete(ctx); derr != nil {
		fmt.Fprintf(std.stderr, "sfmtls bulk query: deleting job %s: %v\n", job.ID, derr)
	}
	return exitOK
}

// writeFile writes a file that may hold record data: readable by its owner only.
func writeFile(path string, write func(*os.File) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	return errors.Join(write(f), f.Close())
}

func jobIDs(jobs []*bulk.IngestJob) string {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return strings.Join(ids, ",")
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
