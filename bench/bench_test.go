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
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

const password = "bench-keystore-pw"

// env is the fake org and its keystore files, shared by all benchmarks.
type env struct {
	org   *salesforcetest.Org
	files *salesforcetest.Files
	dir   string
}

var (
	envOnce sync.Once
	shared  *env
)

func setup(tb testing.TB) *env {
	tb.Helper()
	envOnce.Do(func() {
		// The benchmarks send far more calls than the fake's default daily
		// allocation (15,000); the allocation is not what they measure.
		org, err := salesforcetest.Start(salesforcetest.Config{DailyAPIRequests: 1 << 40})
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
		shared = &env{org: org, files: files, dir: dir}
	})
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.org.Close()
		os.RemoveAll(shared.dir)
	}
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if im.header != "" {
		req.Header.Set("Authorization", im.header)
	}
	resp, err := im.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", im.name, resp.Status)
	}
	return nil
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
func newBaseline(e *env) (*impl, error) {
	mtls, jwtID, err := loadIdentities(e)
	if err != nil {
		return nil, err
	}
	tr := baseTransport(transport.NewTLSConfig(func() *keystore.Identity { return mtls }, e.org.RootCAs()))
	c := &http.Client{Transport: tr}
	ts, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: e.org.URL, ConsumerKey: e.org.ConsumerKey, Username: e.org.Username,
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
func newPeer(e *env) (*impl, error) {
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
		Email:      e.org.ConsumerKey,
		Subject:    e.org.Username,
		PrivateKey: key,
		TokenURL:   e.org.URL + "/services/oauth2/token",
		Audience:   auth.ProductionAudience,
		Expires:    2 * time.Minute,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr})
	return &impl{name: "peer", client: conf.Client(ctx), close: tr.CloseIdleConnections}, nil
}

// newSfmtls: the SDK's transport.
func newSfmtls(e *env) (*impl, error) {
	mtls, jwtID, err := loadIdentities(e)
	if err != nil {
		return nil, err
	}
	tr, err := transport.New(transport.Config{LoginURL: e.org.URL, ConsumerKey: e.org.ConsumerKey, Username: e.org.Username,
		MTLS: mtls, JWT: jwtID, RootCAs: e.org.RootCAs(), Port: e.org.Port})
	if err != nil {
		return nil, err
	}
	return &impl{name: "sfmtls", client: tr.Client(), close: tr.CloseIdleConnections}, nil
}

var builders = []func(*env) (*impl, error){newBaseline, newPeer, newSfmtls}

// rotated returns the builders starting at BENCH_ROUND mod 3, so that over the
// rounds of bench/run each implementation runs first, second and third equally
// often: whatever drifts within a process (heap size, CPU clocks) does not
// favour one of them.
func rotated() []func(*env) (*impl, error) {
	n, _ := strconv.Atoi(os.Getenv("BENCH_ROUND"))
	k := n % len(builders)
	return append(slices.Clone(builders[k:]), builders[:k]...)
}

// BenchmarkRequest: requests with a cached token at 1, 16 and 256 concurrent
// callers; the three implementations run one after another at each level.
func BenchmarkRequest(b *testing.B) {
	e := setup(b)
	url := e.org.URL + "/services/data/v65.0/limits"
	for _, conc := range []int{1, 16, 256} {
		for _, build := range rotated() {
			im, err := build(e)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("conc=%d/impl=%s", conc, im.name), func(b *testing.B) {
				ctx := context.Background()
				if err := im.get(ctx, url); err != nil { // token and connection warm
					b.Fatal(err)
				}
				before := e.org.Stats()
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
				after := e.org.Stats()
				per10k := func(n int64) float64 { return float64(n) * 10000 / float64(b.N) }
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
				b.ReportMetric(per10k(after.TLSHandshakes-before.TLSHandshakes), "handshakes/10k")
				b.ReportMetric(per10k(after.TokenRequests-before.TokenRequests), "tokens/10k")
			})
			im.close()
		}
	}
}

// BenchmarkColdStart: from keystore files on disk to the first 200.
func BenchmarkColdStart(b *testing.B) {
	e := setup(b)
	url := e.org.URL + "/services/data/v65.0/limits"
	for _, build := range rotated() {
		probe, err := build(e)
		if err != nil {
			b.Fatal(err)
		}
		probe.close()
		b.Run("impl="+probe.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				im, err := build(e)
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
// reaches the org. After a session expiry the peer fails, since x/oauth2 treats
// a token without expires_in as valid forever and does not retry on 401, while
// sfmtls refreshes and succeeds: the behaviour the SDK exists for.
func TestImplementationsAgree(t *testing.T) {
	e := setup(t)
	url := e.org.URL + "/services/data/v65.0/limits"
	impls := map[string]*impl{}
	for _, build := range builders {
		im, err := build(e)
		if err != nil {
			t.Fatal(err)
		}
		defer im.close()
		if err := im.get(context.Background(), url); err != nil {
			t.Fatal(err)
		}
		impls[im.name] = im
	}
	e.org.ExpireAllSessions()
	if err := impls["peer"].get(context.Background(), url); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("peer after expiry: got %v, want a 401", err)
	}
	if err := impls["sfmtls"].get(context.Background(), url); err != nil {
		t.Errorf("sfmtls after expiry: %v", err)
	}
}
