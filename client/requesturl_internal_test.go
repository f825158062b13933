package client

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRequestURL: a path appended to the instance as it is makes the request
// URL that resolving it makes, and a path that needs resolving (dot
// segments, a fragment, a host of its own, a relative path) is resolved.
func TestRequestURL(t *testing.T) {
	base := &url.URL{Scheme: "https", Host: "acme.my.salesforce.com:8443"}
	for _, path := range []string{
		"/services/data/v63.0/limits",
		"/services/data/v63.0/query?q=SELECT+Id,Name+FROM+Account+WHERE+Name+%3D+%27a%2Fb%27",
		"/services/apexrest/a%2Fb/ü x",
		"/services/data/v63.0/sobjects/Account/001/",
		"/",
		"/a/./b", "/a/../b", "/a/..", "/a/.?x=/../", "//evil.example.com/x", "relative/path", "/a#frag", "/..a/.b./...",
	} {
		got, err := requestURL(base, path)
		require.NoError(t, err, path)
		ref, err := url.Parse(path)
		require.NoError(t, err, path)
		want := base.ResolveReference(ref).String()
		gotReq, err := http.NewRequest(http.MethodGet, got, nil)
		require.NoError(t, err, path)
		wantReq, err := http.NewRequest(http.MethodGet, want, nil)
		require.NoError(t, err, path)
		assert.Equal(t, wantReq.URL.String(), gotReq.URL.String(), path)
		assert.Equal(t, wantReq.URL.RequestURI(), gotReq.URL.RequestURI(), path)
	}
	// A bad escape fails in NewRequest (send names the path) or in resolving.
	got, err := requestURL(base, "/bad%zz")
	require.NoError(t, err)
	_, err = http.NewRequest(http.MethodGet, got, nil)
	require.Error(t, err)
	_, err = requestURL(base, "bad%zz")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `client: bad path "bad%zz"`)
}
