package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Raw sends one request and returns the response with its body unread, for
// bodies that must stream, such as Bulk API 2.0's CSV uploads and results. A
// path that starts with "/" is used as is (with any query); any other path is
// relative to the versioned root, so "jobs/ingest" becomes
// /services/data/vNN.N/jobs/ingest. header is added to the request; body may
// be nil. A status of 300 or more is an *APIError (its body read and closed);
// otherwise the caller must close the response body.
//
// Raw sends the request once. When the session is rejected, the transport
// replays it only if body can be re-read (bytes.Reader, strings.Reader);
// a streaming body instead fails with *transport.SessionExpiredError, and
// Salesforce processed nothing of it.
func (c *Client) Raw(ctx context.Context, method, path string, body io.Reader, header http.Header) (*http.Response, error) {
	if !strings.HasPrefix(path, "/") {
		root, err := c.dataPath(ctx)
		if err != nil {
			return nil, err
		}
		path = root + "/" + path
	}
	base, err := c.tr.InstanceURL(ctx)
	if err != nil {
		return nil, err
	}
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("client: bad path %q: %w", stripQuery(path), err)
	}
	req, err := http.NewRequestWithContext(ctx, method, base.ResolveReference(ref).String(), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
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
