// Package client is a Salesforce REST client over the mutual TLS, JWT bearer
// transport: query with lazy pagination, sObject create/get/update/upsert/delete,
// describe, limits, and raw calls for Apex REST and anything else.
//
// Every call takes a context. Errors from Salesforce are *APIError with its
// errorCode, message and fields.
package client

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/transport"
)

// Config configures a Client from one place: where the org is, who logs in,
// and the two identities.
type Config struct {
	LoginURL    string // the org's My Domain URL
	Audience    string // default from LoginURL
	ConsumerKey string
	Username    string
	MTLS        *keystore.Identity // CA-signed, uploaded as Mutual Authentication Certificate
	JWT         *keystore.Identity // uploaded to the app; nil means MTLS
	RootCAs     *x509.CertPool     // nil: the system roots
	ExtraRoots  []*x509.Certificate
	// APIVersion such as "65.0"; empty means the newest the org lists.
	APIVersion string
	// MTLSPort for API calls and the token request; 0 means 8443.
	MTLSPort       int
	SessionTimeout time.Duration
	Logger         *slog.Logger
}

// Client calls Salesforce's REST API. It is safe for concurrent use.
type Client struct {
	http    *http.Client
	base    func(context.Context) (*url.URL, error)
	version string

	mu       sync.Mutex
	resolved string // the version in use once known
}

// instanceSource is what *transport.Transport offers for the base URL.
type instanceSource interface {
	InstanceURL(ctx context.Context) (*url.URL, error)
}

// New builds the mutual TLS transport from cfg and a Client on it.
func New(cfg Config) (*Client, *transport.Transport, error) {
	roots, err := transport.Roots(cfg.RootCAs, cfg.ExtraRoots...)
	if err != nil {
		return nil, nil, err
	}
	tr, err := transport.New(transport.Config{
		LoginURL: cfg.LoginURL, Audience: cfg.Audience, ConsumerKey: cfg.ConsumerKey, Username: cfg.Username,
		MTLS: cfg.MTLS, JWT: cfg.JWT, RootCAs: roots, MTLSPort: cfg.MTLSPort,
		SessionTimeout: cfg.SessionTimeout, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, nil, err
	}
	c, err := NewFromHTTPClient(tr.Client(), Options{APIVersion: cfg.APIVersion})
	return c, tr, err
}

// Options configures NewFromHTTPClient.
type Options struct {
	// BaseURL is the instance URL with its port; empty asks the http.Client's
	// Transport, which must then be a *transport.Transport.
	BaseURL string
	// APIVersion such as "65.0"; empty means the newest the org lists.
	APIVersion string
}

// NewFromHTTPClient makes a Client on an existing *http.Client, such as one
// whose Transport is a *transport.Transport.
func NewFromHTTPClient(hc *http.Client, opts Options) (*Client, error) {
	c := &Client{http: hc, version: strings.TrimPrefix(opts.APIVersion, "v")}
	switch {
	case opts.BaseURL != "":
		u, err := url.Parse(opts.BaseURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("%w: BaseURL %q is not an https URL", auth.ErrConfig, opts.BaseURL)
		}
		c.base = func(context.Context) (*url.URL, error) { return u, nil }
	default:
		src, ok := hc.Transport.(instanceSource)
		if !ok {
			return nil, fmt.Errorf("%w: give BaseURL, or an http.Client whose Transport is a *transport.Transport", auth.ErrConfig)
		}
		c.base = src.InstanceURL
	}
	if c.version != "" {
		if _, err := strconv.ParseFloat(c.version, 64); err != nil {
			return nil, fmt.Errorf("%w: APIVersion %q is not like 65.0", auth.ErrConfig, opts.APIVersion)
		}
	}
	return c, nil
}

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
		return "", errors.New("salesforce: the org lists no API versions")
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
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("salesforce: %s %s: decoding the answer: %w", method, stripQuery(path), err)
	}
	return nil
}

// send performs a call and turns error statuses into *APIError.
func (c *Client) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	base, err := c.base(ctx)
	if err != nil {
		return nil, err
	}
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("salesforce: bad path %q: %w", path, err)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("salesforce: encoding the request body: %w", err)
		}
		rd = bytes.NewReader(b) // replayable after a session refresh
	}
	req, err := http.NewRequestWithContext(ctx, method, base.ResolveReference(ref).String(), rd)
	if err != nil {
		return nil, err
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
		apiErr.Hint = hintFor(apiErr.Errors)
		return nil, apiErr
	}
	return resp, nil
}

func stripQuery(path string) string {
	p, _, _ := strings.Cut(path, "?")
	return p
}
