package bench

// Compression of Bulk API 2.0 CSV (issue 23, point 4): the standard
// library's gzip against github.com/klauspost/compress/gzip at their fastest
// levels, alone (BenchmarkGzip) and over a simulated link
// (BenchmarkUploadLink: a loopback connection paced to 1 Gbit/s with a
// 0.2 ms round trip, or to 100 Mbit/s with 20 ms).

import (
	"bufio"
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	kpgzip "github.com/klauspost/compress/gzip"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// uploadRows is about 5.3 MB of CSV, the size the issue measured.
const uploadRows = 31_000

var (
	csvOnce sync.Once
	csvData []byte
)

// benchCSV is a CSV of Accounts with varied values (pseudo-random words,
// numbers, phones, e-mail addresses and dates, from a fixed seed), about as
// compressible as real records: the repeated rows of newCSVRows compress
// twenty-fold and would flatter compression.
func benchCSV() []byte {
	csvOnce.Do(func() {
		r := rand.New(rand.NewPCG(23, 5))
		syll := []string{"ka", "lo", "mer", "tin", "sa", "vel", "dor", "an", "qui", "ro", "bel", "ex", "fa", "nu", "gro", "ter", "is", "um", "pa", "zen"}
		vocab := make([]string, 800)
		for i := range vocab {
			w := ""
			for range 1 + r.IntN(3) {
				w += syll[r.IntN(len(syll))]
			}
			vocab[i] = w
		}
		word := func() string { return vocab[int(float64(len(vocab))*r.Float64()*r.Float64())] } // some words far more common
		var buf bytes.Buffer
		buf.WriteString("Name,Description,NumberOfEmployees,Phone,Website,Industry,CreatedDate\n")
		industries := []string{"Energy", "Banking", "Retail", "Media", "Education", "Healthcare", "Shipping"}
		for i := range uploadRows {
			fmt.Fprintf(&buf, "%s %s %d,\"", word(), word(), i)
			for j := range 6 + r.IntN(10) {
				if j > 0 {
					buf.WriteByte(' ')
				}
				buf.WriteString(word())
			}
			fmt.Fprintf(&buf, "\",%d,+1 %03d %03d %04d,https://www.%s%s.example.com,%s,20%02d-%02d-%02dT%02d:%02d:%02d.000Z\n",
				r.IntN(100000), r.IntN(1000), r.IntN(1000), r.IntN(10000), word(), word(), industries[r.IntN(len(industries))],
				10+r.IntN(16), 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))
		}
		csvData = buf.Bytes()
	})
	return csvData
}

// codec is one way to compress a stream; level is its fastest.
type codec struct {
	name     string
	compress func(w io.Writer) io.WriteCloser
	reader   func(r io.Reader) (io.Reader, error)
}

var codecs = []codec{
	{"std", func(w io.Writer) io.WriteCloser { zw, _ := stdgzip.NewWriterLevel(w, stdgzip.BestSpeed); return zw },
		func(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) }},
	{"klauspost", func(w io.Writer) io.WriteCloser { zw, _ := kpgzip.NewWriterLevel(w, kpgzip.BestSpeed); return zw },
		func(r io.Reader) (io.Reader, error) { return kpgzip.NewReader(r) }},
	{"std-huffman", func(w io.Writer) io.WriteCloser { zw, _ := stdgzip.NewWriterLevel(w, stdgzip.HuffmanOnly); return zw }, nil},
	{"klauspost-huffman", func(w io.Writer) io.WriteCloser { zw, _ := kpgzip.NewWriterLevel(w, kpgzip.HuffmanOnly); return zw }, nil},
}

// BenchmarkGzip compresses and decompresses the CSV with each codec,
// reporting MB/s of CSV, CPU per MB, and the compressed size.
func BenchmarkGzip(b *testing.B) {
	data := benchCSV()
	for _, c := range rotatedCodecs() {
		var zipped bytes.Buffer
		zw := c.compress(&zipped)
		_, _ = zw.Write(data)
		_ = zw.Close()
		b.Run("op=compress/impl="+c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				zw := c.compress(io.Discard)
				if _, err := zw.Write(data); err != nil {
					b.Fatal(err)
				}
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(zipped.Len())/float64(len(data)), "ratio")
		})
		if c.reader == nil {
			continue // the same format: read as fast as its level-1 sibling's
		}
		b.Run("op=decompress/impl="+c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				zr, err := c.reader(bytes.NewReader(zipped.Bytes()))
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, zr); err != nil || n != int64(len(data)) {
					b.Fatal(n, err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
		})
	}
}

func rotatedCodecs() []codec {
	k := round() % len(codecs)
	return append(append([]codec(nil), codecs[k:]...), codecs[:k]...)
}

// link is a simulated network path: the client's writes are paced to rate
// (bytes per second), and each request's answer comes rtt after the body
// has been read.
type link struct {
	name string
	rate float64
	rtt  time.Duration
}

var links = []link{
	{"1gbit", 1e9 / 8, 200 * time.Microsecond},
	{"100mbit-20ms", 100e6 / 8, 20 * time.Millisecond},
}

// pacedConn paces writes to the link's rate, in slices of 16 KB.
type pacedConn struct {
	net.Conn
	rate  float64
	start time.Time
	sent  float64
}

func (c *pacedConn) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 16<<10)
		if c.start.IsZero() {
			c.start = time.Now()
		}
		m, err := c.Conn.Write(p[:k])
		n += m
		c.sent += float64(m)
		if d := time.Until(c.start.Add(time.Duration(c.sent / c.rate * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// BenchmarkUploadLink PUTs the CSV over each simulated link, as Upload
// does: uncompressed, or compressed by each codec in a goroutine feeding the
// request through a pipe. It reports wall time (the link's) and CPU time.
func BenchmarkUploadLink(b *testing.B) {
	data := benchCSV()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var rtt time.Duration
	var rttMu sync.Mutex
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // Salesforce's decoding is not the client's time
		rttMu.Lock()
		d := rtt
		rttMu.Unlock()
		time.Sleep(d)
		w.WriteHeader(http.StatusCreated)
	})}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	for _, l := range links {
		rttMu.Lock()
		rtt = l.rtt
		rttMu.Unlock()
		tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &pacedConn{Conn: c, rate: l.rate}, nil
		}, DisableKeepAlives: true}
		hc := &http.Client{Transport: tr}
		encs := []string{"none"}
		for _, c := range rotatedCodecs() {
			encs = append(encs, c.name)
		}
		if k := round() % len(encs); k > 0 { // none takes its turn at each place
			encs = append(append(encs[1:k+1:k+1], encs[0]), encs[k+1:]...)
		}
		for _, enc := range encs {
			b.Run(fmt.Sprintf("link=%s/enc=%s", l.name, enc), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				cpu0 := cpuTime()
				for b.Loop() {
					var body io.Reader = bytes.NewReader(data)
					var done chan struct{}
					if enc != "none" {
						c := codecByName(enc)
						pr, pw := io.Pipe()
						done = make(chan struct{})
						go func() {
							defer close(done)
							// Buffered: the compressor's small writes would each
							// be a pipe hand-off and a write to the connection.
							bw := bufio.NewWriterSize(pw, 64<<10)
							zw := c.compress(bw)
							_, err := zw.Write(data)
							err = errors.Join(err, zw.Close(), bw.Flush())
							pw.CloseWithError(err)
						}()
						body = pr
					}
					req, _ := http.NewRequest(http.MethodPut, "http://"+ln.Addr().String()+"/upload", body)
					resp, err := hc.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					resp.Body.Close()
					if done != nil {
						<-done
					}
				}
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

func codecByName(name string) codec {
	for _, c := range codecs {
		if c.name == name {
			return c
		}
	}
	panic(name)
}

// round is BENCH_ROUND, by which the order of implementations rotates.
func round() int {
	n, _ := strconv.Atoi(os.Getenv("BENCH_ROUND"))
	return n
}

// BenchmarkBulkUploadLink uploads the CSV through the SDK (IngestJob.Upload)
// to a fake org whose upload endpoint reads the body and discards it (the
// decoding is Salesforce's work, not the client's), over the mutual TLS
// connection paced to each link's rate (client.Config.WrapBase replaces the
// dialer), with compression off, at BestSpeed, or at Huffman only (the
// default). The round trip is not simulated: it adds the same to each.
func BenchmarkBulkUploadLink(b *testing.B) {
	org := salesforcetest.NewOrg(b, salesforcetest.Config{DailyAPIRequests: 1 << 40})
	org.Setup().Handle("PUT /services/data/v"+salesforcetest.APIVersion+"/jobs/ingest/{id}/batches", true,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusCreated)
		}))
	data := benchCSV()
	modes := []struct {
		name string
		opts bulk.Options
	}{
		{"none", bulk.Options{DisableCompression: true}},
		{"bestspeed", bulk.Options{CompressionLevel: kpgzip.BestSpeed}},
		{"huffman", bulk.Options{}}, // the default
	}
	k := round() % len(modes)
	modes = append(modes[k:], modes[:k]...)
	for _, l := range links {
		cfg := org.ClientConfig()
		cfg.WrapBase = pacedDialer(l.rate)
		c, err := client.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		for _, m := range modes {
			bc := bulk.NewClient(c, m.opts)
			b.Run(fmt.Sprintf("link=%s/enc=%s", l.name, m.name), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				var cpu time.Duration
				for b.Loop() {
					b.StopTimer()
					job, _, err := bc.CreateIngestJob(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert})
					if err != nil {
						b.Fatal(err)
					}
					cpu0 := cpuTime()
					b.StartTimer()
					if _, err := job.Upload(ctx, bytes.NewReader(data)); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					cpu += cpuTime() - cpu0
					if _, err := job.Abort(ctx); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
			})
		}
		_ = c.Close()
	}
}

// pacedDialer is a client.Config.WrapBase that paces the writes of each
// connection the base transport dials to rate bytes per second.
func pacedDialer(rate float64) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper {
		if tr, ok := rt.(*http.Transport); ok {
			dial := tr.DialContext
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &pacedConn{Conn: conn, rate: rate}, nil
			}
		}
		return rt
	}
}
