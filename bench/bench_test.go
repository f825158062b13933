// Package bench compares the SDK's transport with a plain client holding a
// static token (the baseline: the cost of TLS and HTTP alone) and with
// golang.org/x/oauth2's JWT flow (the peer: what a Go user would write
// otherwise), all against the same fake org on loopback, in one process.
//
// Run ./run for the whole comparison with benchstat and a table of ratios.
package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/jwtbearer"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

const password = "bench-keystore-pw"

// env is the fake orgs and their keystore files, shared by all benchmarks: org
// speaks HTTP/2, h1 the same org's PKI over HTTP/1.1 alone, as behind a proxy
// or load balancer without HTTP/2.
type env struct {
	org, h1 *salesforcetest.Org
	files   *salesforcetest.Files
	dir     string
}

// byProto returns the org for a protocol label, "h1" or "h2".
func (e *env) byProto(proto string) *salesforcetest.Org {
	if proto == "h1" {
		return e.h1
	}
	return e.org
}

var (
	envOnce sync.Once
	shared  *env
)

// callPath is the API call the Request benchmarks make: an Apex REST service
// that answers after serverTime, authenticated and counted like any API call.
// Salesforce's own answers take tens of milliseconds; without any server time,
// two cores on loopback are saturated by a handful of connections, and a
// bound on connections could not show.
const (
	callPath   = "/services/apexrest/bench"
	serverTime = 5 * time.Millisecond
)

func setup(tb testing.TB) *env {
	tb.Helper()
	envOnce.Do(func() {
		// A round makes far more calls than a day's default allocation.
		const allocation = math.MaxInt64 / 2
		org, err := salesforcetest.Start(salesforcetest.Config{DailyAPIRequests: allocation})
		if err != nil {
			panic(err)
		}
		h1, err := salesforcetest.Start(salesforcetest.Config{PKI: org.PKI, HTTP1Only: true, DailyAPIRequests: allocation})
		if err != nil {
			panic(err)
		}
		dir, err := os.MkdirTemp("", "sfmtls-bench-")
		if err != nil {
			panic(err)
		}
		files, err := org.PKI.WriteFiles(dir, password)
		if err != nil {
			panic(err)
		}
		for _, o := range []*salesforcetest.Org{org, h1} {
			o.Setup().Handle(callPath, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(serverTime)
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"ok":true}`)
			}))
			o.Setup().Handle(variedPath, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(variedServerTime())
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"ok":true}`)
			}))
		}
		shared = &env{org: org, h1: h1, files: files, dir: dir}
	})
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.org.Close()
		shared.h1.Close()
		os.RemoveAll(shared.dir)
	}
	// The org processes stop when this one exits; their binaries and
	// keystores go now.
	orgDirsMu.Lock()
	for _, dir := range orgDirs {
		os.RemoveAll(dir)
	}
	orgDirsMu.Unlock()
	os.Exit(code)
}

// baseTransport is the same HTTP transport for every implementation.
func baseTransport(cfg *tls.Config) *http.Transport {
	return &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true, MaxIdleConns: 100, MaxIdleConnsPerHost: 100, IdleConnTimeout: 90 * time.Second}
}

// impl is one way to call the org: a client, the URL of the API call, and how
// to make a request.
type impl struct {
	name   string
	client *http.Client
	header string // baseline only: the static Authorization value
	close  func()
}

func (im *impl) get(ctx context.Context, url string) error {
	_, err := im.do(ctx, url)
	return err
}

// warm makes conc calls at once, so that the token is fetched and every
// caller has a connection (over HTTP/1.1, one each) before the clock starts;
// else a short run at many callers would time mostly handshakes.
func (im *impl) warm(ctx context.Context, url string, conc int) error {
	errs := make(chan error, conc)
	for range conc {
		go func() { errs <- im.get(ctx, url) }()
	}
	var first error
	for range conc {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// do GETs url and returns the answer's HTTP major version.
func (im *impl) do(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if im.header != "" {
		req.Header.Set("Authorization", im.header)
	}
	resp, err := im.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.ProtoMajor, &statusError{impl: im.name, code: resp.StatusCode}
	}
	return resp.ProtoMajor, nil
}

// statusError is an answer other than 200.
type statusError struct {
	impl string
	code int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.impl, e.code, http.StatusText(e.code))
}

// loadIdentities reads the MuleSoft-style pair of JKS files, as a cold start does.
func loadIdentities(e *env) (mtls, jwt *keystore.Identity, err error) {
	if mtls, err = keystore.LoadFile(e.files.MTLSJKS, keystore.Options{Password: password}); err != nil {
		return nil, nil, err
	}
	jwt, err = keystore.LoadFile(e.files.JWTJKS, keystore.Options{Password: password})
	return mtls, jwt, err
}

// newBaseline: a plain http.Client over the same mutual TLS config with a token
// fetched once and set as a static header.
func newBaseline(e *env, org *salesforcetest.Org) (*impl, error) {
	mtls, jwtID, err := loadIdentities(e)
	if err != nil {
		return nil, err
	}
	tr := baseTransport(transport.NewTLSConfig(func() *keystore.Identity { return mtls }, org.RootCAs()))
	c := &http.Client{Transport: tr}
	ts, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: jwtID.Signer(), HTTPClient: c})
	if err != nil {
		return nil, err
	}
	tok, err := ts.Token(context.Background())
	if err != nil {
		return nil, err
	}
	return &impl{name: "baseline", client: c, header: "Bearer " + string(tok.AccessToken), close: tr.CloseIdleConnections}, nil
}

// newPeer: golang.org/x/oauth2's JWT config and oauth2.Transport, with the mutual
// TLS client passed in the context, from PEM files as a Go user would hold them.
func newPeer(e *env, org *salesforcetest.Org) (*impl, error) {
	cert, err := tls.LoadX509KeyPair(e.files.MTLSCert, e.files.MTLSKey)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	caPEM, err := os.ReadFile(e.files.ServerCA)
	if err != nil {
		return nil, err
	}
	roots.AppendCertsFromPEM(caPEM)
	tr := baseTransport(&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, MinVersion: tls.VersionTLS12})
	key, err := os.ReadFile(e.files.JWTKey)
	if err != nil {
		return nil, err
	}
	conf := &jwt.Config{
		Email:      org.ConsumerKey,
		Subject:    org.Username,
		PrivateKey: key,
		TokenURL:   org.URL + "/services/oauth2/token",
		Audience:   jwtbearer.ProductionAudience,
		Expires:    2 * time.Minute,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr})
	return &impl{name: "peer", client: conf.Client(ctx), close: tr.CloseIdleConnections}, nil
}

// newSfmtls: the SDK's client, whose HTTPClient carries its transport.
func newSfmtls(e *env, org *salesforcetest.Org) (*impl, error) {
	mtls, jwtID, err := loadIdentities(e)
	if err != nil {
		return nil, err
	}
	c, err := client.New(client.Config{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		MTLS: mtls, JWT: jwtID, RootCAs: org.RootCAs(), Port: org.Port})
	if err != nil {
		return nil, err
	}
	return &impl{name: "sfmtls", client: c.HTTPClient(), close: func() { _ = c.Close() }}, nil
}

type builder func(*env, *salesforcetest.Org) (*impl, error)

var builders = []builder{newBaseline, newPeer, newSfmtls}

// rotated returns the builders starting at BENCH_ROUND mod 3, so that over the
// rounds of bench/run each implementation runs first, second and third equally
// often: whatever drifts within a process (heap size, CPU clocks) does not
// favour one of them.
func rotated() []builder {
	n, _ := strconv.Atoi(os.Getenv("BENCH_ROUND"))
	k := n % len(builders)
	return append(slices.Clone(builders[k:]), builders[:k]...)
}

// BenchmarkRequest: calls with a cached token (see callPath) over HTTP/1.1 (h1)
// and HTTP/2 (h2) at 1, 16 and 128 concurrent callers; the three
// implementations run one after another in each cell. Over HTTP/1.1 each call
// in flight needs a connection of its own, so a connection bound shows there
// as lost throughput.
func BenchmarkRequest(b *testing.B) {
	e := setup(b)
	for _, proto := range []string{"h1", "h2"} {
		for _, conc := range []int{1, 16, 128} {
			benchmarkCell(b, e, proto, conc)
		}
	}
}

func benchmarkCell(b *testing.B, e *env, proto string, conc int) {
	org := e.byProto(proto)
	url := org.URL + callPath
	for _, build := range rotated() {
		im, err := build(e, org)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("proto=%s/conc=%d/impl=%s", proto, conc, im.name), func(b *testing.B) {
			ctx := context.Background()
			if err := im.warm(ctx, url, conc); err != nil {
				b.Fatal(err)
			}
			before := org.Stats()
			b.ReportAllocs()
			b.ResetTimer()
			if conc == 1 {
				for range b.N {
					if err := im.get(ctx, url); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := im.get(ctx, url); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.StopTimer()
			after := org.Stats()
			per10k := func(n int64) float64 { return float64(n) * 10000 / float64(b.N) }
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(per10k(after.TLSHandshakes-before.TLSHandshakes), "handshakes/10k")
			b.ReportMetric(per10k(after.TokenRequests-before.TokenRequests), "tokens/10k")
		})
		im.close()
	}
}

// BenchmarkColdStart: from keystore files on disk to the first 200.
func BenchmarkColdStart(b *testing.B) {
	e := setup(b)
	url := e.org.URL + "/services/data/v65.0/limits"
	for _, build := range rotated() {
		probe, err := build(e, e.org)
		if err != nil {
			b.Fatal(err)
		}
		probe.close()
		b.Run("impl="+probe.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				im, err := build(e, e.org)
				if err != nil {
					b.Fatal(err)
				}
				if err := im.get(context.Background(), url); err != nil {
					b.Fatal(err)
				}
				im.close()
			}
		})
	}
}

// TestImplementationsAgree keeps the benchmark honest: every implementation
// reaches both orgs over the protocol the org serves. After a session expiry
// the peer fails, since x/oauth2 treats a token without expires_in as valid
// forever and does not retry on 401, while sfmtls refreshes and succeeds: the
// behaviour the SDK exists for.
func TestImplementationsAgree(t *testing.T) {
	e := setup(t)
	for _, proto := range []string{"h1", "h2"} {
		t.Run(proto, func(t *testing.T) {
			org := e.byProto(proto)
			url := org.URL + "/services/data/v65.0/limits"
			impls := map[string]*impl{}
			for _, build := range builders {
				im, err := build(e, org)
				if err != nil {
					t.Fatal(err)
				}
				defer im.close()
				major, err := im.do(t.Context(), url)
				if err != nil {
					t.Fatal(err)
				}
				if want := map[string]int{"h1": 1, "h2": 2}[proto]; major != want {
					t.Errorf("%s over %s: HTTP/%d", im.name, proto, major)
				}
				impls[im.name] = im
			}
			org.Faults().ExpireAllSessions()
			var status *statusError
			if err := impls["peer"].get(t.Context(), url); !errors.As(err, &status) || status.code != http.StatusUnauthorized {
				t.Errorf("peer after expiry: got %v, want a 401", err)
			}
			if err := impls["sfmtls"].get(t.Context(), url); err != nil {
				t.Errorf("sfmtls after expiry: %v", err)
			}
		})
	}
}
