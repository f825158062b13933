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
// cached token: routing, the cache lookup, the request copy with its header, and
// the verdict on a 200. No network is involved, so the figure is steady on a
// noisy machine; set it against a whole request in bench/.
func BenchmarkHotPath(b *testing.B) {
	org := salesforcetest.NewOrg(b, salesforcetest.Config{})
	tr, err := transport.New(org.TransportConfig())
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
	resp := &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(""))}
	b.ReportAllocs()
	for b.Loop() {
		out, ok := tr.HotPath(req, resp)
		if !ok || out.Header.Get("Authorization") == "" {
			b.Fatal("not authorized")
		}
	}
}
