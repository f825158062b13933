package bench

// Bulk API 2.0 benchmarks (issue 12, point 8). The fake org runs in its own
// process (cmd/bulkorg) so that only the client's memory is measured:
//
//	go test -run '^$' -bench 'Bulk' -benchtime 1x
//
// BenchmarkBulkUploadVsRawPUT: the SDK's upload against a raw PUT of the same
// bytes over the same mutual TLS client. BenchmarkBulkIngest1M and
// BenchmarkBulkQuery1M: a 1,000,000-row ingest and query with the client's
// peak heap as a metric.

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
)

const (
	bulkRows     = 1_000_000
	heapBudgetMB = 64
)

// bulkOrgSettings mirrors cmd/bulkorg's Settings.
type bulkOrgSettings struct {
	URL, ConsumerKey, Username, Audience string
	Port                                 int
	MTLSKeystore, JWTKeystore, ServerCA  string
	MTLSCert, MTLSKey, JWTCert, JWTKey   string
	Password                             string

	stdin io.WriteCloser // the org runs until it closes
}

var (
	bulkOrgs   sync.Map // records → *bulkOrgSettings
	bulkOrgsMu sync.Mutex

	orgDirsMu sync.Mutex
	orgDirs   []string // the org processes' directories, removed by TestMain
)

// bulkOrg starts (once per seed size) a fake org process seeded with records
// Accounts. It stops when this process exits: its standard input closes.
func bulkOrg(b testing.TB, records int) *bulkOrgSettings {
	b.Helper()
	bulkOrgsMu.Lock()
	defer bulkOrgsMu.Unlock()
	if s, ok := bulkOrgs.Load(records); ok {
		return s.(*bulkOrgSettings)
	}
	s := startOrgProcess(b, "bulkorg", records)
	bulkOrgs.Store(records, s)
	return s
}

// startOrgProcess builds ./cmd/<name> (a fake org in a process of its own,
// seeded with records Accounts), starts it and reads the settings it prints.
// It runs until this process exits and its standard input closes.
func startOrgProcess(b testing.TB, name string, records int) *bulkOrgSettings {
	b.Helper()
	dir, err := os.MkdirTemp("", "sfmtls-"+name+"-bench-")
	if err != nil {
		b.Fatal(err)
	}
	orgDirsMu.Lock()
	orgDirs = append(orgDirs, dir)
	orgDirsMu.Unlock()
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/"+name).CombinedOutput(); err != nil {
		b.Fatalf("building cmd/%s: %v\n%s", name, err, out)
	}
	cmd := exec.Command(bin, "-dir", dir, "-records", strconv.Itoa(records))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		b.Fatalf("%s gave no settings: %v", name, err)
	}
	var s bulkOrgSettings
	if err := json.Unmarshal(line, &s); err != nil {
		b.Fatal(err)
	}
	s.stdin = stdin // held, so the pipe is not collected and closed
	return &s
}

// bulkClient connects to the org process over mutual TLS.
func bulkClient(b *testing.B, s *bulkOrgSettings) *client.Client {
	b.Helper()
	pw := keystore.Secret(s.Password)
	mtls, err := keystore.LoadFile(s.MTLSKeystore, keystore.Options{Password: pw})
	if err != nil {
		b.Fatal(err)
	}
	jwtID, err := keystore.LoadFile(s.JWTKeystore, keystore.Options{Password: pw})
	if err != nil {
		b.Fatal(err)
	}
	pem, err := os.ReadFile(s.ServerCA)
	if err != nil {
		b.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c, err := client.New(client.Config{
		LoginURL: s.URL, Audience: s.Audience, ConsumerKey: s.ConsumerKey, Username: s.Username,
		MTLS: mtls, JWT: jwtID, RootCAs: roots, Port: s.Port,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

// csvRows streams a CSV of n Account rows of about 95 bytes each, never
// holding more than a buffer.
type csvRows struct {
	n, i int
	buf  []byte
	head bool
}

func newCSVRows(n int) *csvRows { return &csvRows{n: n, buf: make([]byte, 0, 64<<10)} }

const benchDescription = "Bulk benchmark row with a description long enough for a realistic width...."

func (c *csvRows) Read(p []byte) (int, error) {
	for len(c.buf) < len(p) && c.i < c.n {
		if !c.head {
			c.buf = append(c.buf, "Name,Description,NumberOfEmployees\n"...)
			c.head = true
		}
		c.buf = fmt.Appendf(c.buf, "Bench %07d,%s,%d\n", c.i, benchDescription, c.i%5000)
		c.i++
	}
	if len(c.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.buf)
	c.buf = c.buf[:copy(c.buf, c.buf[n:])]
	return n, nil
}

// peakHeap samples the heap's object bytes every few milliseconds.
type peakHeap struct {
	stop, done chan struct{}
	peak       uint64
}

func samplePeakHeap() *peakHeap {
	runtime.GC()
	h := &peakHeap{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(h.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			h.peak = max(h.peak, sample[0].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// MiB stops sampling and returns the peak in MiB.
func (h *peakHeap) MiB() float64 {
	close(h.stop)
	<-h.done
	return float64(h.peak) / (1 << 20)
}

// BenchmarkBulkUploadVsRawPUT uploads the same ~95 MB CSV three ways over
// one client, interleaved five times in rotating order: a raw PUT (no compression, the bytes
// as they are), the SDK's Upload with gzip (its default), and the SDK's
// Upload without compression. It reports each median in MB/s of CSV and the
// SDK's ratios to the raw PUT.
func BenchmarkBulkUploadVsRawPUT(b *testing.B) {
	s := bulkOrg(b, 0)
	c := bulkClient(b, s)
	ctx := context.Background()
	gz := bulk.NewClient(c, bulk.Options{})
	plain := bulk.NewClient(c, bulk.Options{DisableCompression: true})
	spec := bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}
	size, _ := io.Copy(io.Discard, newCSVRows(bulkRows))
	if size > 100_000_000 { // the most Salesforce takes in one upload
		b.Fatalf("the CSV (%d bytes) must fit one upload", size)
	}
	upload := map[string]func(job *bulk.IngestJob) error{
		"raw": func(job *bulk.IngestJob) error {
			resp, err := c.Raw(ctx, http.MethodPut, "jobs/ingest/"+job.ID+"/batches", newCSVRows(bulkRows), http.Header{"Content-Type": {"text/csv"}})
			if err == nil {
				resp.Body.Close()
			}
			return err
		},
		"gzip": func(job *bulk.IngestJob) error {
			_, err := gz.IngestJob(job.ID, bulk.Format{}).Upload(ctx, newCSVRows(bulkRows))
			return err
		},
		"plain": func(job *bulk.IngestJob) error {
			_, err := plain.IngestJob(job.ID, bulk.Format{}).Upload(ctx, newCSVRows(bulkRows))
			return err
		},
	}
	order := []string{"raw", "gzip", "plain"}
	results := map[string][]float64{}
	b.ResetTimer()
	for range b.N {
		for round := range 5 {
			for i := range order {
				name := order[(i+round)%len(order)]
				job, _, err := gz.CreateIngestJob(ctx, spec)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := upload[name](job); err != nil {
					b.Fatal(err)
				}
				results[name] = append(results[name], float64(size)/1e6/time.Since(start).Seconds())
				if _, err := job.Abort(ctx); err != nil { // nothing is processed
					b.Fatal(err)
				}
				if err := job.Delete(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.StopTimer()
	median := func(v []float64) float64 { v = slices.Clone(v); slices.Sort(v); return v[len(v)/2] }
	raw := median(results["raw"])
	b.ReportMetric(raw, "raw-MB/s")
	b.ReportMetric(median(results["gzip"]), "sdk-gzip-MB/s")
	b.ReportMetric(median(results["plain"]), "sdk-plain-MB/s")
	b.ReportMetric(median(results["gzip"])/raw, "gzip/raw")
	b.ReportMetric(median(results["plain"])/raw, "plain/raw")
	b.ReportMetric(float64(size)/1e6, "CSV-MB")
	wire := &countingDiscard{}
	zw, _ := gzip.NewWriterLevel(wire, gzip.BestSpeed)
	_, _ = io.Copy(zw, newCSVRows(bulkRows))
	_ = zw.Close()
	b.ReportMetric(float64(wire.n)/1e6, "gzip-wire-MB")
}

type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkBulkIngest1M runs the whole ingest of 1,000,000 rows from a
// streaming reader — create, upload (gzip), close, wait, then stream every
// successful result — and reports the client's peak heap.
func BenchmarkBulkIngest1M(b *testing.B) {
	s := bulkOrg(b, 0)
	c := bulkClient(b, s)
	ctx := context.Background()
	bc := bulk.NewClient(c, bulk.Options{PollInterval: 100 * time.Millisecond, MaxPollInterval: time.Second})
	spec := bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}
	type row struct{ Name, Description string }
	b.ResetTimer()
	for range b.N {
		heap := samplePeakHeap()
		start := time.Now()
		in, err := bc.Ingest(ctx, spec, newCSVRows(bulkRows), nil)
		if err != nil {
			b.Fatal(err)
		}
		ingested := time.Since(start)
		n := 0
		for _, err := range bulk.Successful[row](ctx, in.Jobs...) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		peak := heap.MiB()
		if n != bulkRows || in.Processed != bulkRows || in.Failed != 0 {
			b.Fatalf("%d results, %d processed, %d failed; want %d", n, in.Processed, in.Failed, bulkRows)
		}
		b.ReportMetric(peak, "peak-heap-MiB")
		b.ReportMetric(ingested.Seconds(), "ingest-s")
		b.ReportMetric(time.Since(start).Seconds(), "with-results-s")
		b.ReportMetric(float64(len(in.Jobs)), "jobs")
		if peak > heapBudgetMB {
			b.Errorf("peak heap %.1f MiB over the %d MiB budget", peak, heapBudgetMB)
		}
		for _, j := range in.Jobs {
			_ = j.Delete(ctx)
		}
	}
}

// BenchmarkBulkQuery1M queries 1,000,000 seeded Accounts with a query job
// and decodes every record into a struct across the result pages; it
// reports the client's peak heap.
func BenchmarkBulkQuery1M(b *testing.B) {
	s := bulkOrg(b, bulkRows)
	c := bulkClient(b, s)
	ctx := context.Background()
	bc := bulk.NewClient(c, bulk.Options{PollInterval: 100 * time.Millisecond, MaxPollInterval: time.Second})
	type account struct {
		ID                string `sf:"Id"`
		Name              string `sf:"Name"`
		NumberOfEmployees int    `sf:"NumberOfEmployees"`
	}
	b.ResetTimer()
	for range b.N {
		heap := samplePeakHeap()
		start := time.Now()
		job, _, err := bc.Query(ctx, bulk.QuerySpec{Query: "SELECT Id, Name, NumberOfEmployees FROM Account"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		ready := time.Since(start)
		n := 0
		for _, err := range bulk.Records[account](ctx, job, 0) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		peak := heap.MiB()
		if n != bulkRows {
			b.Fatalf("%d records, want %d", n, bulkRows)
		}
		b.ReportMetric(peak, "peak-heap-MiB")
		b.ReportMetric(ready.Seconds(), "job-s")
		b.ReportMetric(time.Since(start).Seconds()-ready.Seconds(), "download-s")
		if peak > heapBudgetMB {
			b.Errorf("peak heap %.1f MiB over the %d MiB budget", peak, heapBudgetMB)
		}
		if err := job.Delete(ctx); err != nil && !errors.Is(err, context.Canceled) {
			b.Fatal(err)
		}
	}
}
