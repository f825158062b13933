package bench

// The comparison with go-salesforce (github.com/k-capehart/go-salesforce/v3),
// the Go peer, on one fake org in its own process (cmd/bulkorg, seeded with
// 50,000 Accounts), so that CPU time and heap are the client's alone:
//
//	BENCH=Peer ROUNDS=6 bench/run
//
// Each operation runs both implementations back to back, their order rotated
// by BENCH_ROUND. go-salesforce has no mutual TLS of its own: it takes an
// http.RoundTripper (WithRoundTripper) and an access token (Creds.AccessToken)
// with the instance URL as Domain. In the warm cells it gets sfmtls's own
// Transport (the same connections, TLS and token), so that what differs is
// the library's data layer; at cold start it gets what a Go user would build
// from the same PEM files: tls.LoadX509KeyPair, an http.Transport, and a
// token from golang.org/x/oauth2's JWT flow over that transport.

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"testing"
	"time"

	salesforce "github.com/k-capehart/go-salesforce/v3"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
)

const (
	peerSeed       = 50_000 // Accounts in the org, all read by the Bulk query
	peerQueryRows  = 20_000 // read by the REST query, 10 pages of 2,000
	peerInsertRows = 10_000 // Collections insert and Bulk ingest
	peerAPIVersion = "63.0" // go-salesforce's default
)

// peerAccount carries the tags of both libraries: json (sfmtls's REST),
// sf (sfmtls's Bulk CSV), salesforce (go-salesforce's maps) and csv
// (go-salesforce's Bulk query decoder).
type peerAccount struct {
	ID                string `json:"Id,omitempty" sf:"Id,omitempty" salesforce:"Id,omitempty" csv:"Id,omitempty"`
	Name              string `json:"Name" sf:"Name" salesforce:"Name" csv:"Name"`
	NumberOfEmployees int    `json:"NumberOfEmployees" sf:"NumberOfEmployees" salesforce:"NumberOfEmployees" csv:"NumberOfEmployees"`
}

func peerRecords(n int) []peerAccount {
	out := make([]peerAccount, n)
	for i := range out {
		out[i] = peerAccount{Name: fmt.Sprintf("Peer %06d", i), NumberOfEmployees: i % 5000}
	}
	return out
}

// sfmtlsFromFiles builds the SDK's client from the PEM files, as a cold start does.
func sfmtlsFromFiles(s *bulkOrgSettings) (*client.Client, error) {
	mtls, err := keystore.LoadFile(s.MTLSCert, keystore.Options{KeyFile: s.MTLSKey})
	if err != nil {
		return nil, err
	}
	jwtID, err := keystore.LoadFile(s.JWTCert, keystore.Options{KeyFile: s.JWTKey})
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(s.ServerCA)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	return client.New(client.Config{LoginURL: s.URL, Audience: s.Audience, ConsumerKey: s.ConsumerKey, Username: s.Username,
		MTLS: mtls, JWT: jwtID, RootCAs: roots, Port: s.Port, APIVersion: peerAPIVersion})
}

// peerFromFiles builds go-salesforce from the same PEM files: the standard
// library's key pair loader and transport, a token from x/oauth2's JWT flow
// over that transport, then salesforce.Init, which checks the token with a
// GET of /limits (its first call).
func peerFromFiles(s *bulkOrgSettings) (*salesforce.Salesforce, *http.Transport, error) {
	cert, err := tls.LoadX509KeyPair(s.MTLSCert, s.MTLSKey)
	if err != nil {
		return nil, nil, err
	}
	pem, err := os.ReadFile(s.ServerCA)
	if err != nil {
		return nil, nil, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	tr := baseTransport(&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, MinVersion: tls.VersionTLS12})
	key, err := os.ReadFile(s.JWTKey)
	if err != nil {
		return nil, nil, err
	}
	conf := &jwt.Config{Email: s.ConsumerKey, Subject: s.Username, PrivateKey: key,
		TokenURL: s.URL + "/services/oauth2/token", Audience: s.Audience, Expires: 2 * time.Minute}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr})
	tok, err := conf.TokenSource(ctx).Token()
	if err != nil {
		tr.CloseIdleConnections()
		return nil, nil, err
	}
	sf, err := salesforce.Init(salesforce.Creds{Domain: s.URL, AccessToken: tok.AccessToken}, salesforce.WithRoundTripper(tr))
	if err != nil {
		tr.CloseIdleConnections()
		return nil, nil, err
	}
	return sf, tr, nil
}

// peerCheckedFromFiles is peerFromFiles with the checks sfmtls makes of the
// same files before its first call, as a careful go-salesforce user would
// write them: every certificate of the mutual TLS chain parsed
// (tls.LoadX509KeyPair parses the leaf only) and in date, and the JWT
// certificate parsed, in date and holding the JWT key's public key, an RSA
// key of 2048 bits or more (x/oauth2 takes the key as PEM bytes and parses
// it again itself).
func peerCheckedFromFiles(s *bulkOrgSettings) (*salesforce.Salesforce, *http.Transport, error) {
	now := time.Now()
	inDate := func(c *x509.Certificate) error {
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return fmt.Errorf("certificate %s is out of date", c.Subject)
		}
		return nil
	}
	cert, err := tls.LoadX509KeyPair(s.MTLSCert, s.MTLSKey)
	if err != nil {
		return nil, nil, err
	}
	for i, der := range cert.Certificate {
		c := cert.Leaf
		if i > 0 {
			if c, err = x509.ParseCertificate(der); err != nil {
				return nil, nil, err
			}
		}
		if err := inDate(c); err != nil {
			return nil, nil, err
		}
	}
	jwtPair, err := tls.LoadX509KeyPair(s.JWTCert, s.JWTKey) // checks that the key is the certificate's
	if err != nil {
		return nil, nil, err
	}
	if err := inDate(jwtPair.Leaf); err != nil {
		return nil, nil, err
	}
	if pub, ok := jwtPair.Leaf.PublicKey.(*rsa.PublicKey); !ok || pub.N.BitLen() < 2048 {
		return nil, nil, fmt.Errorf("the JWT key is not RSA of 2048 bits or more")
	}
	return peerFromFiles(s)
}

// peerOp is one implementation of one operation.
type peerOp struct {
	impl string
	run  func(ctx context.Context) error
}

// heapGrowth samples, every 2 ms, how far the heap's objects grow above
// what they were when sampling began (after a GC).
type heapGrowth struct {
	stop, done chan struct{}
	base, peak uint64
}

func sampleHeapGrowth() *heapGrowth {
	runtime.GC()
	h := &heapGrowth{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	h.base = sample[0].Value.Uint64()
	h.peak = h.base
	go func() {
		defer close(h.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			h.peak = max(h.peak, sample[0].Value.Uint64())
			select {
			case <-h.stop:
				metrics.Read(sample)
				h.peak = max(h.peak, sample[0].Value.Uint64())
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// MiB stops sampling and returns the growth in MiB.
func (h *heapGrowth) MiB() float64 {
	close(h.stop)
	<-h.done
	return float64(h.peak-h.base) / (1 << 20)
}

// runPeerOps runs each implementation of an operation as a sub-benchmark,
// in the order BENCH_ROUND rotates to, reporting wall time (ns/op), CPU
// time of the process (cpu-ms/op) and the heap's peak growth during the
// call (peak-heap-MiB, the largest of the iterations).
func runPeerOps(b *testing.B, op string, impls []peerOp) {
	n, _ := strconv.Atoi(os.Getenv("BENCH_ROUND"))
	k := n % len(impls)
	for _, im := range append(slices.Clone(impls[k:]), impls[:k]...) {
		b.Run("op="+op+"/impl="+im.impl, func(b *testing.B) {
			ctx := context.Background()
			if err := im.run(ctx); err != nil { // warm: connections, token, the org's caches
				b.Fatal(err)
			}
			var cpu time.Duration
			var peak float64
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				h := sampleHeapGrowth()
				cpu0 := cpuTime()
				b.StartTimer()
				err := im.run(ctx)
				b.StopTimer()
				cpu += cpuTime() - cpu0
				peak = max(peak, h.MiB())
				b.StartTimer()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
			b.ReportMetric(peak, "peak-heap-MiB")
		})
	}
}

// BenchmarkPeer compares sfmtls with go-salesforce: a REST query of 20,000
// records into a slice, a Collections insert of 10,000 records (sfmtls
// with 4 chunks in flight, its default; in collections-par1 with 1, as
// go-salesforce sends them), a Bulk ingest of 10,000 records (one job, waited for), a
// Bulk query of 50,000 records decoded into structs, and a cold start
// from PEM files to the first answered call.
func BenchmarkPeer(b *testing.B) {
	s := bulkOrg(b, peerSeed)
	c, err := sfmtlsFromFiles(s)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	tok, err := c.Token(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// The warm peer rides on sfmtls's Transport: same connections, TLS and token.
	sf, err := salesforce.Init(salesforce.Creds{Domain: s.URL, AccessToken: string(tok.AccessToken)},
		salesforce.WithRoundTripper(c.HTTPClient().Transport))
	if err != nil {
		b.Fatal(err)
	}
	bc := bulk.NewClient(c, bulk.Options{})
	recs := peerRecords(peerInsertRows)
	want := func(impl string, got, want int) error {
		if got != want {
			return fmt.Errorf("%s: %d records, want %d", impl, got, want)
		}
		return nil
	}

	query := fmt.Sprintf("SELECT Id, Name, NumberOfEmployees FROM Account LIMIT %d", peerQueryRows)
	runPeerOps(b, "query", []peerOp{
		{"peer", func(ctx context.Context) error {
			var out []peerAccount
			if err := sf.Query(query, &out); err != nil {
				return err
			}
			return want("gosf", len(out), peerQueryRows)
		}},
		{"sfmtls", func(ctx context.Context) error {
			var out []peerAccount
			for r, err := range client.Query[peerAccount](ctx, c, query) {
				if err != nil {
					return err
				}
				out = append(out, r)
			}
			return want("sfmtls", len(out), peerQueryRows)
		}},
	})

	insert := func(par int) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			res, err := client.CreateRecords(ctx, c, "Account", recs, client.CollectionOptions{Parallelism: par})
			if err != nil {
				return err
			}
			return want("sfmtls", len(res), peerInsertRows)
		}
	}
	runPeerOps(b, "collections", []peerOp{
		{"peer", func(ctx context.Context) error {
			res, err := sf.InsertCollection("Account", recs, 200)
			if err != nil {
				return err
			}
			if res.HasSalesforceErrors {
				return fmt.Errorf("gosf: %+v", res.Results[0])
			}
			return want("gosf", len(res.Results), peerInsertRows)
		}},
		{"sfmtls", insert(0)},
	})
	runPeerOps(b, "collections-par1", []peerOp{
		{"peer", func(ctx context.Context) error {
			res, err := sf.InsertCollection("Account", recs, 200)
			if err != nil {
				return err
			}
			return want("gosf", len(res.Results), peerInsertRows)
		}},
		{"sfmtls", insert(1)},
	})

	runPeerOps(b, "bulk-ingest", []peerOp{
		{"peer", func(ctx context.Context) error {
			ids, err := sf.InsertBulk("Account", recs, peerInsertRows, true)
			if err != nil {
				return err
			}
			return want("gosf jobs", len(ids), 1)
		}},
		{"sfmtls", func(ctx context.Context) error {
			in, err := bulk.IngestRecords(ctx, bc, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}, slices.Values(recs), nil)
			if err != nil {
				return err
			}
			if in.Failed != 0 {
				return fmt.Errorf("sfmtls: %d rows failed", in.Failed)
			}
			return want("sfmtls", int(in.Processed), peerInsertRows)
		}},
	})

	bulkQuery := fmt.Sprintf("SELECT Id, Name, NumberOfEmployees FROM Account LIMIT %d", peerSeed)
	runPeerOps(b, "bulk-query", []peerOp{
		{"peer", func(ctx context.Context) error {
			it, err := sf.QueryBulkIterator(bulkQuery)
			if err != nil {
				return err
			}
			n := 0
			for it.Next() {
				var page []peerAccount
				if err := it.Decode(&page); err != nil {
					return err
				}
				n += len(page)
			}
			if err := it.Error(); err != nil {
				return err
			}
			return want("gosf", n, peerSeed)
		}},
		{"sfmtls", func(ctx context.Context) error {
			job, _, err := bc.Query(ctx, bulk.QuerySpec{Query: bulkQuery}, nil)
			if err != nil {
				return err
			}
			n := 0
			for _, err := range bulk.Records[peerAccount](ctx, job, 0) {
				if err != nil {
					return err
				}
				n++
			}
			return want("sfmtls", n, peerSeed)
		}},
	})

	limits := "/services/data/v" + peerAPIVersion + "/limits"
	runPeerOps(b, "cold-start", []peerOp{
		{"peer", func(ctx context.Context) error {
			_, tr, err := peerFromFiles(s)
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
		{"peer-checked", func(ctx context.Context) error {
			_, tr, err := peerCheckedFromFiles(s)
			if err != nil {
				return err
			}
			tr.CloseIdleConnections()
			return nil
		}},
	})
}
