// Package client is a Salesforce REST client over the mutual TLS, JWT bearer
// transport: query with lazy pagination, sObject create/get/update/upsert/delete,
// describe, limits, and raw calls for Apex REST and anything else.
//
// Every call takes a context. Errors from Salesforce are *APIError with its
// errorCode, message and fields.
package client

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/transport"
)

// Client calls Salesforce's REST API through the mutual TLS, JWT bearer
// transport it owns. It is safe for concurrent use.
type Client struct {
	http    *http.Client
	tr      *transport.Transport
	version string
	maxBody int64

	mu       sync.Mutex
	resolved string // the version in use once known
}

// New checks cfg and returns a Client with its own transport. Every problem
// of cfg comes back at once, before anything is built: each a *ConfigError
// (matching ErrConfig) naming its field, joined. New fetches nothing: the
// first call logs in.
func New(cfg Config) (*Client, error) {
	// Each field is checked once: transport.New checks its share before it
	// builds anything; when the client's own fields are wrong, nothing is
	// built and the transport's share is only checked, for a complete answer.
	if own := cfg.checkOwn(); own != nil {
		return nil, errors.Join(cfg.transport().Validate(), own)
	}
	tr, err := transport.New(cfg.transport())
	if err != nil {
		return nil, err
	}
	return &Client{http: tr.Client(), tr: tr, version: strings.TrimPrefix(cfg.APIVersion, "v"),
		maxBody: cmp.Or(cfg.MaxResponseBytes, defaultMaxResponseBytes)}, nil
}

// Close closes the idle connections of the Client's transport. It is safe to
// call more than once, and on a nil *Client.
func (c *Client) Close() error {
	if c != nil && c.tr != nil {
		c.tr.CloseIdleConnections()
	}
	return nil
}

// Transport returns the Client's transport: its Stats, identities to rotate
// (SetMTLSIdentity, SetJWTIdentity), and the round tripper for calls that
// HTTPClient makes.
func (c *Client) Transport() *transport.Transport { return c.tr }

// Token returns the current access token, fetching one if needed.
func (c *Client) Token(ctx context.Context) (*auth.Token, error) { return c.tr.Token(ctx) }

// InstanceURL returns the base URL API paths are resolved against:
// https://acme.my.salesforce.com:8443.
func (c *Client) InstanceURL(ctx context.Context) (*url.URL, error) { return c.tr.InstanceURL(ctx) }

// Stats returns the transport's counters.
func (c *Client) Stats() transport.Stats { return c.tr.Stats() }

// HTTPClient returns the underlying client, for calls this package does not cover.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Version is one entry of /services/data/.
type Version struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Versions lists the API versions the org serves.
func (c *Client) Versions(ctx context.Context) ([]Version, error) {
	var vs []Version
	if err := c.Do(ctx, http.MethodGet, "/services/data/", nil, &vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// APIVersion returns the version in use: the configured one, or the newest the org lists.
func (c *Client) APIVersion(ctx context.Context) (string, error) {
	if c.version != "" {
		return c.version, nil
	}
	c.mu.Lock()
	v := c.resolved
	c.mu.Unlock()
	if v != "" {
		return v, nil
	}
	vs, err := c.Versions(ctx)
	if err != nil {
		return "", err
	}
	if len(vs) == 0 {
		return "", errors.New("client: the org lists no API versions")
	}
	newest := slices.MaxFunc(vs, func(a, b Version) int {
		x, _ := strconv.ParseFloat(a.Version, 64)
		y, _ := strconv.ParseFloat(b.Version, 64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	c.mu.Lock()
	c.resolved = newest.Version
	c.mu.Unlock()
	return newest.Version, nil
}

// dataPath returns /services/data/vNN.N followed by the elements, each escaped.
func (c *Client) dataPath(ctx context.Context, elems ...string) (string, error) {
	v, err := c.APIVersion(ctx)
	if err != nil {
		return "", err
	}
	p := "/services/data/v" + v
	for _, e := range elems {
		p += "/" + url.PathEscape(e)
	}
	return p, nil
}

// drain reads what is left of resp's body, no further than limit, so that an
// HTTP/1.1 connection serves the next call. Over HTTP/2 it reads nothing:
// closing the body ends the stream alone (reset when the answer is still
// coming), the connection serves the next call all the same, and the answer
// need not be copied. A short answer of known length is read through a
// buffer of its size: io.Discard's pooled 8 KiB buffer would otherwise be
// allocated by a process's first calls.
func drain(resp *http.Response, limit int64) {
	if resp.Body == http.NoBody || resp.ProtoMajor >= 2 {
		return
	}
	r := io.LimitReader(resp.Body, limit)
	if n := resp.ContentLength; n >= 0 && n < 4096 {
		buf := make([]byte, n+1) // one more byte, to meet EOF
		// A body arrives in a few reads; a slower one goes on below.
		for range 16 {
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 1 << 20

// Do sends method to path (absolute, such as /services/apexrest/MyService, with
// any query) on the instance. A non-nil body is sent as JSON; a non-nil out
// receives the JSON answer. A status of 300 or more is an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		// Drained for the connection's reuse (HTTP/1.1), but no further than
		// the bound: an answer that never ends must not hold the call.
		drain(resp, c.maxBody)
		return nil
	}
	bounded := &boundedReader{r: resp.Body, left: c.maxBody, limit: c.maxBody, method: method, path: stripQuery(path)}
	if err := json.NewDecoder(bounded).Decode(out); err != nil {
		var tooLarge *ResponseTooLargeError
		if errors.As(err, &tooLarge) {
			return tooLarge
		}
		return fmt.Errorf("client: %s %s: decoding the answer: %w", method, stripQuery(path), err)
	}
	return nil
}

// boundedReader fails, rather than truncates, past its limit.
type boundedReader struct {
	r            io.Reader
	left, limit  int64
	method, path string
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells an answer of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, &ResponseTooLargeError{Method: b.method, Path: b.path, Limit: b.limit}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// rawJSON is a request body encoded already: send passes it on as it is.
type rawJSON []byte

// send performs a call and turns error statuses into *APIError.
func (c *Client) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	base, err := c.tr.InstanceURL(ctx)
	if err != nil {
		return nil, err
	}
	target, err := requestURL(base, path)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if raw, ok := body.(rawJSON); ok {
		rd = bytes.NewReader(raw) // encoded already (sObject Collections' chunks)
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("client: encoding the request body: %w", err)
		}
		rd = bytes.NewReader(b) // replayable after a session refresh
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("client: bad path %q: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		apiErr := &APIError{Method: method, Path: stripQuery(path), StatusCode: resp.StatusCode}
		if json.Unmarshal(raw, &apiErr.Errors) != nil {
			apiErr.Errors = nil
		}
		return nil, apiErr
	}
	return resp, nil
}

// requestURL returns path on the instance. A plain absolute path (no dot
// segments, no fragment), which resolving against base would leave as it is,
// is appended to base as it is: parsing and resolving it would cost three
// URL values for the string NewRequest parses once more.
func requestURL(base *url.URL, path string) (string, error) {
	if plainAbsolute(path) {
		return base.Scheme + "://" + base.Host + path, nil
	}
	ref, err := url.Parse(path)
	if err != nil {
		return "", fmt.Errorf("client: bad path %q: %w", path, err)
	}
	return base.ResolveReference(ref).String(), nil
}

// plainAbsolute reports a path that starts with one slash and has no "." or
// ".." segment and no fragment.
func plainAbsolute(path string) bool {
	if len(path) == 0 || path[0] != '/' || len(path) > 1 && path[1] == '/' || strings.IndexByte(path, '#') >= 0 {
		return false
	}
	p, _, _ := strings.Cut(path, "?")
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func stripQuery(path string) string {
	p, _, _ := strings.Cut(path, "?")
	return p
}
