package salesforcetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// restError is one element of Salesforce's REST error array.
type restError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeRESTError(w http.ResponseWriter, status int, code, message string, fields ...string) {
	writeJSON(w, status, []restError{{Message: message, ErrorCode: code, Fields: fields}})
}

func writeAPIError(w http.ResponseWriter, e *APIError) {
	writeRESTError(w, e.StatusCode, e.ErrorCode, e.Message, e.Fields...)
}

// Versions the org serves: 31.0 (the oldest Salesforce still serves) to
// APIVersion, the current release's (Winter '27, 68.0, which the REST API
// Developer Guide's examples use). Older ones are retired: 410 (REST API
// Developer Guide, "API End-of-Life Policy").
const (
	oldestVersion = 31
	newestVersion = 68
)

var versionPattern = regexp.MustCompile(`^v(\d{1,3})\.0$`)

// maxBody bounds a request body the org reads.
const maxBody = 16 << 20

func (o *Org) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/services/oauth2/token", o.handleToken)
	mux.HandleFunc("/services/oauth2/userinfo", o.handleUserinfo)
	mux.HandleFunc("/id/", o.handleIdentity)
	mux.HandleFunc("/services/data", o.handleData)
	mux.HandleFunc("/services/data/", o.handleData)
	mux.HandleFunc("/services/async/", o.handleAsync) // bulkv1.go
	mux.Handle("/services/apexrest/", o.authenticated(http.HandlerFunc(o.handleApexEcho)))
	mux.HandleFunc(controlPrefix, o.handleControl)
	mux.HandleFunc("/cometd/", o.handleCometD)
	// Everything else answers as Salesforce does for a resource it lacks:
	// the JSON error array, not Go's text/plain page.
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeAPIError(w, notFound()) })
	return mux
}

// sameResource serves a path with repeated slashes as the path with one,
// where Go's ServeMux would answer 307 to a cleaned, relative Location.
// Salesforce documents neither; what is observable is that the Salesforce
// CLI, which stores the instance URL with a trailing slash and so calls
// //services/data/..., works against real orgs (forcedotcom/sfdx-core pull
// request 1310 found such a URL that had been in use), so the org answers as
// for the resource itself rather than with a redirect.
func sameResource(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "//") {
			u := *r.URL
			u.Path = collapseSlashes(u.Path)
			if u.RawPath != "" {
				u.RawPath = collapseSlashes(u.RawPath)
			}
			r2 := new(http.Request)
			*r2 = *r
			r2.URL = &u
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

func collapseSlashes(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// authenticated checks the bearer session and the mutual authentication
// certificate, as Salesforce does on every API call, and counts the call
// against the API limits.
func (o *Org) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, ok := o.admit(w, r)
		if !ok {
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

// admit authorizes a call, then counts it against the daily allocation and
// the concurrency limit, and sets Sforce-Limit-Info (REST API Developer
// Guide, "Limit Info Header"). release ends the call.
func (o *Org) admit(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	if !o.authorize(w, r) {
		return nil, false
	}
	release, err := o.limits.acquire()
	w.Header().Set("Sforce-Limit-Info", o.limits.header())
	if err != nil {
		writeAPIError(w, err)
		return nil, false
	}
	return release, true
}

// authorize counts the request and answers 401 when its session or
// certificate is not acceptable.
func (o *Org) authorize(w http.ResponseWriter, r *http.Request) bool {
	o.apiRequests.Add(1)
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	valid := false
	if ok {
		_, valid = o.sessionFor(token)
	}
	if !valid {
		o.unauthorized.Add(1)
		writeRESTError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return false
	}
	if !o.mutualAuthOK(r) {
		o.unauthorized.Add(1)
		writeRESTError(w, http.StatusUnauthorized, codeMutualAuth, msgMutualAuth)
		return false
	}
	return true
}

// handleData serves /services/data: the versions list without a session, and
// every versioned resource behind the session, the API allocation and
// Sforce-Limit-Info.
func (o *Org) handleData(w http.ResponseWriter, r *http.Request) {
	segs, ok := pathSegments(strings.TrimPrefix(r.URL.EscapedPath(), "/services/data"))
	if !ok {
		writeAPIError(w, notFound())
		return
	}
	if len(segs) == 0 {
		if !allow(w, r, http.MethodGet) {
			return
		}
		o.handleVersions(w, r)
		return
	}
	release, admitted := o.admit(w, r)
	if !admitted {
		return
	}
	defer release()
	o.serveVersioned(w, r, segs)
}

// serveVersioned serves a request admitted for a versioned resource, segs
// starting with its vNN.0.
func (o *Org) serveVersioned(w http.ResponseWriter, r *http.Request, segs []string) {
	m := versionPattern.FindStringSubmatch(segs[0])
	if m == nil {
		writeAPIError(w, notFound())
		return
	}
	n, _ := strconv.Atoi(m[1])
	switch {
	case n < oldestVersion:
		// The Guide gives the status (410) but not the body; the fake sends
		// the usual error array with the code named after the status.
		writeRESTError(w, http.StatusGone, "GONE", fmt.Sprintf("API version %d.0 is retired; use %d.0 to %d.0", n, oldestVersion, newestVersion))
		return
	case n > newestVersion:
		writeAPIError(w, notFound())
		return
	}
	o.route(w, r, fmt.Sprintf("%d.0", n), segs[1:])
}

// versionAtLeast reports whether the API version v ("37.0") is major or later.
func versionAtLeast(v string, major int) bool {
	n, err := strconv.Atoi(strings.TrimSuffix(v, ".0"))
	return err == nil && n >= major
}

// pathSegments splits an escaped path into unescaped segments, dropping one
// trailing slash, as Salesforce treats /limits and /limits/ alike.
func pathSegments(p string) ([]string, bool) {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil, true
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		u, err := url.PathUnescape(s)
		if err != nil || u == "" {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

// allow answers 405 METHOD_NOT_ALLOWED unless r's method is one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) || (r.Method == http.MethodHead && slices.Contains(methods, http.MethodGet)) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeRESTError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", r.Method, strings.Join(methods, ",")))
	return false
}

// route dispatches a versioned resource (REST API Developer Guide,
// "Resources by Version" and the pages of each resource).
func (o *Org) route(w http.ResponseWriter, r *http.Request, v string, segs []string) {
	if len(segs) == 0 {
		if allow(w, r, http.MethodGet) {
			o.handleResources(w, r, v)
		}
		return
	}
	switch segs[0] {
	case "limits":
		if len(segs) == 1 && allow(w, r, http.MethodGet) {
			o.handleLimits(w)
			return
		}
	case "query", "queryAll":
		all := segs[0] == "queryAll"
		switch {
		case len(segs) == 1 && allow(w, r, http.MethodGet):
			o.handleQuery(w, r, v, all)
			return
		case len(segs) == 2 && allow(w, r, http.MethodGet):
			o.handleQueryMore(w, r, v, segs[1])
			return
		case len(segs) <= 2:
			return // allow answered 405
		}
	case "search":
		if len(segs) == 1 && allow(w, r, http.MethodGet) {
			o.handleSearch(w, r, v)
			return
		}
	case "parameterizedSearch":
		if len(segs) == 1 && versionAtLeast(v, 36) && allow(w, r, http.MethodGet, http.MethodPost) {
			o.handleParameterizedSearch(w, r, v) // search_parameterized.go
			return
		}
		if len(segs) == 1 && versionAtLeast(v, 36) {
			return // allow answered 405
		}
	case "sobjects":
		o.routeSObjects(w, r, v, segs[1:])
		return
	case "jobs":
		o.routeBulk(w, r, v, segs[1:])
		return
	case "composite":
		o.routeComposite(w, r, v, segs[1:]) // collections.go, composite.go
		return
	case "tooling":
		o.routeTooling(w, r, v, segs[1:]) // tooling.go
		return
	}
	if len(segs) == 1 && slices.Contains([]string{"limits", "search"}, segs[0]) {
		return // allow answered 405
	}
	writeAPIError(w, notFound())
}

func (o *Org) routeSObjects(w http.ResponseWriter, r *http.Request, v string, segs []string) {
	if o.routeStreamingSObjects(w, r, v, segs) {
		return
	}
	switch len(segs) {
	case 0:
		if allow(w, r, http.MethodGet) && !o.notModified(w, r) {
			o.handleDescribeGlobal(w, v)
		}
		return
	}
	obj, known := o.object(segs[0])
	if !known {
		writeAPIError(w, notFound())
		return
	}
	if len(segs) >= 3 && segs[1] == "describe" {
		if segs[2] == "layouts" {
			o.handleLayouts(w, r, v, obj, segs[3:])
		} else {
			writeAPIError(w, notFound())
		}
		return
	}
	switch len(segs) {
	case 1:
		if !allow(w, r, http.MethodGet, http.MethodPost) {
			return
		}
		if r.Method == http.MethodPost {
			o.handleCreate(w, r, v, obj)
		} else {
			o.handleBasicInfo(w, v, obj)
		}
	case 2:
		if segs[1] == "updated" || segs[1] == "deleted" {
			// "sObject Get Updated" and "sObject Get Deleted" (replication.go).
			if allow(w, r, http.MethodGet) {
				if segs[1] == "updated" {
					o.handleGetUpdated(w, r, obj)
				} else {
					o.handleGetDeleted(w, r, obj)
				}
			}
			return
		}
		if segs[1] == "describe" {
			if allow(w, r, http.MethodGet) {
				o.handleDescribe(w, r, v, obj)
			}
			return
		}
		if r.Method == http.MethodPost && strings.EqualFold(segs[1], "Id") && versionAtLeast(v, 37) {
			// "Create Records Using sObject Rows by External ID": from API 37.0
			// a POST to sobjects/{obj}/Id creates a record (Id as the external
			// id, its value null); the body may hold neither Id nor the key.
			o.handleCreate(w, r, v, obj)
			return
		}
		if !allow(w, r, http.MethodGet, http.MethodPatch, http.MethodDelete) {
			return
		}
		switch r.Method {
		case http.MethodPatch:
			o.handleUpdate(w, r, obj, segs[1])
		case http.MethodDelete:
			o.handleDelete(w, obj, segs[1])
		default:
			o.handleGet(w, r, v, obj, segs[1])
		}
	case 3:
		if !allow(w, r, http.MethodGet, http.MethodPatch, http.MethodDelete) {
			return
		}
		switch r.Method {
		case http.MethodPatch:
			o.handleUpsert(w, r, v, obj, segs[1], segs[2])
		default:
			o.handleByExternalID(w, r, v, obj, segs[1], segs[2])
		}
	default:
		writeAPIError(w, notFound())
	}
}

// object returns the canonical name of a known sObject.
func (o *Org) object(name string) (string, bool) {
	var canonical string
	o.data.Read(func(rd *data.Reader) {
		if obj, ok := rd.Object(name); ok {
			canonical = obj.Name
		}
	})
	return canonical, canonical != ""
}

// handleVersions lists the versions (REST API Developer Guide, "Versions"):
// no session is needed and the call does not count against the allocation.
func (o *Org) handleVersions(w http.ResponseWriter, _ *http.Request) {
	out := make([]map[string]string, 0, newestVersion-oldestVersion+1)
	for n := oldestVersion; n <= newestVersion; n++ {
		v := fmt.Sprintf("%d.0", n)
		out = append(out, map[string]string{"label": releaseLabel(n), "url": "/services/data/v" + v, "version": v})
	}
	writeJSON(w, http.StatusOK, out)
}

// releaseLabel names the release of API version n: three releases a year,
// Winter '15 being 32.0.
func releaseLabel(n int) string {
	season := []string{"Winter", "Spring", "Summer"}[(n-32+300)%3]
	year := 15 + (n-32+300)/3 - 100
	return fmt.Sprintf("%s '%02d", season, year)
}

// resourceNames are the resources the REST API Developer Guide's "List
// Available REST Resources" example lists for a version
// (https://developer.salesforce.com/docs/platform/api-rest/guide/dome-discoveryresource.html);
// identity is added with the session user's identity URL. Those the fake
// does not serve answer 404 NOT_FOUND, as in an org without the feature.
var resourceNames = []string{
	"tooling", "metadata", "eclair", "folders", "prechatForms", "contact-tracing", "jsonxform",
	"chatter", "payments", "tabs", "appMenu", "quickActions", "queryAll", "commerce", "wave", "iot",
	"analytics", "search", "smartdatadiscovery", "composite", "parameterizedSearch", "fingerprint",
	"theme", "nouns", "event", "serviceTemplates", "recent", "connect", "licensing", "limits",
	"process", "async-queries", "query", "match", "emailConnect", "compactLayouts",
	"knowledgeManagement", "sobjects", "actions", "support",
}

// handleResources: "Resources by Version".
func (o *Org) handleResources(w http.ResponseWriter, r *http.Request, v string) {
	base := "/services/data/v" + v
	out := map[string]string{}
	for _, name := range resourceNames {
		out[name] = base + "/" + name
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if user, ok := o.sessionFor(token); ok {
		out["identity"] = o.identityURL(user)
	}
	writeJSON(w, http.StatusOK, out)
}

// readFields decodes the JSON object a write sends, numbers as json.Number,
// or answers JSON_PARSER_ERROR.
func readFields(r *http.Request) (map[string]any, *APIError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return nil, apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "the request body could not be read or exceeds 16 MB")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil || fields == nil {
		msg := "Unexpected end of input: expected a JSON object"
		var se *json.SyntaxError
		if errors.As(err, &se) {
			msg = fmt.Sprintf("Unexpected character at offset %d: %v", se.Offset, se)
		} else if err != nil && !errors.Is(err, io.EOF) {
			msg = "the request body must be a JSON object of field names and values"
		}
		return nil, apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", msg)
	}
	if dec.More() {
		return nil, apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected content after the JSON object")
	}
	return fields, nil
}

// handleCreate: "sObject Basic Information", POST — 201 with id, success and
// errors; the record is validated first.
func (o *Org) handleCreate(w http.ResponseWriter, r *http.Request, v, obj string) {
	fields, err := readFields(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	// REST API Developer Guide, "Create a Record": an Id in the body, in
	// any case ("id" in the page's example), answers this error array,
	// without a fields list, before any other check.
	for k := range fields {
		if strings.EqualFold(k, "Id") {
			writeRESTError(w, http.StatusBadRequest, "INVALID_FIELD", "The Id field should not be specified in the sobject data.")
			return
		}
	}
	var id string
	if err := o.data.Transaction(func(t *data.Txn) *APIError {
		var e *APIError
		id, e = t.Create(obj, fields)
		return e
	}); err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
}

func (o *Org) handleGet(w http.ResponseWriter, r *http.Request, v, obj, id string) {
	var fields []string
	if f := r.URL.Query().Get("fields"); f != "" {
		fields = splitFields(f)
	}
	var out any
	var err *APIError
	o.data.Read(func(rd *data.Reader) {
		var rec *data.Record
		if rec, err = rd.Live(obj, id); err == nil {
			out, err = view(rec, fields, v)
		}
	})
	if err != nil {
		if err.ErrorCode == "ENTITY_IS_DELETED" {
			err = notFound() // a get of a deleted record is a plain 404 NOT_FOUND
		}
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (o *Org) handleUpdate(w http.ResponseWriter, r *http.Request, obj, id string) {
	fields, err := readFields(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	if err := o.data.Transaction(func(t *data.Txn) *APIError { return t.Update(obj, id, fields) }); err != nil {
		writeAPIError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (o *Org) handleDelete(w http.ResponseWriter, obj, id string) {
	if err := o.data.Transaction(func(t *data.Txn) *APIError { return t.Delete(obj, id) }); err != nil {
		writeAPIError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleUpsert: "Upsert Records Using sObject Rows by External ID".
func (o *Org) handleUpsert(w http.ResponseWriter, r *http.Request, v, obj, field, value string) {
	fields, err := readFields(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	updateOnly := r.URL.Query().Get("updateOnly") == "true"
	var res data.UpsertResult
	var matches []string
	if err := o.data.Transaction(func(t *data.Txn) *APIError {
		var e *APIError
		res, matches, e = t.Upsert(obj, field, value, fields, updateOnly)
		return e
	}); err != nil {
		if err.StatusCode == http.StatusMultipleChoices {
			writeMatches(w, v, obj, matches)
			return
		}
		writeAPIError(w, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"id": res.ID, "success": true, "errors": []any{}, "created": res.Created})
}

// writeMatches answers 300 with the URLs of the records an external id
// matches ("Status Codes and Error Responses": "The response body contains
// the list of matching records"; the Guide does not show the list's form, so
// the fake sends a JSON array of the records' URLs).
func writeMatches(w http.ResponseWriter, v, obj string, ids []string) {
	urls := make([]string, len(ids))
	for i, id := range ids {
		urls[i] = recordURL(v, obj, id)
	}
	writeJSON(w, http.StatusMultipleChoices, urls)
}

func recordURL(v, obj, id string) string {
	return fmt.Sprintf("/services/data/v%s/sobjects/%s/%s", v, obj, id)
}

// handleByExternalID: "sObject Rows by External ID", GET and DELETE.
func (o *Org) handleByExternalID(w http.ResponseWriter, r *http.Request, v, obj, field, value string) {
	var out any
	var err *APIError
	var ids []string
	o.data.Read(func(rd *data.Reader) {
		so, _ := rd.Object(obj)
		var f *Field
		if f, err = data.ExternalIDField(so, field); err != nil {
			return
		}
		matches := rd.MatchExternalID(so, f, value)
		for _, m := range matches {
			ids = append(ids, m.ID())
		}
		if len(matches) == 1 && r.Method != http.MethodDelete {
			var fields []string
			if q := r.URL.Query().Get("fields"); q != "" {
				fields = splitFields(q)
			}
			out, err = view(matches[0], fields, v)
		}
	})
	switch {
	case err != nil:
		writeAPIError(w, err)
	case len(ids) == 0:
		writeAPIError(w, notFound())
	case len(ids) > 1:
		writeMatches(w, v, obj, ids)
	case r.Method == http.MethodDelete:
		o.handleDelete(w, obj, ids[0])
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

// handleApexEcho stands for a custom Apex REST service: it echoes the method,
// path and body.
func (o *Org) handleApexEcho(w http.ResponseWriter, r *http.Request) {
	var body any
	_ = json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&body)
	writeJSON(w, http.StatusOK, map[string]any{"method": r.Method, "path": r.URL.Path, "body": body})
}

func splitFields(list string) []string {
	var out []string
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
