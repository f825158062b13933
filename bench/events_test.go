package bench

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// The Streaming API benchmarks: a fake org holding streamEvents Account
// change events, read by a subscription (its positions in memory or in a
// file store) and, as the baseline, by a bare Bayeux loop over a plain
// client with a static token that parses nothing but the envelope.

const (
	streamEvents    = 100_000
	fileStoreEvents = 1_000
)

type streamEnv struct {
	org   *bulkOrgSettings // held: the org process runs until its stdin closes
	c     *client.Client
	plain *http.Client // the baseline's: the same identity, no transport of ours
}

var (
	streamOnce   sync.Once
	streamShared *streamEnv
)

// streamSetup starts cmd/streamorg (once) with streamEvents change events.
func streamSetup(b *testing.B) *streamEnv {
	b.Helper()
	streamOnce.Do(func() {
		s := startOrgProcess(b, "streamorg", streamEvents)
		c := bulkClient(b, s)
		mtls, err := keystore.LoadFile(s.MTLSKeystore, keystore.Options{Password: keystore.Secret(s.Password)})
		if err != nil {
			b.Fatal(err)
		}
		pem, err := os.ReadFile(s.ServerCA)
		if err != nil {
			b.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		plain := &http.Client{Transport: baseTransport(transport.NewTLSConfig(func() *keystore.Identity { return mtls }, roots))}
		streamShared = &streamEnv{org: s, c: c, plain: plain}
	})
	if streamShared == nil {
		b.Fatal("the stream org did not start")
	}
	return streamShared
}

// heapPeak samples the heap's live objects every millisecond until stop,
// and returns the peak above the level at its start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		if p := peak.Load(); p > base {
			return p - base
		}
		return 0
	}
}

// BenchmarkStreamChangeEvents reads streamEvents change events from the
// earliest retained, per iteration.
func BenchmarkStreamChangeEvents(b *testing.B) {
	env := streamSetup(b)
	for _, name := range []string{"baseline", "sfmtls", "sfmtls-filestore"} {
		b.Run("impl="+name, func(b *testing.B) {
			// A file store saves each position with an fsync: its cell reads
			// fileStoreEvents, or it would run for many minutes.
			want := streamEvents
			if name == "sfmtls-filestore" {
				want = fileStoreEvents
			}
			var peak uint64
			start := time.Now()
			for range b.N {
				stop := heapPeak()
				var n int
				var err error
				switch name {
				case "baseline":
					n, err = rawBayeux(b.Context(), env)
				default:
					var store events.Store
					if name == "sfmtls-filestore" {
						dir := b.TempDir()
						if store, err = auth.NewFileStore(dir); err != nil {
							b.Fatal(err)
						}
					}
					n, err = subscribeAll(b.Context(), env, store, want)
				}
				peak = max(peak, stop())
				if err != nil {
					b.Fatal(err)
				}
				if n != want {
					b.Fatalf("%d events, want %d", n, want)
				}
			}
			b.ReportMetric(float64(want*b.N)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// subscribeAll reads every retained event with a Subscription.
func subscribeAll(ctx context.Context, env *streamEnv, store events.Store, want int) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := 0
	err := (&events.Subscription{Source: &events.Streaming{Client: env.c, Channel: "/data/AccountChangeEvent"},
		Start: events.ReplayAll, Store: store}).Run(ctx, func(_ context.Context, ev events.Event) error {
		if ev.Change == nil || ev.Change.ChangeType != "CREATE" {
			return errors.New("not a CREATE change event")
		}
		n++
		if n == want {
			cancel()
		}
		return nil
	})
	if n == want {
		err = nil
	}
	return n, err
}

// rawBayeux is the baseline: handshake, subscribe with -2 and connect until
// every event arrived, over a plain HTTP client with a static token,
// parsing the envelope alone.
func rawBayeux(ctx context.Context, env *streamEnv) (int, error) {
	tok, err := env.c.Token(ctx)
	if err != nil {
		return 0, err
	}
	base, err := env.c.InstanceURL(ctx)
	if err != nil {
		return 0, err
	}
	hc := env.plain
	url := base.String() + "/cometd/" + salesforcetest.APIVersion
	var cookie string
	post := func(msg any) ([]struct {
		Channel    string          `json:"channel"`
		ClientID   string          `json:"clientId"`
		Successful bool            `json:"successful"`
		Data       json.RawMessage `json:"data"`
	}, error) {
		body, _ := json.Marshal([]any{msg})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+string(tok.AccessToken))
		req.Header.Set("Content-Type", "application/json")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		for _, c := range resp.Cookies() {
			cookie = c.Name + "=" + c.Value
		}
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		var ms []struct {
			Channel    string          `json:"channel"`
			ClientID   string          `json:"clientId"`
			Successful bool            `json:"successful"`
			Data       json.RawMessage `json:"data"`
		}
		return ms, json.Unmarshal(raw, &ms)
	}
	ms, err := post(map[string]any{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": []string{"long-polling"}})
	if err != nil || len(ms) == 0 || !ms[0].Successful {
		return 0, fmt.Errorf("handshake: %v", err)
	}
	id := ms[0].ClientID
	ch := "/data/AccountChangeEvent"
	if ms, err = post(map[string]any{"channel": "/meta/subscribe", "clientId": id, "subscription": ch,
		"ext": map[string]any{"replay": map[string]int{ch: -2}}}); err != nil || len(ms) == 0 || !ms[0].Successful {
		return 0, fmt.Errorf("subscribe: %v", err)
	}
	n := 0
	for n < streamEvents {
		ms, err := post(map[string]any{"channel": "/meta/connect", "clientId": id, "connectionType": "long-polling"})
		if err != nil {
			return n, err
		}
		for _, m := range ms {
			if m.Channel == ch {
				n++
			}
		}
	}
	_, _ = post(map[string]any{"channel": "/meta/disconnect", "clientId": id})
	return n, nil
}

// BenchmarkStreamWriteToHandler measures, per iteration, a REST create of
// an Account and the wait until its change event reaches a subscription's
// handler; it reports the percentiles of that latency and of the create
// alone.
func BenchmarkStreamWriteToHandler(b *testing.B) {
	env := streamSetup(b)
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	got := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- (&events.Subscription{Source: &events.Streaming{Client: env.c, Channel: "/data/AccountChangeEvent"}}).Run(ctx,
			func(_ context.Context, ev events.Event) error {
				var p struct{ Name string }
				_ = json.Unmarshal(ev.Data, &p)
				got <- p.Name
				return nil
			})
	}()
	// The subscription starts with new events only: wait until it is in
	// place, by writing until a change arrives.
	for ready := false; !ready; {
		if _, err := env.c.Create(ctx, "Account", map[string]any{"Name": "warm-up"}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-got:
			ready = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	for len(got) > 0 {
		<-got
	}
	var total, write []time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := "Latency " + strconv.Itoa(i) + " " + strconv.Itoa(os.Getpid())
		t0 := time.Now()
		if _, err := env.c.Create(ctx, "Account", map[string]any{"Name": name}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for n := range got {
			if n == name {
				break
			}
		}
		total = append(total, time.Since(t0))
		write = append(write, t1.Sub(t0))
	}
	b.StopTimer()
	cancel()
	<-done
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(total, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(total, 99)), "p99-ms")
	b.ReportMetric(ms(percentile(write, 50)), "write-p50-ms")
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
