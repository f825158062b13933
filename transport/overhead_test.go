package transport_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// BenchmarkHotPath measures only what the Transport adds to a request with a
// cached token: routing, the usage cap, the cache lookup, the request copy with
// its header, and on a 200 the Sforce-Limit-Info reading, the verdict and the
// retry budget. No network is involved, so the figure is steady on a
// noisy machine; set it against a whole request in bench/.
func BenchmarkHotPath(b *testing.B) {
	org := salesforcetest.NewOrg(b, salesforcetest.Config{})
	tr, err := transport.New(configFor(org))
	if err != nil {
		b.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	ctx := context.Background()
	base, err := tr.InstanceURL(ctx)
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+"/services/data/v65.0/limits", nil)
	// Salesforce sets Sforce-Limit-Info on every REST answer; reading it is part of the path.
	resp := &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("")),
		Header: http.Header{"Sforce-Limit-Info": {"api-usage=18/5000; per-app-api-usage=17/250(appName=sfmtls)"}}}
	b.ReportAllocs()
	cpu, ok := cpuTime()
	for b.Loop() {
		out, ok := tr.HotPath(req, resp)
		if !ok || out.Header.Get("Authorization") == "" {
			b.Fatal("not authorized")
		}
	}
	// The process's CPU time per call, the garbage collector's included.
	if end, ok2 := cpuTime(); ok && ok2 {
		b.ReportMetric(float64(end-cpu)/float64(b.N), "cpu-ns/op")
	}
}

// TestHotPathAllocations holds the hot path to its allocation budget (issue
// 23): the request copy and its header map, 3 objects, with everything else
// the path reads and counts allocating nothing. Unlike time, the count does
// not depend on the load.
func TestHotPathAllocations(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	cfg := configFor(org)
	cfg.UsageCap = 0.99 // the cap's check is on the path too
	tr, err := transport.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	ctx := t.Context()
	base, err := tr.InstanceURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+"/services/data/v65.0/limits", nil)
	resp := &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("")),
		Header: http.Header{"Sforce-Limit-Info": {"api-usage=18/5000; per-app-api-usage=17/250(appName=sfmtls)"}}}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, ok := tr.HotPath(req, resp); !ok {
			t.Fatal("not authorized")
		}
	})
	if allocs > 3 {
		t.Fatalf("hot path: %.1f allocations per request, want at most 3", allocs)
	}
	t.Logf("hot path: %.1f allocations per request", allocs)
}
