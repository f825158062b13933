package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// SaveResult is Salesforce's answer to a create or upsert.
type SaveResult struct {
	ID      string      `json:"id"`
	Success bool        `json:"success"`
	Errors  []RESTError `json:"errors"`
	Created bool        `json:"created"` // upsert: true when a record was inserted
}

// Create inserts a record of type sobject and returns its id. fields is any
// value that marshals to a JSON object.
func (c *Client) Create(ctx context.Context, sobject string, fields any) (string, error) {
	p, err := c.dataPath(ctx, "sobjects", sobject)
	if err != nil {
		return "", err
	}
	var res SaveResult
	if err := c.Do(ctx, http.MethodPost, p, fields, &res); err != nil {
		return "", err
	}
	return res.ID, nil
}

// Get reads a record into out; fields limits the fields returned (nil: all).
func (c *Client) Get(ctx context.Context, sobject, id string, fields []string, out any) error {
	p, err := c.dataPath(ctx, "sobjects", sobject, id)
	if err != nil {
		return err
	}
	if len(fields) > 0 {
		p += "?fields=" + url.QueryEscape(strings.Join(fields, ","))
	}
	return c.Do(ctx, http.MethodGet, p, nil, out)
}

// Update changes the given fields of a record.
func (c *Client) Update(ctx context.Context, sobject, id string, fields any) error {
	p, err := c.dataPath(ctx, "sobjects", sobject, id)
	if err != nil {
		return err
	}
	return c.Do(ctx, http.MethodPatch, p, fields, nil)
}

// Upsert inserts or updates the record whose externalIDField equals externalID.
func (c *Client) Upsert(ctx context.Context, sobject, externalIDField, externalID string, fields any) (*SaveResult, error) {
	p, err := c.dataPath(ctx, "sobjects", sobject, externalIDField, externalID)
	if err != nil {
		return nil, err
	}
	var res SaveResult
	if err := c.Do(ctx, http.MethodPatch, p, fields, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Delete deletes a record.
func (c *Client) Delete(ctx context.Context, sobject, id string) error {
	p, err := c.dataPath(ctx, "sobjects", sobject, id)
	if err != nil {
		return err
	}
	return c.Do(ctx, http.MethodDelete, p, nil, nil)
}

// DescribeResult is the part of an sObject describe most callers need; Raw
// holds the whole answer.
type DescribeResult struct {
	Name       string          `json:"name"`
	Label      string          `json:"label"`
	Queryable  bool            `json:"queryable"`
	Createable bool            `json:"createable"`
	Fields     []DescribeField `json:"fields"`
	Raw        json.RawMessage `json:"-"`
}

// DescribeField describes one field.
type DescribeField struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Label string `json:"label"`
}

// Describe returns the metadata of an sObject type.
func (c *Client) Describe(ctx context.Context, sobject string) (*DescribeResult, error) {
	p, err := c.dataPath(ctx, "sobjects", sobject, "describe")
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodGet, p, nil, &raw); err != nil {
		return nil, err
	}
	d := &DescribeResult{Raw: raw}
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, err
	}
	return d, nil
}

// Limit is one of the org's limits.
type Limit struct {
	Max       int64 `json:"Max"`
	Remaining int64 `json:"Remaining"`
}

// Limits returns the org's limits by name, such as "DailyApiRequests".
func (c *Client) Limits(ctx context.Context) (map[string]Limit, error) {
	p, err := c.dataPath(ctx, "limits")
	if err != nil {
		return nil, err
	}
	var out map[string]Limit
	if err := c.Do(ctx, http.MethodGet, p, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// queryPage is one page of a query answer.
type queryPage struct {
	TotalSize      int               `json:"totalSize"`
	Done           bool              `json:"done"`
	NextRecordsURL string            `json:"nextRecordsUrl"`
	Records        []json.RawMessage `json:"records"`
}

// Query runs a SOQL query and yields each record decoded into T, fetching the
// next page (nextRecordsUrl) only when the loop reaches it. A failure is yielded
// once as the error, and ends the sequence.
//
//	for acct, err := range client.Query[Account](ctx, c, "SELECT Id, Name FROM Account") {
//		if err != nil { return err }
//		...
//	}
func Query[T any](ctx context.Context, c *Client, soql string) iter.Seq2[T, error] {
	return queryPages[T](ctx, c, "query", soql)
}

// QueryAll is Query including deleted and archived records.
func QueryAll[T any](ctx context.Context, c *Client, soql string) iter.Seq2[T, error] {
	return queryPages[T](ctx, c, "queryAll", soql)
}

// checkPage ends pagination that would not: each nextRecordsUrl is followed
// once, and a page that is not done must hold records and name the next page,
// a path nextRecordsURL accepts. It runs before a page's records are
// yielded: a page that fails yields none.
func checkPage(page *queryPage, url string, seen map[string]bool) error {
	seen[url] = true
	if page.Done {
		return nil
	}
	switch {
	case page.NextRecordsURL == "":
		return &PaginationError{NextRecordsURL: stripQuery(url), Reason: "a page that is not done has no nextRecordsUrl"}
	case len(page.Records) == 0:
		return &PaginationError{NextRecordsURL: stripQuery(page.NextRecordsURL), Reason: "a page that is not done has no records"}
	}
	if reason := nextRecordsURL(page.NextRecordsURL); reason != "" {
		return &PaginationError{NextRecordsURL: shorten(stripQuery(page.NextRecordsURL)), Reason: reason}
	}
	switch {
	case seen[page.NextRecordsURL]:
		return &PaginationError{NextRecordsURL: stripQuery(page.NextRecordsURL), Reason: "its nextRecordsUrl was already followed"}
	}
	return nil
}

// nextRecordsURL checks a nextRecordsUrl before it is followed with the
// session's token, and returns why it is refused ("" when it is not).
// Salesforce names the next page by its path under the query or queryAll
// resource of the API version: /services/data/v65.0/query/01gD0000002HU6KIAW-2000
// (REST API Developer Guide, "Execute a SOQL Query": "nextRecordsUrl":
// "/services/data/v65.0/query/01gD0000002HU6KIAW-2000"). Anything else is
// refused: another host, another resource of the org (Apex REST, SOAP, a
// page reached through dot segments), a query, a fragment or an escape.
func nextRecordsURL(next string) string {
	if strings.ContainsAny(next, "?#%\\") {
		return "a nextRecordsUrl holds only a path, with no query, fragment or escape"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(next, "/") {
		return "a nextRecordsUrl is a path on the org, not a URL to another host"
	}
	parts := strings.Split(next, "/") // "", services, data, vNN.N, query|queryAll, locator
	if len(parts) != 6 || parts[1] != "services" || parts[2] != "data" || !apiVersion(parts[3]) ||
		(parts[4] != "query" && parts[4] != "queryAll") || !locator(parts[5]) {
		return "a nextRecordsUrl names a page of the query resource, /services/data/vXX.X/query/{locator}"
	}
	return ""
}

// apiVersion reports whether s is a version element such as v65.0.
func apiVersion(s string) bool {
	major, minor, ok := strings.Cut(strings.TrimPrefix(s, "v"), ".")
	return ok && len(s) > 1 && s[0] == 'v' && digits(major) && digits(minor)
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// locator reports whether s is a query locator with its offset, such as
// 01gD0000002HU6KIAW-2000: letters, digits, '-' and '_'.
func locator(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// shorten bounds a string that came from an answer, for an error message.
func shorten(s string) string {
	const most = 200
	if len(s) <= most {
		return s
	}
	return s[:most] + "…"
}

func queryPages[T any](ctx context.Context, c *Client, resource, soql string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		p, err := c.dataPath(ctx, resource)
		if err != nil {
			yield(zero, err)
			return
		}
		next := p + "?q=" + url.QueryEscape(soql)
		seen := map[string]bool{}
		for next != "" {
			var page queryPage
			if err := c.Do(ctx, http.MethodGet, next, nil, &page); err != nil {
				yield(zero, err)
				return
			}
			if err := checkPage(&page, next, seen); err != nil {
				yield(zero, err)
				return
			}
			for _, raw := range page.Records {
				var v T
				if err := json.Unmarshal(raw, &v); err != nil {
					yield(zero, err)
					return
				}
				if !yield(v, nil) {
					return
				}
			}
			next = ""
			if !page.Done {
				next = page.NextRecordsURL
			}
		}
	}
}
