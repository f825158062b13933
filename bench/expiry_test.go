package bench

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Expiry storm: stormCallers call the org over HTTP/2 without pause; in the
// storm phase the org ends every session each stormPeriod, so the calls in
// flight are answered 401 INVALID_SESSION_ID, share one new token and are
// replayed. The steady phase is the same load without expiries. Each phase
// reports its latency percentiles; set p99 of phase=storm against p99 of
// phase=steady (bench/README.md has the target, 1.1×). Every 250 ms about 2%
// of the calls meet an expiry, so the storm's p99 is such a call: 401, the
// token request, the replay.
const (
	stormCallers = 16
	stormPeriod  = 250 * time.Millisecond
)

// BenchmarkExpiryStorm: sfmtls alone, since the peer does not survive an
// expiry (TestImplementationsAgree). Each b.N is one call.
func BenchmarkExpiryStorm(b *testing.B) {
	e := setup(b)
	org := e.org
	url := org.URL + callPath
	phases := []string{"steady", "storm"}
	if n, _ := strconv.Atoi(os.Getenv("BENCH_ROUND")); n%2 == 1 {
		slices.Reverse(phases) // bench/run rotates the order, as for the other benchmarks
	}
	for _, phase := range phases {
		b.Run("phase="+phase, func(b *testing.B) {
			im, err := newSfmtls(e, org)
			if err != nil {
				b.Fatal(err)
			}
			defer im.close()
			ctx := context.Background()
			if err := im.warm(ctx, url, stormCallers); err != nil {
				b.Fatal(err)
			}
			stop := make(chan struct{})
			var expirer sync.WaitGroup
			if phase == "storm" {
				expirer.Add(1)
				go func() {
					defer expirer.Done()
					tick := time.NewTicker(stormPeriod)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							org.ExpireAllSessions()
						}
					}
				}()
			}
			before, cpu := org.Stats(), cpuTime()
			lat := make([][]time.Duration, stormCallers)
			next := make(chan struct{}, stormCallers)
			var failures sync.Map
			var wg sync.WaitGroup
			b.ResetTimer()
			go func() {
				for range b.N {
					next <- struct{}{}
				}
				close(next)
			}()
			for i := range stormCallers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range next {
						start := time.Now()
						if err := im.get(ctx, url); err != nil {
							failures.Store(err.Error(), true)
						}
						lat[i] = append(lat[i], time.Since(start))
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			cpu = cpuTime() - cpu
			close(stop)
			expirer.Wait()
			failures.Range(func(k, _ any) bool {
				b.Errorf("a call failed: %v", k)
				return false
			})
			all := slices.Concat(lat...)
			slices.Sort(all)
			ms := func(q float64) float64 {
				return float64(all[min(len(all)-1, int(q*float64(len(all))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
			b.ReportMetric(ms(0.999), "p99.9-ms")
			b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
			after := org.Stats()
			b.ReportMetric(float64(after.TokenRequests-before.TokenRequests), "tokens")
			b.ReportMetric(float64(after.Unauthorized-before.Unauthorized)*1000/float64(b.N), "401s/1k")
		})
	}
}
