package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/cmd/sfmtls/internal/settings"
)

// bulkIngestFlags are the inputs of sfmtls bulk ingest.
type bulkIngestFlags struct {
	Object, Operation, ExternalID string
	Failed, Unprocessed           string // files for the failed and unprocessed rows; "" skips
	File                          string // the CSV, or "-" for standard input
	Force                         bool   // replace --failed and --unprocessed files that exist
}

// bulkQueryFlags are the inputs of sfmtls bulk query.
type bulkQueryFlags struct {
	All   bool
	Out   string // "" writes to standard output
	SOQL  string
	Force bool // replace an --out file that exists
}

// bulkIO is what the bulk commands read and write.
type bulkIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// isTerminal: standard error is a terminal, so progress is shown.
	isTerminal bool
}

// newBulkCommand is sfmtls bulk: ingest a CSV or query to CSV with Bulk API 2.0.
func newBulkCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:         "bulk COMMAND",
		Short:       "Bulk API 2.0: ingest a CSV (insert, update, upsert, delete, hardDelete) or query to CSV; see, abort or fetch a job's results",
		Annotations: map[string]string{"group": "true"},
		Args:        cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("a command is needed: ingest, query, status, abort or results")
			}
			return usagef("unknown command %q: ingest, query, status, abort or results", args[0])
		},
	}
	cmd.AddCommand(newBulkIngestCommand(e), newBulkQueryCommand(e),
		newBulkStatusCommand(e), newBulkAbortCommand(e), newBulkResultsCommand(e))
	return cmd
}

func (e *env) bulkIO() bulkIO {
	streams := bulkIO{stdin: e.stdin, stdout: e.stdout, stderr: e.stderr, isTerminal: isTerminal(e.stderr)}
	if streams.stdin == nil {
		streams.stdin = os.Stdin
	}
	return streams
}

func newBulkIngestCommand(e *env) *cobra.Command {
	var f bulkIngestFlags
	var s *settings.Settings
	var ts *settings.TokenStore
	cmd := &cobra.Command{
		Use:   "ingest FILE.csv|-",
		Short: "load a CSV into an object with a Bulk API 2.0 ingest job",
		Long: `Load a CSV (a file, or - for standard input) into an object with Bulk API 2.0
ingest jobs, split as Salesforce's limits require. The summary goes to standard
error; exit status 0 only when every record succeeded, by the jobs' counts
and by the rows found. --failed and --unprocessed write the rows to resend
(mode 0600); a file that exists is replaced only with --force, and that is
checked before any job is sent. Ctrl-C aborts the job being uploaded to,
leaves the jobs already uploaded running, says which (see sfmtls bulk status,
abort and results), and exits 130.
` + connectionHelp + "\n" + sessionHelp,
		Example: `  sfmtls bulk ingest --object Account --operation upsert --external-id Ext_Id__c --failed failed.csv accounts.csv`,
		RunE: body(func(_ *cobra.Command, args []string) error {
			if msg := f.check(args); msg != "" {
				return usagef("%s", msg)
			}
			if err := needSettings(s, ts); err != nil {
				return err
			}
			f.File = args[0]
			if err := refuseExisting(f.Force, nonEmpty(f.Failed, f.Unprocessed)...); err != nil {
				return err
			}
			c, done, err := connect(s, ts, e)
			if err != nil {
				return err
			}
			defer done()
			return exitStatus(runBulkIngest(e.ctx, bulk.NewClient(c, bulk.Options{}), f, e.bulkIO()))
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&f.Object, "object", "", "the sObject `NAME`, e.g. Account (required)")
	fs.StringVar(&f.Operation, "operation", "", "`OP`: insert, update, upsert, delete or hardDelete (required)")
	fs.StringVar(&f.ExternalID, "external-id", "", "the external id `FIELD` that matches rows for upsert")
	fs.StringVar(&f.Failed, "failed", "", "write the failed rows, with sf__Error, to this CSV `FILE`")
	fs.StringVar(&f.Unprocessed, "unprocessed", "", "write the rows Salesforce did not process to this CSV `FILE`")
	fs.BoolVar(&f.Force, "force", false, "replace --failed and --unprocessed files that exist")
	_ = cmd.RegisterFlagCompletionFunc("operation", completeWords("insert", "update", "upsert", "delete", "hardDelete"))
	markRequired(cmd, "object", "operation")
	s = connectionFlags(cmd, e)
	ts = tokenStoreFlags(cmd, e)
	return cmd
}

func newBulkQueryCommand(e *env) *cobra.Command {
	var f bulkQueryFlags
	var s *settings.Settings
	var ts *settings.TokenStore
	cmd := &cobra.Command{
		Use:   "query SOQL",
		Short: "run a Bulk API 2.0 query job and write its CSV, all pages",
		Long: `Run a Bulk API 2.0 query job and write its CSV, every page, to standard output
or --out (mode 0600, replacing a file that exists only with --force); the job
is deleted afterwards.
` + connectionHelp + "\n" + sessionHelp,
		Args: exactArgs(1, "one SOQL argument, e.g. 'SELECT Id, Name FROM Account'"),
		RunE: body(func(_ *cobra.Command, args []string) error {
			if err := needSettings(s, ts); err != nil {
				return err
			}
			f.SOQL = args[0]
			if err := refuseExisting(f.Force, nonEmpty(f.Out)...); err != nil {
				return err
			}
			c, done, err := connect(s, ts, e)
			if err != nil {
				return err
			}
			defer done()
			return exitStatus(runBulkQuery(e.ctx, bulk.NewClient(c, bulk.Options{}), f, e.bulkIO()))
		}),
	}
	cmd.Flags().BoolVar(&f.All, "all", false, "queryAll: include deleted and archived records")
	cmd.Flags().StringVar(&f.Out, "out", "", "write the CSV to `FILE` instead of standard output")
	cmd.Flags().BoolVar(&f.Force, "force", false, "replace an --out file that exists")
	s = connectionFlags(cmd, e)
	ts = tokenStoreFlags(cmd, e)
	return cmd
}

// exitStatus turns a status the bulk runners printed themselves into run's error.
func exitStatus(code int) error {
	if code == exitOK {
		return nil
	}
	return exitCode(code)
}

// check validates the flags and positional arguments; "" means fine.
func (f bulkIngestFlags) check(pos []string) string {
	switch {
	case len(pos) != 1:
		return "expected one CSV file, or - for standard input"
	case f.Object == "":
		return "--object is required, e.g. --object Account"
	case f.Failed != "" && f.Failed == f.Unprocessed:
		return "--failed and --unprocessed name the same file: give each its own"
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
	size := int64(-1) // unknown for standard input
	if f.File != "-" {
		file, err := os.Open(f.File)
		if err != nil {
			fmt.Fprintf(std.stderr, "sfmtls bulk ingest: %v\n", err)
			return exitFailure
		}
		defer file.Close()
		in = file
		if st, err := file.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	start := time.Now()
	meter := &csvMeter{r: in, size: size, start: start}
	var progress func(bulk.Progress)
	if std.isTerminal {
		stop := meter.show(std.stderr, time.Second)
		defer stop()
		progress = meter.update
	}
	spec := bulk.IngestSpec{Object: f.Object, Operation: bulk.Operation(f.Operation), ExternalIDField: f.ExternalID}
	res, err := b.Ingest(ctx, spec, meter, progress)
	if std.isTerminal {
		meter.finish()
	}
	var jobErr *bulk.JobError
	if err != nil && interrupted(ctx) {
		var ids []string
		if res != nil {
			for _, j := range res.Jobs {
				ids = append(ids, j.ID)
			}
		}
		reportInterrupted(ctx, std.stderr, "sfmtls bulk ingest", ids, func(ctx context.Context, id string) (bulk.JobInfo, error) {
			return b.IngestJob(id, bulk.Format{}).Info(ctx)
		})
		return exitInterrupted
	}
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
	// The rows found in them count, whatever the jobs' counters say.
	found := map[bulk.ResultKind]int64{}
	for _, out := range []struct {
		path string
		kind bulk.ResultKind
	}{{f.Failed, bulk.FailedResults}, {f.Unprocessed, bulk.UnprocessedRecords}} {
		if out.path == "" {
			continue
		}
		werr := writeFile(out.path, f.Force, func(w *os.File) error {
			n, err := bulk.WriteResults(ctx, w, out.kind, res.Jobs...)
			found[out.kind] = n
			return err
		})
		if werr != nil {
			fmt.Fprintf(std.stderr, "sfmtls bulk ingest: writing %s: %v\n", out.path, werr)
			if interrupted(ctx) {
				fmt.Fprintf(std.stderr, "sfmtls bulk ingest: interrupted: the jobs %s have ended; write their rows with 'sfmtls bulk results JOB'\n",
					jobIDs(res.Jobs))
				return exitInterrupted
			}
			return exitFailure
		}
	}
	succeeded := res.Processed - res.Failed
	fmt.Fprintf(std.stderr, "%s %s: %d records, %d succeeded, %d failed, %d unprocessed, %d job(s) %s, in %s\n",
		f.Operation, f.Object, res.Records, succeeded, res.Failed, res.Unprocessed(), len(res.Jobs), jobIDs(res.Jobs),
		time.Since(start).Round(time.Millisecond))
	mismatch := false
	for _, c := range []struct {
		path     string
		kind     bulk.ResultKind
		what     string
		reported int64
	}{{f.Failed, bulk.FailedResults, "failed", res.Failed}, {f.Unprocessed, bulk.UnprocessedRecords, "unprocessed", res.Unprocessed()}} {
		if n := found[c.kind]; c.path != "" && n != c.reported {
			fmt.Fprintf(std.stderr, "sfmtls bulk ingest: %s holds %d %s row(s), the jobs reported %d\n", c.path, n, c.what, c.reported)
			mismatch = mismatch || n > 0
		}
	}
	if err != nil || res.Failed > 0 || res.Unprocessed() > 0 || mismatch {
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
		if interrupted(ctx) {
			return queryInterrupted(ctx, job, std.stderr)
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
		err = writeFile(f.Out, f.Force, write)
	}
	if std.isTerminal {
		fmt.Fprintln(std.stderr)
	}
	if err != nil && interrupted(ctx) {
		// The job has ended; its results are of no use half written.
		dctx, cancel := cleanupContext(ctx)
		defer cancel()
		if derr := job.Delete(dctx); derr != nil {
			fmt.Fprintf(std.stderr, "sfmtls bulk query: interrupted: query job %s is complete and could not be deleted (%v): "+
				"delete it later, or let Salesforce remove it\n", job.ID, derr)
		} else {
			fmt.Fprintf(std.stderr, "sfmtls bulk query: interrupted: the output is incomplete; query job %s deleted\n", job.ID)
		}
		return exitInterrupted
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

// writeFile writes a file that may hold record data: readable by its owner
// only. A file that exists is refused unless force, even one made since the
// command checked (O_EXCL); a replaced one is made 0600 too.
func writeFile(path string, force bool, write func(*os.File) error) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return errExists(path)
	}
	if err != nil {
		return err
	}
	if force {
		if err := f.Chmod(0o600); err != nil {
			return errors.Join(err, f.Close())
		}
	}
	return errors.Join(write(f), f.Close())
}

// nonEmpty drops the paths not given.
func nonEmpty(paths ...string) []string {
	var out []string
	for _, p := range paths {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// csvMeter counts what bulk ingest reads of the CSV, so its progress line
// can show a percent and an ETA: of the bytes while uploading, when the
// file's size is known, then of the records once the whole CSV is read.
type csvMeter struct {
	r     io.Reader
	size  int64 // bytes in the CSV; -1 when unknown (standard input)
	start time.Time

	// Read's own state: the reader is read by one goroutine at a time.
	inQuote bool

	read  atomic.Int64 // bytes read
	endNL atomic.Bool  // the bytes read end with a line end
	lines atomic.Int64 // line ends outside quoted values
	eofAt atomic.Int64 // nanoseconds after start when the CSV ended; 0 before

	mu   sync.Mutex
	last bulk.Progress
	out  io.Writer // the terminal, while shown
	done chan struct{}
}

func (m *csvMeter) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	var lines int64
	for _, c := range p[:n] {
		switch {
		case c == '"':
			m.inQuote = !m.inQuote // "" inside a quoted value toggles twice
		case c == '\n' && !m.inQuote:
			lines++
		}
	}
	if n > 0 {
		m.endNL.Store(p[n-1] == '\n')
	}
	m.read.Add(int64(n))
	m.lines.Add(lines)
	if errors.Is(err, io.EOF) && m.eofAt.Load() == 0 {
		m.eofAt.Store(max(int64(time.Since(m.start)), 1))
	}
	return n, err
}

// records is the number of data rows, once the CSV is read to its end.
func (m *csvMeter) records() (int64, bool) {
	if m.eofAt.Load() == 0 {
		return 0, false
	}
	rows := m.lines.Load()
	if m.read.Load() > 0 && !m.endNL.Load() {
		rows++ // a last line without its line end
	}
	return max(rows-1, 0), true // the header is no record
}

// update is bulk.Ingest's progress callback.
func (m *csvMeter) update(p bulk.Progress) {
	m.mu.Lock()
	m.last = p
	m.mu.Unlock()
	m.draw()
}

// show draws the line on w every interval until stop, so an upload that
// takes minutes shows its progress between bulk's callbacks.
func (m *csvMeter) show(w io.Writer, interval time.Duration) (stop func()) {
	m.mu.Lock()
	m.out, m.done = w, make(chan struct{})
	m.mu.Unlock()
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				m.draw()
			case <-m.done:
				return
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(m.done); <-ended }) }
}

// finish draws the last line and ends it.
func (m *csvMeter) finish() {
	m.draw()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.out != nil {
		fmt.Fprintln(m.out)
		m.out = nil
	}
}

func (m *csvMeter) draw() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.out == nil {
		return
	}
	total, known := m.records()
	fmt.Fprint(m.out, "\r\033[K"+progressLine(ingestState{
		progress: m.last, read: m.read.Load(), size: m.size, records: total, recordsKnown: known,
		elapsed: time.Since(m.start), readFor: time.Duration(m.eofAt.Load()),
	}))
}

// ingestState is what the progress line is drawn from.
type ingestState struct {
	progress     bulk.Progress
	read, size   int64 // bytes read of the CSV, and its size (-1: unknown)
	records      int64 // data rows in the CSV, once recordsKnown
	recordsKnown bool
	elapsed      time.Duration
	readFor      time.Duration // how long reading the CSV took; 0 until read
}

// progressLine is one line of bulk ingest's progress: while the CSV is
// uploaded, the bytes (with a percent and an ETA when the size is known);
// once it is read, the records processed of the total, with a percent and
// an ETA from the rate since the upload ended.
func progressLine(s ingestState) string {
	p := s.progress
	var line string
	if !s.recordsKnown {
		line = "uploading " + byteSize(s.read)
		if s.size > 0 {
			done := min(float64(s.read)/float64(s.size), 1)
			line = fmt.Sprintf("uploading %d%%  %s of %s  ETA %s", int(done*100), byteSize(s.read), byteSize(s.size),
				eta(done, s.elapsed))
		}
	} else {
		line = fmt.Sprintf("processed %d of %d records", p.Processed, s.records)
		if s.records > 0 {
			done := min(float64(p.Processed)/float64(s.records), 1)
			line += fmt.Sprintf(" %d%%  ETA %s", int(done*100), eta(done, s.elapsed-s.readFor))
		}
	}
	return fmt.Sprintf("%s  failed %d  jobs %d  elapsed %s", line, p.Failed, p.Jobs, s.elapsed.Round(time.Second))
}

// eta is the time left at the rate so far, given the part done in spent.
func eta(done float64, spent time.Duration) string {
	switch {
	case done >= 1:
		return "0s"
	case done <= 0 || spent <= 0:
		return "--"
	}
	left := time.Duration(float64(spent) * (1 - done) / done)
	if left > 100*time.Hour {
		return "--"
	}
	return left.Round(time.Second).String()
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

// interruptContext returns a context that ends at the first signal on sigs,
// so a command stops cleanly: sfmtls bulk ingest then aborts the job it was
// uploading to, which may take up to 30 s when Salesforce does not answer. A
// second signal does not wait for that: it says so on stderr and calls exit
// at once with 128 plus the signal's number (130 for Ctrl-C). main passes
// os.Exit; tests pass a channel they drive and a recorder.
func interruptContext(parent context.Context, sigs <-chan os.Signal, stderr io.Writer, exit func(int)) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
			return // stopped before any signal
		}
		var sig os.Signal
		select {
		case sig = <-sigs:
		case <-parent.Done():
			return
		}
		code := 130
		if s, ok := sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		fmt.Fprintf(stderr, "\nsfmtls: %v received twice: exiting now, without waiting for the clean-up\n", sig)
		exit(code)
	}()
	return ctx, cancel
}

// bulkResultsFlags are the inputs of sfmtls bulk results.
type bulkResultsFlags struct {
	Job                             string
	Successful, Failed, Unprocessed string // files for each result set; "" skips
	Force                           bool   // replace files that exist
}

// errNoJob is a job id Salesforce knows no job by (404 NOT_FOUND).
type errNoJob struct{ id string }

func (e *errNoJob) Error() string {
	return fmt.Sprintf("Salesforce has no Bulk API 2.0 ingest or query job %s (404 NOT_FOUND)", e.id)
}

// Fix says where the id comes from.
func (e *errNoJob) Fix() string {
	return "give the job id sfmtls bulk ingest or bulk query printed, e.g. 7505g00000XyZabAAB"
}

// notFound reports whether err is Salesforce's 404 for a resource.
func notFound(err error) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

// jobByID finds a job by id: an ingest job, else a query job ("Get
// Information About an Ingest Job", "Get Information About a Query Job").
// ingest is nil for a query job and query nil for an ingest job.
func jobByID(ctx context.Context, b *bulk.Client, id string) (info bulk.JobInfo, ingest *bulk.IngestJob, query *bulk.QueryJob, err error) {
	ingest = b.IngestJob(id, bulk.Format{})
	info, err = ingest.Info(ctx)
	if err == nil {
		return info, ingest, nil, nil
	}
	if !notFound(err) {
		return info, nil, nil, err
	}
	query = b.QueryJob(id, bulk.Format{})
	info, err = query.Info(ctx)
	if notFound(err) {
		return info, nil, nil, &errNoJob{id: id}
	}
	if err != nil {
		return info, nil, nil, err
	}
	return info, nil, query, nil
}

// jobArg is the one JOB argument of status, abort and results.
var jobArg = exactArgs(1, "one job id, e.g. 7505g00000XyZabAAB, as sfmtls bulk ingest printed it")

// bulkJobCommand is one of status, abort and results: connect, then fn.
func bulkJobCommand(e *env, cmd *cobra.Command, fn func(ctx context.Context, b *bulk.Client, id string) error, before func() error) *cobra.Command {
	s := connectionFlags(cmd, e)
	ts := tokenStoreFlags(cmd, e)
	cmd.Args = jobArg
	cmd.RunE = body(func(_ *cobra.Command, args []string) error {
		if err := needSettings(s, ts); err != nil {
			return err
		}
		if before != nil {
			if err := before(); err != nil {
				return err
			}
		}
		c, done, err := connect(s, ts, e)
		if err != nil {
			return err
		}
		defer done()
		return fn(e.ctx, bulk.NewClient(c, bulk.Options{}), args[0])
	})
	return cmd
}

func newBulkStatusCommand(e *env) *cobra.Command {
	return bulkJobCommand(e, &cobra.Command{
		Use:   "status JOB",
		Short: "show a Bulk API 2.0 ingest or query job's state and counts",
		Long: `Show a Bulk API 2.0 ingest or query job by its id: its state, operation,
object and record counts, e.g. of a job left running after Ctrl-C.
` + connectionHelp + "\n" + sessionHelp,
		Example: `  sfmtls bulk status 7505g00000XyZabAAB`,
	}, func(ctx context.Context, b *bulk.Client, id string) error {
		info, ingest, _, err := jobByID(ctx, b, id)
		if err != nil {
			return err
		}
		printJob(e.stdout, info, ingest != nil)
		return nil
	}, nil)
}

// printJob prints a job as "name: value" lines.
func printJob(w io.Writer, info bulk.JobInfo, ingest bool) {
	kind := "query"
	if ingest {
		kind = "ingest"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "job:\t%s (%s)\n", info.ID, kind)
	fmt.Fprintf(tw, "state:\t%s\n", info.State)
	fmt.Fprintf(tw, "operation:\t%s\n", info.Operation)
	if info.Object != "" {
		fmt.Fprintf(tw, "object:\t%s\n", info.Object)
	}
	if info.Query != "" {
		fmt.Fprintf(tw, "query:\t%s\n", oneLine(info.Query))
	}
	fmt.Fprintf(tw, "records processed:\t%d\n", info.NumberRecordsProcessed)
	if ingest {
		fmt.Fprintf(tw, "records failed:\t%d\n", info.NumberRecordsFailed)
	}
	if info.ErrorMessage != "" {
		fmt.Fprintf(tw, "error:\t%s\n", oneLine(info.ErrorMessage))
	}
	if info.CreatedDate != "" {
		fmt.Fprintf(tw, "created:\t%s\n", info.CreatedDate)
	}
	_ = tw.Flush()
}

func newBulkAbortCommand(e *env) *cobra.Command {
	return bulkJobCommand(e, &cobra.Command{
		Use:   "abort JOB",
		Short: "abort a Bulk API 2.0 ingest or query job that has not ended",
		Long: `Abort a Bulk API 2.0 ingest or query job by its id ("Close or Abort a Job":
state Aborted); records already processed stay processed. A job that has
ended (JobComplete, Failed, Aborted) cannot be aborted.
` + connectionHelp + "\n" + sessionHelp,
		Example: `  sfmtls bulk abort 7505g00000XyZabAAB`,
	}, func(ctx context.Context, b *bulk.Client, id string) error {
		info, ingest, query, err := jobByID(ctx, b, id)
		if err != nil {
			return err
		}
		if info.State.Terminal() {
			return fmt.Errorf("job %s has ended (%s): there is nothing to abort", id, info.State)
		}
		if ingest != nil {
			info, err = ingest.Abort(ctx)
		} else {
			info, err = query.Abort(ctx)
		}
		if err != nil {
			return fmt.Errorf("aborting job %s: %w", id, err)
		}
		fmt.Fprintf(e.stdout, "job %s %s\n", id, info.State)
		return nil
	}, nil)
}

func newBulkResultsCommand(e *env) *cobra.Command {
	var f bulkResultsFlags
	cmd := &cobra.Command{
		Use:   "results JOB",
		Short: "write an ingest job's successful, failed or unprocessed rows to CSV files",
		Long: `Write the result sets of a Bulk API 2.0 ingest job, by its id, to CSV files
(mode 0600): --successful (sf__Id, sf__Created and the columns sent),
--failed (sf__Id, sf__Error and the columns sent), --unprocessed (the rows
Salesforce did not process, as sent). A file that exists is replaced only
with --force, and that is checked before anything is fetched. A job still
running has partial results: the command says so.
` + connectionHelp + "\n" + sessionHelp,
		Example: `  sfmtls bulk results --failed failed.csv --unprocessed unprocessed.csv 7505g00000XyZabAAB`,
	}
	fs := cmd.Flags()
	fs.StringVar(&f.Successful, "successful", "", "write the successful rows, with sf__Id and sf__Created, to this CSV `FILE`")
	fs.StringVar(&f.Failed, "failed", "", "write the failed rows, with sf__Error, to this CSV `FILE`")
	fs.StringVar(&f.Unprocessed, "unprocessed", "", "write the rows Salesforce did not process to this CSV `FILE`")
	fs.BoolVar(&f.Force, "force", false, "replace files that exist")
	return bulkJobCommand(e, cmd, func(ctx context.Context, b *bulk.Client, id string) error {
		f.Job = id
		return runBulkResults(ctx, b, f, e.stderr)
	}, func() error {
		paths := nonEmpty(f.Successful, f.Failed, f.Unprocessed)
		if len(paths) == 0 {
			return usagef("name at least one file: --successful FILE, --failed FILE or --unprocessed FILE")
		}
		seen := map[string]bool{}
		for _, p := range paths {
			if seen[p] {
				return usagef("%s is named twice: give each result set its own file", p)
			}
			seen[p] = true
		}
		return refuseExisting(f.Force, paths...)
	})
}

// runBulkResults writes an ingest job's result sets ("Get Job Successful
// Record Results", "Get Job Failed Record Results", "Get Job Unprocessed
// Record Results") to the files named, and says what it wrote.
func runBulkResults(ctx context.Context, b *bulk.Client, f bulkResultsFlags, stderr io.Writer) error {
	info, ingest, _, err := jobByID(ctx, b, f.Job)
	if err != nil {
		return err
	}
	if ingest == nil {
		return fmt.Errorf("job %s is a query job: sfmtls bulk results is for ingest jobs", f.Job)
	}
	if !info.State.Terminal() {
		fmt.Fprintf(stderr, "warning: job %s is %s: its results so far are partial (sfmtls bulk status %s)\n", f.Job, info.State, f.Job)
	}
	for _, out := range []struct {
		path string
		kind bulk.ResultKind
		what string
	}{{f.Successful, bulk.SuccessfulResults, "successful"}, {f.Failed, bulk.FailedResults, "failed"}, {f.Unprocessed, bulk.UnprocessedRecords, "unprocessed"}} {
		if out.path == "" {
			continue
		}
		var n int64
		err := writeFile(out.path, f.Force, func(w *os.File) error {
			var err error
			n, err = bulk.WriteResults(ctx, w, out.kind, ingest)
			return err
		})
		if err != nil {
			return fmt.Errorf("writing %s: %w", out.path, err)
		}
		fmt.Fprintf(stderr, "%s: %d %s row(s) of job %s\n", out.path, n, out.what, f.Job)
	}
	return nil
}

// exitInterrupted is the exit status after a first Ctrl-C: 128 plus SIGINT's
// number, as a shell reports a command the signal ended.
const exitInterrupted = 130

// interrupted reports whether the command's context ended: main's ends at
// the first Ctrl-C (or SIGTERM), and only then.
func interrupted(ctx context.Context) bool { return ctx.Err() != nil }

// cleanupContext is for the requests that say or settle what became of a
// job once ctx ended: bounded, since Salesforce may not answer, and a second
// Ctrl-C does not wait for it.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// reportInterrupted says, after a first Ctrl-C, what became of each job:
// bulk.Ingest aborts the job it was uploading to, while the jobs closed
// before it go on at Salesforce. Each job's state is read again ("Get
// Information About an Ingest Job"), so what is said is what Salesforce
// holds, not what was asked of it.
func reportInterrupted(ctx context.Context, w io.Writer, cmd string, ids []string, info func(context.Context, string) (bulk.JobInfo, error)) {
	if len(ids) == 0 {
		// A job whose creation was cut short may exist, Open and empty:
		// no data is sent to a job before its id is known.
		fmt.Fprintf(w, "%s: interrupted before Salesforce sent a job id: no data was uploaded\n", cmd)
		return
	}
	ictx, cancel := cleanupContext(ctx)
	defer cancel()
	for _, id := range ids {
		st, err := info(ictx, id)
		switch {
		case err != nil:
			fmt.Fprintf(w, "%s: interrupted: job %s, state unknown (%v): see it with 'sfmtls bulk status %s', abort it with 'sfmtls bulk abort %s'\n",
				cmd, id, err, id, id)
		case st.State == bulk.StateAborted:
			fmt.Fprintf(w, "%s: interrupted: job %s aborted (%d records processed); 'sfmtls bulk results %s --unprocessed FILE' writes the rows not processed\n",
				cmd, id, st.NumberRecordsProcessed, id)
		case st.State.Terminal():
			fmt.Fprintf(w, "%s: interrupted: job %s had ended (%s); 'sfmtls bulk results %s --failed FILE' writes its failed rows\n",
				cmd, id, st.State, id)
		default:
			fmt.Fprintf(w, "%s: interrupted: job %s left running (%s): see it with 'sfmtls bulk status %s', abort it with 'sfmtls bulk abort %s'\n",
				cmd, id, st.State, id, id)
		}
	}
}

// queryInterrupted settles a query job after a first Ctrl-C before its
// results: it is aborted ("Abort a Query Job"), since nobody will read them,
// and the outcome is said.
func queryInterrupted(ctx context.Context, job *bulk.QueryJob, w io.Writer) int {
	if job == nil {
		fmt.Fprintln(w, "sfmtls bulk query: interrupted while creating the query job: if Salesforce created it, it runs on, and no id is known")
		return exitInterrupted
	}
	actx, cancel := cleanupContext(ctx)
	defer cancel()
	info, err := job.Abort(actx)
	if err != nil {
		// Not aborted, or the answer was lost: read what Salesforce holds.
		info, err = job.Info(actx)
	}
	switch {
	case err != nil:
		fmt.Fprintf(w, "sfmtls bulk query: interrupted: query job %s, state unknown (%v): see it with 'sfmtls bulk status %s', abort it with 'sfmtls bulk abort %s'\n",
			job.ID, err, job.ID, job.ID)
	case info.State == bulk.StateAborted:
		fmt.Fprintf(w, "sfmtls bulk query: interrupted: query job %s aborted\n", job.ID)
	default:
		fmt.Fprintf(w, "sfmtls bulk query: interrupted: query job %s left at Salesforce (%s): see it with 'sfmtls bulk status %s'\n",
			job.ID, info.State, job.ID)
	}
	return exitInterrupted
}
