package transport

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// BenchmarkHotPath measures only what the Transport adds to a request with a
// cached token: the cache lookup, routing, the request copy with its header, and
// the verdict on a 200. No network is involved, so the figure is steady on a
// noisy machine; set it against a whole request in bench/.
func BenchmarkHotPath(b *testing.B) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer org.Close()
	tr, err := New(Config{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		MTLS: org.ClientIdentity(), JWT: org.JWTIdentity(), RootCAs: org.RootCAs(), MTLSPort: org.Port})
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
		tok, err := tr.tokens.Token(ctx)
		if err != nil {
			b.Fatal(err)
		}
		out, ok := tr.authorize(req, tok)
		if !ok || out.Header.Get("Authorization") == "" {
			b.Fatal("not authorized")
		}
		if sessionVerdict(resp) != sessionOK {
			b.Fatal("verdict")
		}
	}
}
