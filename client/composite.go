package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxSubrequests is the most subrequests one Composite request holds (REST
// API Developer Guide, "Composite": "up to 25 subrequests").
const maxSubrequests = 25

// CompositeRequest is the body of a Composite call (REST API Developer
// Guide, "Composite Request Body"). The whole request counts as one API call.
type CompositeRequest struct {
	// AllOrNone rolls back every subrequest when one fails; the others then
	// answer 400. Without it, subrequests that do not depend on the failed one
	// still run. It overrides the allOrNone of sObject Collections subrequests
	// when true ("allOrNone Parameters in Composite and Collections Requests").
	AllOrNone bool `json:"allOrNone"`
	// CollateSubrequests lets Salesforce bulkify unrelated subrequests, in no
	// guaranteed order (API 48.0+). It is always sent: false, the zero value,
	// processes the subrequests in order, whereas Salesforce's default when
	// the field is absent is true from 49.0.
	CollateSubrequests bool         `json:"collateSubrequests"`
	Subrequests        []Subrequest `json:"compositeRequest"`
}

// Subrequest is one request of a Composite call. URL and Body may refer to
// an earlier subrequest's answer with @{referenceId.field}, "." into JSON
// objects and [n] into arrays: @{NewAccount.id}, @{Found.records[0].Id};
// see Ref.
type Subrequest struct {
	// Method is GET, POST, PATCH, PUT or DELETE (case-sensitive).
	Method string `json:"method"`
	// URL is the resource with the API version, e.g. from SubrequestURL:
	// /services/data/v65.0/sobjects/Account.
	URL string `json:"url"`
	// ReferenceID names the answer for later references and in the response:
	// letters, digits and underscores.
	ReferenceID string `json:"referenceId"`
	// Body is marshalled to JSON; nil sends none.
	Body any `json:"body,omitempty"`
	// HTTPHeaders are extra headers such as If-Match. Accept, Authorization and
	// Content-Type are inherited from the Composite request and may not be set.
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// CompositeResponse is the answer to a Composite call: one SubResponse per
// subrequest, in the order of the subrequests.
type CompositeResponse struct {
	Subresponses []SubResponse `json:"compositeResponse"`

	// mismatch is the *AnswerMismatchError of an answer that did not match
	// the request: Err returns it first.
	mismatch error
}

// ByReference returns the answer of the subrequest with referenceID.
func (r *CompositeResponse) ByReference(referenceID string) (SubResponse, bool) {
	for _, s := range r.Subresponses {
		if s.ReferenceID == referenceID {
			return s, true
		}
	}
	return SubResponse{}, false
}

// Err returns the first failed subrequest's error, or nil when all succeeded.
// When the answer did not match the request, Err returns the
// *AnswerMismatchError that Composite returned, naming the subrequests whose
// outcome is unknown.
func (r *CompositeResponse) Err() error {
	if r.mismatch != nil {
		return r.mismatch
	}
	for _, s := range r.Subresponses {
		if err := s.Err(); err != nil {
			return err
		}
	}
	return nil
}

// SubResponse is one subrequest's answer (REST API Developer Guide,
// "Composite Subrequest Result").
type SubResponse struct {
	ReferenceID    string            `json:"referenceId"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	Body           json.RawMessage   `json:"body"`
}

// Decode unmarshals the body into v, such as a *SaveResult for a create or
// a struct for a get. A failed subrequest's body is its error array: Decode
// returns Err then.
func (s SubResponse) Decode(v any) error {
	if err := s.Err(); err != nil {
		return err
	}
	if len(bytes.TrimSpace(s.Body)) == 0 {
		return fmt.Errorf("client: composite subrequest %q answered %d with no body", s.ReferenceID, s.HTTPStatusCode)
	}
	if err := json.Unmarshal(s.Body, v); err != nil {
		return fmt.Errorf("client: composite subrequest %q: decoding the answer: %w", s.ReferenceID, err)
	}
	return nil
}

// Err returns nil for a 2xx answer, else an *APIError holding the status and
// the error array of the body.
func (s SubResponse) Err() error {
	if s.HTTPStatusCode >= 200 && s.HTTPStatusCode < 300 {
		return nil
	}
	apiErr := &APIError{Method: "composite", Path: "subrequest " + s.ReferenceID, StatusCode: s.HTTPStatusCode}
	if json.Unmarshal(s.Body, &apiErr.Errors) != nil {
		apiErr.Errors = nil
	}
	return apiErr
}

// forbiddenSubrequestHeaders are inherited from the Composite request; a
// subrequest that sets one fails the whole request with 400 ("Composite
// Subrequest": Accept, Authorization, Content-Type).
var forbiddenSubrequestHeaders = []string{"Accept", "Authorization", "Content-Type"}

// Composite sends subrequests in one call (POST /composite). It returns an
// error when the call fails as a whole (such as a malformed request, 400);
// each subrequest's outcome is in its SubResponse — check Err on each, or
// on the response. A Composite call writes: it is never resent when its
// answer is lost.
//
// The answer is checked against the request: one subresponse under each
// referenceId sent, none under another. When it does not match, Composite
// returns the response with an *AnswerMismatchError (which its Err also
// returns): the response keeps only the subresponses of subrequests answered
// exactly once, and the error's Unknown names the others, whose outcome is
// unknown. With AllOrNone, or when the answer names a subrequest never sent,
// no part of it can be trusted: every subrequest is unknown and the
// response holds none.
func (c *Client) Composite(ctx context.Context, req CompositeRequest) (*CompositeResponse, error) {
	if err := checkComposite(req); err != nil {
		return nil, err
	}
	p, err := c.dataPath(ctx, "composite")
	if err != nil {
		return nil, err
	}
	var out CompositeResponse
	if err := c.Do(ctx, http.MethodPost, p, req, &out); err != nil {
		return nil, err
	}
	if err := out.match(req); err != nil {
		return &out, err
	}
	return &out, nil
}

// match checks the answer against the request: Salesforce answers each
// subrequest once, under its referenceId (REST API Developer Guide,
// "Composite Request Body": the top-level request "includes responses for
// each subrequest"; "Composite Subrequest Result": referenceId associates
// subrequests with their results), so they are matched by referenceId,
// not by place. It puts the subresponses in the order of the request; on a
// mismatch it keeps those that can be trusted (see Composite), sets r's
// mismatch and returns it.
func (r *CompositeResponse) match(req CompositeRequest) error {
	count := make(map[string]int, len(r.Subresponses))
	for _, s := range r.Subresponses {
		count[s.ReferenceID]++
	}
	sent := make(map[string]bool, len(req.Subrequests))
	var missing, twice, extra []string
	for _, s := range req.Subrequests {
		sent[s.ReferenceID] = true
		switch count[s.ReferenceID] {
		case 0:
			missing = append(missing, s.ReferenceID)
		case 1:
		default:
			twice = append(twice, s.ReferenceID)
		}
	}
	for _, s := range r.Subresponses {
		if !sent[s.ReferenceID] && !slices.Contains(extra, s.ReferenceID) {
			extra = append(extra, s.ReferenceID)
		}
	}
	once := make([]SubResponse, 0, len(req.Subrequests))
	for _, s := range req.Subrequests {
		if count[s.ReferenceID] == 1 {
			i := slices.IndexFunc(r.Subresponses, func(a SubResponse) bool { return a.ReferenceID == s.ReferenceID })
			once = append(once, r.Subresponses[i])
		}
	}
	if len(missing)+len(twice)+len(extra) == 0 {
		r.Subresponses = once
		return nil
	}
	var reasons []string
	if len(missing) > 0 {
		reasons = append(reasons, "no answer for "+strings.Join(missing, ", "))
	}
	if len(twice) > 0 {
		reasons = append(reasons, "more than one answer for "+strings.Join(twice, ", "))
	}
	if len(extra) > 0 {
		reasons = append(reasons, fmt.Sprintf("answers for %s, never sent", quoteAll(extra)))
	}
	err := &AnswerMismatchError{Operation: "composite", Reason: strings.Join(reasons, "; ")}
	if req.AllOrNone || len(extra) > 0 {
		for _, s := range req.Subrequests {
			err.Unknown = append(err.Unknown, s.ReferenceID)
		}
		once = nil
	} else {
		for _, s := range req.Subrequests {
			if count[s.ReferenceID] != 1 {
				err.Unknown = append(err.Unknown, s.ReferenceID)
			}
		}
	}
	r.Subresponses, r.mismatch = once, err
	return err
}

// quoteAll quotes referenceIds the request did not send, up to five: they
// come from the answer, and may hold anything.
func quoteAll(ids []string) string {
	const most = 5
	q := make([]string, 0, most+1)
	for _, id := range ids[:min(len(ids), most)] {
		q = append(q, strconv.Quote(shorten(id)))
	}
	if len(ids) > most {
		q = append(q, fmt.Sprintf("and %d more", len(ids)-most))
	}
	return strings.Join(q, ", ")
}

func checkComposite(req CompositeRequest) error {
	switch n := len(req.Subrequests); {
	case n == 0:
		return invalidRequest("a Composite request needs at least one subrequest")
	case n > maxSubrequests:
		return invalidRequest("a Composite request holds up to %d subrequests, this one %d: split it, or use CreateRecords and friends for many records", maxSubrequests, n)
	}
	seen := map[string]bool{}
	for i, s := range req.Subrequests {
		switch s.Method {
		case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		default:
			return invalidRequest("subrequest %d: method %q: use GET, POST, PATCH, PUT or DELETE (upper case)", i, s.Method)
		}
		if !strings.HasPrefix(s.URL, "/services/") {
			return invalidRequest("subrequest %d: url %q: give the resource from /services/data/vXX.X on (see SubrequestURL)", i, s.URL)
		}
		if !validReferenceID(s.ReferenceID) {
			return invalidRequest("subrequest %d: referenceId %q: use letters, digits and underscores", i, s.ReferenceID)
		}
		if seen[s.ReferenceID] {
			return invalidRequest("subrequest %d: referenceId %q is used twice: each names one answer", i, s.ReferenceID)
		}
		seen[s.ReferenceID] = true
		for h := range s.HTTPHeaders {
			for _, f := range forbiddenSubrequestHeaders {
				if strings.EqualFold(h, f) {
					return invalidRequest("subrequest %d: header %s is inherited from the Composite request and may not be set", i, f)
				}
			}
		}
	}
	return nil
}

// validReferenceID: letters, digits and underscores ("Composite Subrequest
// Result": "The referenceIds must not contain anything besides letters,
// numbers, and underscores").
func validReferenceID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// Ref returns the reference to a field of an earlier subrequest's answer:
// Ref("NewAccount", "id") is "@{NewAccount.id}"; Ref("Found",
// "records[0].Id") is "@{Found.records[0].Id}".
func Ref(referenceID, path string) string { return "@{" + referenceID + "." + path + "}" }

// SubrequestURL returns /services/data/vXX.X/ followed by elems, for a
// Subrequest's URL: each element is path-escaped, except @{…} references,
// which are kept as written so Salesforce can resolve them.
//
//	u, _ := c.SubrequestURL(ctx, "sobjects", "Contact", client.Ref("NewContact", "id"))
func (c *Client) SubrequestURL(ctx context.Context, elems ...string) (string, error) {
	v, err := c.APIVersion(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("/services/data/v" + v)
	for _, e := range elems {
		b.WriteByte('/')
		for e != "" {
			i := strings.Index(e, "@{")
			if i < 0 {
				b.WriteString(url.PathEscape(e))
				break
			}
			j := strings.IndexByte(e[i:], '}')
			if j < 0 {
				return "", invalidRequest("SubrequestURL: %q opens a reference with @{ but does not close it", e)
			}
			b.WriteString(url.PathEscape(e[:i]))
			b.WriteString(e[i : i+j+1])
			e = e[i+j+1:]
		}
	}
	return b.String(), nil
}
