package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// BenchmarkCollectionsInsert10000 inserts 10,000 Accounts through sObject
// Collections (chunks of 200, 4 in flight) into a fresh fake org and reports
// the API calls the org counted against its allocation: 50 per 10,000.
func BenchmarkCollectionsInsert10000(b *testing.B) {
	type account struct {
		Name     string `json:"Name"`
		Industry string `json:"Industry"`
	}
	recs := make([]account, 10000)
	for i := range recs {
		recs[i] = account{Name: fmt.Sprintf("Bulk %05d", i), Industry: "Energy"}
	}
	var calls int64
	for b.Loop() {
		b.StopTimer()
		org := salesforcetest.NewOrg(b, salesforcetest.Config{DailyAPIRequests: 1 << 30})
		c := org.Client(b)
		if _, err := c.APIVersion(context.Background()); err != nil { // log in and pick the version outside the timing
			b.Fatal(err)
		}
		before, _ := org.APIUsage()
		b.StartTimer()
		results, err := client.CreateRecords(context.Background(), c, "Account", recs, client.CollectionOptions{})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range results {
			if !r.Success {
				b.Fatalf("record %d: %+v", i, r.Errors)
			}
		}
		after, _ := org.APIUsage()
		calls = after - before
		if calls != 50 {
			b.Fatalf("10,000 records took %d API calls, want 50", calls)
		}
		org.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(calls), "api-calls/op")
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
