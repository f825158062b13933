package bench

import (
	"context"
	"testing"
	"time"
)

// BenchmarkColdStartProto: sfmtls from keystore files on disk to the first
// 200, against the org over HTTP/2 and over HTTP/1.1 alone (as behind nginx
// without http2), with the TLS handshakes each cold start makes and the CPU
// time of the process (client and fake org) per cold start.
func BenchmarkColdStartProto(b *testing.B) {
	e := setup(b)
	for _, proto := range []string{"h1", "h2"} {
		org := e.byProto(proto)
		url := org.URL + "/services/data/v65.0/limits"
		b.Run("proto="+proto, func(b *testing.B) {
			before, cpu := org.Stats().TLSHandshakes, cpuTime()
			b.ReportAllocs()
			for range b.N {
				im, err := newSfmtls(e, org)
				if err != nil {
					b.Fatal(err)
				}
				if err := im.get(context.Background(), url); err != nil {
					b.Fatal(err)
				}
				im.close()
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(org.Stats().TLSHandshakes-before)/float64(b.N), "handshakes/op")
		})
	}
}
