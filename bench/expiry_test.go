package bench

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Expiry storm: stormCallers call the org over HTTP/2 without pause, and time
// alternates between steady windows and storm windows of stormWindow each. In
// the middle of each storm window the org ends every session, so the calls
// sent with the old token before its first 401 comes back are answered 401
// INVALID_SESSION_ID, share one new token and are replayed, and the calls that
// start meanwhile wait for that token. A call belongs to the window it started
// in.
//
// Interleaving the windows in one run, rather than running a steady phase and
// a storm phase one after the other, keeps the load of a shared machine from
// favouring either: p99-ratio (storm p99 ÷ steady p99) is the figure to set
// against its target, 1.1× (bench/README.md).
//
// Two services: fixed answers every call after exactly serverTime, varied
// after a time drawn from serverTime ± a fifth. With a fixed service time the
// callers run in lockstep (every call takes as long, and the callers that
// waited for a new token replay together), so an expiry meets each of them at
// once and the share of rejected calls depends on where in the burst it falls;
// Salesforce's answer times vary from call to call, which keeps callers out of
// step.
const (
	stormCallers = 16
	stormWindow  = 250 * time.Millisecond
)

// variedPath is callPath's service with a varied service time.
const variedPath = "/services/apexrest/bench/varied"

// variedServerTime draws a service time uniformly from serverTime ± 20%.
func variedServerTime() time.Duration {
	return serverTime - serverTime/5 + rand.N(2*serverTime/5)
}

// BenchmarkExpiryStorm: sfmtls alone, since the peer does not survive an
// expiry (TestImplementationsAgree). Each b.N is one call.
func BenchmarkExpiryStorm(b *testing.B) {
	for _, svc := range []struct{ name, path string }{{"fixed", callPath}, {"varied", variedPath}} {
		b.Run("service="+svc.name, func(b *testing.B) { benchmarkStorm(b, svc.path) })
	}
}

func benchmarkStorm(b *testing.B, path string) {
	e := setup(b)
	org := e.org
	url := org.URL + path
	im, err := newSfmtls(e, org)
	if err != nil {
		b.Fatal(err)
	}
	defer im.close()
	ctx := context.Background()
	if err := im.warm(ctx, url, stormCallers); err != nil {
		b.Fatal(err)
	}
	// One expiry before the clock starts, so that every storm measured is a
	// repeated one: a process's first refresh signs its own assertion, and
	// with a second of calls (bench/run's default) that one storm of two
	// would set the storm's p99 (bench/README.md has its cost).
	org.Faults().ExpireAllSessions()
	if err := im.get(ctx, url); err != nil {
		b.Fatal(err)
	}

	// window counts the half windows: even and odd halves of a steady window,
	// then of a storm window, whose second half starts with the expiry.
	var window atomic.Int64
	stop := make(chan struct{})
	var clock sync.WaitGroup
	clock.Add(1)
	go func() {
		defer clock.Done()
		tick := time.NewTicker(stormWindow / 2)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if window.Add(1)%4 == 3 {
					org.Faults().ExpireAllSessions()
				}
			}
		}
	}()
	isStorm := func(w int64) bool { return w%4 >= 2 }

	before, cpu := org.Stats(), cpuTime()
	type sample struct {
		d     time.Duration
		storm bool
	}
	lat := make([][]sample, stormCallers)
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
				storm := isStorm(window.Load())
				start := time.Now()
				if err := im.get(ctx, url); err != nil {
					failures.Store(err.Error(), true)
				}
				lat[i] = append(lat[i], sample{time.Since(start), storm})
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	cpu = cpuTime() - cpu
	close(stop)
	clock.Wait()
	failures.Range(func(k, _ any) bool {
		b.Errorf("a call failed: %v", k)
		return false
	})
	var steady, storm []time.Duration
	for _, s := range slices.Concat(lat...) {
		if s.storm {
			storm = append(storm, s.d)
		} else {
			steady = append(steady, s.d)
		}
	}
	if len(storm) == 0 || len(steady) == 0 {
		b.Logf("%d calls: too few for both kinds of window (run with -benchtime 6000x or more)", b.N)
		return
	}
	slices.Sort(steady)
	slices.Sort(storm)
	ms := func(all []time.Duration, q float64) float64 {
		return float64(all[min(len(all)-1, int(q*float64(len(all))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(steady, 0.50), "steady-p50-ms")
	b.ReportMetric(ms(steady, 0.99), "steady-p99-ms")
	b.ReportMetric(ms(storm, 0.50), "storm-p50-ms")
	b.ReportMetric(ms(storm, 0.99), "storm-p99-ms")
	b.ReportMetric(ms(storm, 0.99)/ms(steady, 0.99), "p99-ratio")
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	after := org.Stats()
	b.ReportMetric(float64(after.TokenRequests-before.TokenRequests), "tokens")
	b.ReportMetric(float64(after.Unauthorized-before.Unauthorized)*1000/float64(len(storm)), "storm-401s/1k")
}
