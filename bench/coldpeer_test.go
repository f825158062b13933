package bench

import (
	"context"
	"net/http"
	"runtime/metrics"
	"runtime/pprof"
	"testing"
	"time"
)

// BenchmarkPeerColdPair: the cold start of BenchmarkPeer with sfmtls and
// go-salesforce (as is, and with sfmtls's checks) alternated call by call in one loop, so that both see the same
// load on a shared machine. It reports each one's process CPU time and bytes
// allocated per cold start, and labels each call's goroutines with impl= for a
// CPU profile (pprof -tagfocus impl=sfmtls).
func BenchmarkPeerColdPair(b *testing.B) {
	s := bulkOrg(b, peerSeed)
	limits := "/services/data/v" + peerAPIVersion + "/limits"
	ops := []peerOp{
		{"peer", func(ctx context.Context) error {
			_, tr, err := peerFromFiles(s)
			if err != nil {
				return err
			}
			tr.CloseIdleConnections()
			return nil
		}},
		{"peer-checked", func(ctx context.Context) error {
			_, tr, err := peerCheckedFromFiles(s)
			if err != nil {
				return err
			}
			tr.CloseIdleConnections()
			return nil
		}},
		{"sfmtls", func(ctx context.Context) error {
			c, err := sfmtlsFromFiles(s)
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Do(ctx, http.MethodGet, limits, nil, nil)
		}},
	}
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"}}
	var cpu [3]time.Duration
	var bytes, objs [3]uint64
	ctx := context.Background()
	for _, op := range ops {
		if err := op.run(ctx); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		for k := range ops {
			j := (i + k) % len(ops)
			op := ops[j]
			metrics.Read(sample)
			b0, o0 := sample[0].Value.Uint64(), sample[1].Value.Uint64()
			c0 := cpuTime()
			var err error
			pprof.Do(ctx, pprof.Labels("impl", op.impl), func(ctx context.Context) { err = op.run(ctx) })
			cpu[j] += cpuTime() - c0
			metrics.Read(sample)
			bytes[j] += sample[0].Value.Uint64() - b0
			objs[j] += sample[1].Value.Uint64() - o0
			if err != nil {
				b.Fatal(err)
			}
		}
		i++
	}
	for j, op := range ops {
		b.ReportMetric(float64(cpu[j].Microseconds())/1e3/float64(b.N), op.impl+"-cpu-ms/op")
		b.ReportMetric(float64(bytes[j])/float64(b.N), op.impl+"-B/op")
		b.ReportMetric(float64(objs[j])/float64(b.N), op.impl+"-allocs/op")
	}
}
