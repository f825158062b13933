package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

type benchAccount struct {
	Name     string `json:"Name"`
	Industry string `json:"Industry"`
}

func benchAccounts(n int) []benchAccount {
	recs := make([]benchAccount, n)
	for i := range recs {
		recs[i] = benchAccount{Name: fmt.Sprintf("Bulk %05d", i), Industry: "Energy"}
	}
	return recs
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCollectionsInsert10000 inserts 10,000 Accounts through sObject
// Collections (chunks of 200, 4 in flight) into a fresh fake org and reports
// the API calls the org counted against its allocation: 50 per 10,000, and
// the CPU time of the process (client and fake org) per insert.
func BenchmarkCollectionsInsert10000(b *testing.B) {
	recs := benchAccounts(10000)
	var calls int64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		org := salesforcetest.NewOrg(b, salesforcetest.Config{DailyAPIRequests: 1 << 30})
		c := org.Client(b)
		if _, err := c.APIVersion(context.Background()); err != nil { // log in and pick the version outside the timing
			b.Fatal(err)
		}
		before := org.Stats().APIUsage
		cpu0 := cpuTime()
		b.StartTimer()
		results, err := client.CreateRecords(context.Background(), c, "Account", recs, client.CollectionOptions{})
		b.StopTimer()
		cpu += cpuTime() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range results {
			if !r.Success {
				b.Fatalf("record %d: %+v", i, r.Errors)
			}
		}
		after := org.Stats().APIUsage
		calls = after - before
		if calls != 50 {
			b.Fatalf("10,000 records took %d API calls, want 50", calls)
		}
		org.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(calls), "api-calls/op")
	b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCollectionsClientCPU inserts 10,000 Accounts against a lean
// Collections endpoint that reads each request body and answers canned
// results, so that the CPU time reported (cpu-ms/op) is the client's:
// encoding, sending over mutual TLS, decoding and checking the answers.
// par=1 sends one chunk at a time, where the time to the first byte on the
// wire shows.
func BenchmarkCollectionsClientCPU(b *testing.B) {
	const n, chunk = 10000, 200
	recs := benchAccounts(n)
	org := salesforcetest.NewOrg(b, salesforcetest.Config{DailyAPIRequests: 1 << 40})
	// Canned answers: chunk i gets the ids i*200 … i*200+199, so that no two
	// chunks report the same new record.
	answers := make([][]byte, n/chunk)
	for i := range answers {
		var sb strings.Builder
		sb.WriteByte('[')
		for j := range chunk {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"id":"001%012d","success":true,"errors":[]}`, i*chunk+j)
		}
		sb.WriteByte(']')
		answers[i] = []byte(sb.String())
	}
	var next atomic.Int64
	org.Setup().Handle("/services/data/v65.0/composite/sobjects", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answers[(next.Add(1)-1)%int64(len(answers))])
	}))
	c := org.Client(b)
	if _, err := c.APIVersion(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("par=%d", par), func(b *testing.B) {
			var cpu time.Duration
			b.ReportAllocs()
			for b.Loop() {
				next.Store(0)
				cpu0 := cpuTime()
				results, err := client.CreateRecords(context.Background(), c, "Account", recs, client.CollectionOptions{Parallelism: par})
				cpu += cpuTime() - cpu0
				if err != nil {
					b.Fatal(err)
				}
				if len(results) != n || !results[n-1].Success {
					b.Fatalf("%d results", len(results))
				}
			}
			b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
		})
	}
}
