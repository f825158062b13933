package salesforcetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxBatchSubrequests: "Composite Batch": "up to 25 subrequests in a single
// request".
const maxBatchSubrequests = 25

type batchRequest struct {
	BatchRequests []batchSub `json:"batchRequests"`
	HaltOnError   bool       `json:"haltOnError"`
}

type batchSub struct {
	Method    string          `json:"method"`
	URL       string          `json:"url"`
	RichInput json.RawMessage `json:"richInput"`
}

type batchResult struct {
	StatusCode int `json:"statusCode"`
	Result     any `json:"result"`
}

// handleBatch serves POST /composite/batch (REST API Developer Guide,
// "Composite Batch", "Batch Request Body", "Batch Response Body"): up to 25
// independent subrequests run in order, each committing on its own ("If a
// subrequest fails, commits made by previous subrequests aren't rolled
// back") and counting against the API allocation ("Each subrequest counts
// against rate limits"; the fake counts the top-level call too); a malformed request (method, url,
// too many subrequests) answers 400 before any runs. With haltOnError, after
// a subrequest answers 4xx or 5xx the rest answer 412 BATCH_PROCESSING_HALTED;
// the top level answers 200 with hasErrors.
func (o *Org) handleBatch(w http.ResponseWriter, r *http.Request, v string) {
	var req batchRequest
	if err := readJSON(r.Body, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	targets, err := checkBatch(req, v)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	results := make([]batchResult, len(req.BatchRequests))
	hasErrors, halted := false, false
	for i, sub := range req.BatchRequests {
		if halted {
			// The message is not documented; the code and status are.
			results[i] = batchResult{StatusCode: http.StatusPreconditionFailed, Result: []restError{{
				ErrorCode: "BATCH_PROCESSING_HALTED", Message: "Batch processing halted per request: an earlier subrequest failed"}}}
			continue
		}
		results[i] = o.runBatchSub(r, sub, targets[i])
		if results[i].StatusCode >= 400 {
			hasErrors = true
			halted = req.HaltOnError
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"hasErrors": hasErrors, "results": results})
}

// checkBatch parses each subrequest's url ("v68.0/sobjects/…", with or
// without a leading /services/data/) into its path and query. "The API
// version of the resource accessed in each subrequest must be 34.0 or later
// and no later than the Batch request's version" ("Composite Batch").
func checkBatch(req batchRequest, v string) ([]*url.URL, *APIError) {
	if len(req.BatchRequests) == 0 {
		return nil, apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "batchRequests: give at least one subrequest")
	}
	if len(req.BatchRequests) > maxBatchSubrequests {
		// The Guide gives the limit, not the error; the fake answers 400 with
		// the usual array.
		return nil, apiErr(http.StatusBadRequest, "INVALID_BATCH_REQUEST",
			fmt.Sprintf("A batch can contain at most %d subrequests; this one has %d", maxBatchSubrequests, len(req.BatchRequests)))
	}
	out := make([]*url.URL, len(req.BatchRequests))
	for i, s := range req.BatchRequests {
		if !slices.Contains([]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, strings.ToUpper(s.Method)) {
			return nil, apiErr(http.StatusBadRequest, "INVALID_BATCH_REQUEST", fmt.Sprintf("subrequest %d: method %q is not one of GET, POST, PUT, PATCH, DELETE", i, s.Method))
		}
		p := strings.TrimPrefix(strings.TrimPrefix(s.URL, "/"), "services/data/")
		u, err := url.Parse("/services/data/" + p)
		version, _, _ := strings.Cut(p, "/")
		m := versionPattern.FindStringSubmatch(version)
		if err != nil || m == nil {
			return nil, apiErr(http.StatusBadRequest, "INVALID_BATCH_REQUEST", fmt.Sprintf("subrequest %d: url %q must start with the version, such as v68.0/", i, s.URL))
		}
		if n, _ := strconv.Atoi(m[1]); n < 34 || !versionAtLeast(v, n) {
			return nil, apiErr(http.StatusBadRequest, "INVALID_BATCH_REQUEST",
				fmt.Sprintf("subrequest %d: version %s.0 is not between 34.0 and the batch's %s", i, m[1], v))
		}
		out[i] = u
	}
	return out, nil
}

// runBatchSub serves one subrequest through the org's own routes, with the
// top-level request's session. Composite resources do not nest.
func (o *Org) runBatchSub(top *http.Request, sub batchSub, u *url.URL) batchResult {
	segs, ok := pathSegments(strings.TrimPrefix(u.EscapedPath(), "/services/data"))
	if !ok || len(segs) < 2 || segs[1] == "composite" {
		return batchResult{StatusCode: http.StatusNotFound, Result: []restError{{ErrorCode: "NOT_FOUND", Message: "The requested resource does not exist"}}}
	}
	if err := o.limits.charge(); err != nil {
		return batchResult{StatusCode: err.StatusCode, Result: []restError{{ErrorCode: err.ErrorCode, Message: err.Message}}}
	}
	var body *bytes.Reader
	if len(sub.RichInput) > 0 && string(sub.RichInput) != "null" {
		body = bytes.NewReader(sub.RichInput)
	} else {
		body = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(top.Context(), strings.ToUpper(sub.Method), u.String(), body)
	if err != nil {
		return batchResult{StatusCode: http.StatusBadRequest, Result: []restError{{ErrorCode: "INVALID_BATCH_REQUEST", Message: "the subrequest could not be built"}}}
	}
	req.Header.Set("Authorization", top.Header.Get("Authorization"))
	req.Header.Set("Content-Type", "application/json")
	req.TLS, req.RemoteAddr = top.TLS, top.RemoteAddr
	rec := httptest.NewRecorder()
	o.serveVersioned(rec, req, segs)
	res := batchResult{StatusCode: rec.Code}
	if b := bytes.TrimSpace(rec.Body.Bytes()); len(b) > 0 {
		var v any
		if json.Unmarshal(b, &v) == nil {
			res.Result = v
		}
	}
	return res
}

// handleCompositeList: "Get a List of Composite Resources".
func (o *Org) handleCompositeList(w http.ResponseWriter, v string) {
	base := "/services/data/v" + v + "/composite/"
	writeJSON(w, http.StatusOK, map[string]string{
		"tree": base + "tree", "batch": base + "batch", "sobjects": base + "sobjects", "graph": base + "graph",
	})
}

// routeCompositeMore serves /composite/batch and /composite/tree/{sObject};
// it reports whether the path was one of them.
func (o *Org) routeCompositeMore(w http.ResponseWriter, r *http.Request, v string, segs []string) bool {
	switch {
	case segs[0] == "batch" && len(segs) == 1:
		if allow(w, r, http.MethodPost) {
			o.handleBatch(w, r, v)
		}
		return true
	case segs[0] == "tree" && len(segs) == 2:
		obj, known := o.object(segs[1])
		if !known {
			writeAPIError(w, notFound())
			return true
		}
		if allow(w, r, http.MethodPost) {
			o.handleTree(w, r, obj)
		}
		return true
	}
	return false
}
