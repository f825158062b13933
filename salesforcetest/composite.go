package salesforcetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// maxSubrequests is the most subrequests a Composite request holds (REST
// API Developer Guide, "Composite": "up to 25 subrequests").
const maxSubrequests = 25

// compositeRequest is the body of POST /composite ("Composite Request Body").
type compositeRequest struct {
	AllOrNone          bool           `json:"allOrNone"`
	CollateSubrequests *bool          `json:"collateSubrequests"`
	CompositeRequest   []compositeSub `json:"compositeRequest"`
}

type compositeSub struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        any               `json:"body"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
}

// subResponse is one "Composite Subrequest Result".
type subResponse struct {
	Body           any               `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    *string           `json:"referenceId"`
}

// handleComposite serves POST /composite. The whole request is one API call
// ("Composite": "the entire series of calls is counted as a single call
// toward your API limits"); handleData counted it. Subrequests run in order
// in one store transaction: collation (collateSubrequests) only changes
// Salesforce's speed and ordering, which the fake does not model.
func (o *Org) handleComposite(w http.ResponseWriter, r *http.Request, v string) {
	var req compositeRequest
	if err := readJSON(r.Body, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	if len(req.CompositeRequest) > maxSubrequests {
		// Not in the Guide: the body real orgs send, seen in
		// guardian/support-service-lambdas#766 (which does not give the
		// top-level status; the fake answers 200, as for any other
		// per-subrequest outcome).
		writeJSON(w, http.StatusOK, map[string]any{"compositeResponse": []subResponse{{
			Body:           []restError{{ErrorCode: "LIMIT_EXCEEDED", Message: "The request can’t contain more than 25 operations."}},
			HTTPStatusCode: http.StatusBadRequest, HTTPHeaders: map[string]string{},
		}}})
		return
	}
	if err := checkComposite(req); err != nil {
		writeAPIError(w, err)
		return
	}
	subs := req.CompositeRequest
	responses := make([]subResponse, len(subs))
	answers := map[string]any{}    // referenceId → the body of a subrequest that succeeded
	failedRef := map[string]bool{} // referenceIds of subrequests that failed or did not run
	halted := -1
	_ = o.data.Transaction(func(t *data.Txn) *APIError {
		for i, sub := range subs {
			sp := t.Savepoint()
			res := o.runSubrequest(t, v, sub, answers, failedRef, req.AllOrNone)
			if res.failed() || res.recordFailed && req.AllOrNone {
				t.RollbackTo(sp)
				failedRef[sub.ReferenceID] = true
			} else {
				answers[sub.ReferenceID] = jsonValue(res.body)
			}
			if res.headers == nil {
				res.headers = map[string]string{}
			}
			ref := sub.ReferenceID
			responses[i] = subResponse{Body: res.body, HTTPHeaders: res.headers, HTTPStatusCode: res.status, ReferenceID: &ref}
			if req.AllOrNone && failedRef[sub.ReferenceID] {
				halted = i
				return apiErr(http.StatusBadRequest, "PROCESSING_HALTED", "rolled back") // undoes every subrequest
			}
		}
		return nil
	})
	if halted >= 0 {
		// "If allOrNone is set to true in the composite request and a
		// subrequest returns an error, all other subrequests return the 400
		// HTTP status code" ("Composite Subrequest Result"). The body's code
		// is not documented; PROCESSING_HALTED is what real orgs send (seen in
		// django-salesforce's handling of composite answers).
		for i := range responses {
			if i == halted {
				continue
			}
			ref := subs[i].ReferenceID
			responses[i] = subResponse{ReferenceID: &ref, HTTPStatusCode: http.StatusBadRequest, HTTPHeaders: map[string]string{},
				Body: []restError{{ErrorCode: "PROCESSING_HALTED",
					Message: "The transaction was rolled back since another operation in the same transaction failed."}}}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"compositeResponse": responses})
}

// checkComposite rejects a malformed request before any subrequest runs,
// with 400 (Salesforce developer blog, "Handle Errors with Composite
// Resources": a subrequest without a referenceId fails the whole request).
// The Guide gives the status, not the errorCode; the fake uses
// JSON_PARSER_ERROR for a request it cannot read, and INVALID_INPUT for the
// rest.
func checkComposite(req compositeRequest) *APIError {
	if len(req.CompositeRequest) == 0 {
		return apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "compositeRequest: give at least one subrequest")
	}
	seen := map[string]bool{}
	for i, s := range req.CompositeRequest {
		bad := func(format string, args ...any) *APIError {
			return apiErr(http.StatusBadRequest, "INVALID_INPUT", fmt.Sprintf("subrequest %d: ", i)+fmt.Sprintf(format, args...))
		}
		// "Possible values are POST, PUT, PATCH, GET, and DELETE (case sensitive)."
		if !slices.Contains([]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, s.Method) {
			return bad("method %q is not one of POST, PUT, PATCH, GET, DELETE", s.Method)
		}
		if s.URL == "" {
			return bad("url is required")
		}
		// "The referenceIds must not contain anything besides letters, numbers, and underscores"
		if !validReferenceID(s.ReferenceID) {
			return bad("referenceId %q: use letters, numbers and underscores", s.ReferenceID)
		}
		if seen[s.ReferenceID] {
			return bad("duplicate referenceId %q", s.ReferenceID)
		}
		seen[s.ReferenceID] = true
		for h := range s.HTTPHeaders {
			// "Don't specify these headers in a subrequest. If you do, the
			// top-level request fails and returns an HTTP 400 response."
			for _, f := range []string{"Accept", "Authorization", "Content-Type"} {
				if strings.EqualFold(h, f) {
					return bad("header %s is inherited from the top-level request", f)
				}
			}
		}
	}
	return nil
}

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

// processingHalted answers a subrequest that depends on one that failed:
// "Dependent subrequests aren't executed" ("Composite Request Body"). Code
// and message are not documented; the fake uses PROCESSING_HALTED.
func processingHalted(ref string) subResult {
	return errorResult(apiErr(http.StatusBadRequest, "PROCESSING_HALTED",
		fmt.Sprintf("Invalid reference specified. %s refers to a subrequest that failed or was not executed.", ref)))
}

// runSubrequest resolves a subrequest's references and runs it in t.
func (o *Org) runSubrequest(t *data.Txn, v string, sub compositeSub, answers map[string]any, failedRef map[string]bool, allOrNone bool) subResult {
	rawURL, res, ok := resolveText(sub.URL, answers, failedRef)
	if !ok {
		return res
	}
	body, res, ok := resolveBody(sub.Body, answers, failedRef)
	if !ok {
		return res
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return errorResult(notFound())
	}
	segs, ok := pathSegments(strings.TrimPrefix(u.EscapedPath(), "/services/data"))
	if !ok || !strings.HasPrefix(u.Path, "/services/data/") || len(segs) < 2 {
		return errorResult(notFound())
	}
	m := versionPattern.FindStringSubmatch(segs[0])
	if m == nil {
		return errorResult(notFound())
	}
	if n, _ := strconv.Atoi(m[1]); n < oldestVersion || n > newestVersion {
		return errorResult(notFound())
	}
	subV := fmt.Sprintf("%s.0", m[1])
	segs = segs[1:]
	switch segs[0] {
	case "sobjects":
		return o.sobjectSub(t, sub.Method, subV, segs[1:], u.Query(), body)
	case "query", "queryAll":
		if len(segs) != 1 || sub.Method != http.MethodGet {
			return errorResult(notFound())
		}
		return o.querySub(t, subV, u.Query().Get("q"), segs[0] == "queryAll")
	case "composite":
		if len(segs) >= 2 && segs[1] == "sobjects" && len(segs) <= 4 {
			return o.collections(t, sub.Method, subV, segs[2:], u.Query(), body, allOrNone)
		}
	}
	return errorResult(notFound())
}

// sobjectSub runs the sObject resources a Composite request supports
// ("Composite": sObject resources, by id and by external id).
func (o *Org) sobjectSub(t *data.Txn, method, v string, segs []string, query url.Values, body any) subResult {
	if len(segs) == 0 || len(segs) > 3 {
		return errorResult(notFound())
	}
	so, known := t.Object(segs[0])
	if !known {
		return errorResult(notFound())
	}
	obj := so.Name
	fields := func() (map[string]any, *APIError) {
		m, ok := body.(map[string]any)
		if !ok {
			return nil, apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "the body must be a JSON object of field names and values")
		}
		return m, nil
	}
	var fieldList []string
	if f := query.Get("fields"); f != "" {
		fieldList = splitFields(f)
	}
	switch {
	case len(segs) == 1 && method == http.MethodPost:
		f, err := fields()
		if err != nil {
			return errorResult(err)
		}
		id, err := t.Create(obj, f)
		if err != nil {
			return errorResult(err)
		}
		return subResult{status: http.StatusCreated, body: map[string]any{"id": id, "success": true, "errors": []any{}},
			headers: map[string]string{"Location": recordURL(v, obj, id)}}
	case len(segs) == 2 && method == http.MethodGet:
		r, err := t.Live(obj, segs[1])
		if err != nil {
			return errorResult(notFound()) // a get of a deleted record is a plain 404 too
		}
		view, err := view(r, fieldList, v)
		if err != nil {
			return errorResult(err)
		}
		return subResult{status: http.StatusOK, body: view}
	case len(segs) == 2 && method == http.MethodPatch:
		f, err := fields()
		if err == nil {
			err = t.Update(obj, segs[1], f)
		}
		if err != nil {
			return errorResult(err)
		}
		return subResult{status: http.StatusNoContent}
	case len(segs) == 2 && method == http.MethodDelete:
		if err := t.Delete(obj, segs[1]); err != nil {
			return errorResult(err)
		}
		return subResult{status: http.StatusNoContent}
	case len(segs) == 3 && method == http.MethodPatch:
		f, err := fields()
		if err != nil {
			return errorResult(err)
		}
		res, matches, err := t.Upsert(obj, segs[1], segs[2], f, query.Get("updateOnly") == "true")
		if err != nil {
			if err.StatusCode == http.StatusMultipleChoices {
				urls := make([]string, len(matches))
				for i, id := range matches {
					urls[i] = recordURL(v, obj, id)
				}
				return subResult{status: http.StatusMultipleChoices, body: urls}
			}
			return errorResult(err)
		}
		status := http.StatusOK
		if res.Created {
			status = http.StatusCreated
		}
		return subResult{status: status, body: map[string]any{"id": res.ID, "success": true, "errors": []any{}, "created": res.Created}}
	case len(segs) == 3 && method == http.MethodGet:
		f, err := data.ExternalIDField(so, segs[1])
		if err != nil {
			return errorResult(err)
		}
		matches := t.MatchExternalID(so, f, segs[2])
		if len(matches) != 1 {
			return errorResult(notFound())
		}
		view, err := view(matches[0], fieldList, v)
		if err != nil {
			return errorResult(err)
		}
		return subResult{status: http.StatusOK, body: view}
	}
	return errorResult(methodNotAllowed(method))
}

// querySub runs a query subrequest with the store's lock held, as
// handleQuery does without it.
func (o *Org) querySub(t *data.Txn, v, q string, all bool) subResult {
	if strings.TrimSpace(q) == "" {
		return errorResult(apiErr(http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified"))
	}
	parsed, err := soqlengine.Parse(q)
	if err == nil {
		var res *soqlengine.Result
		res, err = soqlengine.Execute(parsed, soqlSchema{&t.Reader}, &t.Reader,
			soqlengine.Options{Now: t.Now(), APIVersion: v, IncludeDeleted: all})
		if err == nil {
			return o.queryPage(t, v, res)
		}
	}
	if qe, ok := err.(*soqlengine.Error); ok {
		return errorResult(apiErr(http.StatusBadRequest, qe.Code, qe.Message))
	}
	return errorResult(apiErr(http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "the fake org failed to run the query"))
}

func (o *Org) queryPage(t *data.Txn, v string, res *soqlengine.Result) subResult {
	c, qerr := queryCursor(res, o.defaultPageSize) // query.go
	if qerr != nil {
		return errorResult(qerr)
	}
	end := min(c.pageSize, len(c.records))
	records := c.records[:end]
	if records == nil {
		records = []soqlengine.Record{}
	}
	page := map[string]any{"totalSize": c.total, "done": end == len(c.records), "records": records}
	if end < len(c.records) {
		id := o.cursors.save(c)
		page["nextRecordsUrl"] = fmt.Sprintf("/services/data/v%s/query/%s-%d", v, id, end)
	}
	return subResult{status: http.StatusOK, body: page}
}

// jsonValue turns an answer into plain JSON values (maps, slices, strings,
// json.Number, bool, nil) for references to walk.
func jsonValue(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if decodeJSON(raw, &out) != nil {
		return nil
	}
	return out
}

// References: @{referenceId.path}, "." into objects and [n] into arrays
// ("Composite Request Body"). An unresolvable reference fails the subrequest
// with 400; the Guide does not give that error's code, the fake uses
// PROCESSING_HALTED.
func resolveText(s string, answers map[string]any, failedRef map[string]bool) (string, subResult, bool) {
	var b strings.Builder
	for {
		i := strings.Index(s, "@{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), subResult{}, true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String(), subResult{}, true
		}
		val, res, ok := lookupRef(s[i+2:i+j], answers, failedRef)
		if !ok {
			return "", res, false
		}
		b.WriteString(s[:i])
		b.WriteString(refText(val))
		s = s[i+j+1:]
	}
}

func resolveBody(v any, answers map[string]any, failedRef map[string]bool) (any, subResult, bool) {
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, "@{") && strings.Index(x, "}") == len(x)-1 {
			val, res, ok := lookupRef(x[2:len(x)-1], answers, failedRef)
			return val, res, ok // a whole-string reference keeps the value's type
		}
		return resolveText(x, answers, failedRef)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, res, ok := resolveBody(e, answers, failedRef)
			if !ok {
				return nil, res, false
			}
			out[k] = r
		}
		return out, subResult{}, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, res, ok := resolveBody(e, answers, failedRef)
			if !ok {
				return nil, res, false
			}
			out[i] = r
		}
		return out, subResult{}, true
	}
	return v, subResult{}, true
}

// lookupRef resolves "ref.path" against the earlier answers.
func lookupRef(expr string, answers map[string]any, failedRef map[string]bool) (any, subResult, bool) {
	ref, path := expr, ""
	if k := strings.IndexAny(expr, ".["); k >= 0 {
		ref, path = expr[:k], expr[k:]
	}
	if failedRef[ref] {
		return nil, processingHalted(ref), false
	}
	cur, known := answers[ref]
	if !known || path == "" {
		return nil, invalidReference(expr), false
	}
	for path != "" {
		switch path[0] {
		case '.':
			path = path[1:]
			k := strings.IndexAny(path, ".[")
			if k < 0 {
				k = len(path)
			}
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil, invalidReference(expr), false
			}
			if cur, ok = obj[path[:k]]; !ok {
				return nil, invalidReference(expr), false
			}
			path = path[k:]
		case '[':
			k := strings.IndexByte(path, ']')
			if k < 0 {
				return nil, invalidReference(expr), false
			}
			n, err := strconv.Atoi(path[1:k])
			arr, ok := cur.([]any)
			if err != nil || !ok || n < 0 || n >= len(arr) {
				return nil, invalidReference(expr), false
			}
			cur, path = arr[n], path[k+1:]
		default:
			return nil, invalidReference(expr), false
		}
	}
	return cur, subResult{}, true
}

func invalidReference(expr string) subResult {
	return errorResult(apiErr(http.StatusBadRequest, "PROCESSING_HALTED",
		fmt.Sprintf("Invalid reference specified. No value for %s found.", expr)))
}

func refText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}
