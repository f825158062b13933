package salesforcetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// sObject Collections (REST API Developer Guide, "Create Records Using
// sObject Collections", "Update …", "Upsert …", "Delete …", "Retrieve
// Multiple Records with Fewer Round-Trips").
const (
	maxCollectionRecords = 200  // create, update, upsert, delete
	maxRetrieveIDs       = 2000 // POST retrieve
)

// collectionResult is one record's SaveResult, UpsertResult or DeleteResult.
// Its errors name the code statusCode, as the Guide's examples show, not the
// errorCode of the REST error array.
type collectionResult struct {
	ID      *string           `json:"id"`
	Success bool              `json:"success"`
	Errors  []collectionError `json:"errors"`
	Created *bool             `json:"created,omitempty"` // upsert only
}

type collectionError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

func failed(id string, e *APIError) collectionResult {
	r := collectionResult{Errors: []collectionError{{StatusCode: e.ErrorCode, Message: e.Message, Fields: orEmpty(e.Fields)}}}
	if id != "" {
		r.ID = &id
	}
	return r
}

// rolledBack is the result of a record that succeeded but was undone
// because another failed under allOrNone. Code and message as the Guide's
// example responses and the SOAP API's AllOrNoneHeader ("their errors fields
// indicate that they were rolled back due to other errors") give them.
func rolledBack(id string) collectionResult {
	return failed(id, &APIError{ErrorCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
		Message: "Record rolled back because not all records were valid and the request was using AllOrNone header"})
}

// readJSON reads a request body of at most maxBody bytes into v, numbers as
// json.Number, or answers JSON_PARSER_ERROR.
func readJSON(r io.Reader, v any) *APIError {
	body, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil || len(body) > maxBody {
		return apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "the request body could not be read or exceeds 16 MB")
	}
	return decodeJSON(body, v)
}

func decodeJSON(body []byte, v any) *APIError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		msg := "Unexpected end of input"
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			msg = fmt.Sprintf("Unexpected character at offset %d: %v", se.Offset, se)
		case errors.As(err, &te):
			msg = fmt.Sprintf("Cannot deserialize %s from %s at offset %d", te.Field, te.Value, te.Offset)
		}
		return apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", msg)
	}
	if dec.More() {
		return apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected content after the JSON value")
	}
	return nil
}

// collectionRequest is the body of a create, update or upsert.
type collectionRequest struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

// parseCollection checks a create/update/upsert body. A body that is not
// well formed is 400 ("If the request isn't well formed, the API returns a
// 400 Bad Request"); the Guide names no errorCode for it, so the fake uses
// JSON_PARSER_ERROR. More than 200 records: EXCEEDED_ID_LIMIT with the
// message real orgs send (not in the Guide; observed in
// sorenkrabbe/Chrome-Salesforce-inspector#134 and
// django-salesforce/django-salesforce#328).
func parseCollection(body any) (collectionRequest, *APIError) {
	var req collectionRequest
	raw, err := json.Marshal(body)
	if err != nil {
		return req, apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "the body is not JSON")
	}
	if e := decodeJSON(raw, &req); e != nil {
		return req, e
	}
	return req, checkCollection(req)
}

func checkCollection(req collectionRequest) *APIError {
	if req.Records == nil {
		return apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR", "the body needs a records list: {\"allOrNone\":false,\"records\":[…]}")
	}
	if len(req.Records) > maxCollectionRecords {
		return exceededIDLimit()
	}
	for i, rec := range req.Records {
		if _, ok := recordType(rec); !ok {
			return apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR",
				fmt.Sprintf("record %d has no attributes map with a type: each object must contain an attributes map with a value for type", i))
		}
	}
	return nil
}

func exceededIDLimit() *APIError {
	return apiErr(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
}

func recordType(rec map[string]any) (string, bool) {
	attrs, ok := rec["attributes"].(map[string]any)
	if !ok {
		return "", false
	}
	t, ok := attrs["type"].(string)
	return t, ok && t != ""
}

type collectionOp int

const (
	opCreate collectionOp = iota
	opUpdate
	opUpsert
)

// saveCollection creates, updates or upserts the records in t, each on its
// own savepoint: without allOrNone a failed record leaves the others
// committed; with it, every record is still tried (so each real error is
// reported), then all are undone and the ones that had succeeded answer
// ALL_OR_NONE_OPERATION_ROLLED_BACK. anyFailed reports a failed record.
// Records are written in the order listed and answered in that order.
func saveCollection(t *data.Txn, op collectionOp, req collectionRequest, upsertObject, externalIDField string) (results []collectionResult, anyFailed bool) {
	start := t.Savepoint()
	results = make([]collectionResult, len(req.Records))
	ok := make([]bool, len(req.Records))
	for i, rec := range req.Records {
		typ, _ := recordType(rec)
		fields := make(map[string]any, len(rec))
		idText := ""
		for k, v := range rec {
			switch {
			case k == "attributes":
			case strings.EqualFold(k, "Id") && op == opUpdate:
				idText, _ = v.(string)
			default:
				fields[k] = v
			}
		}
		sp := t.Savepoint()
		var res collectionResult
		var err *APIError
		if _, known := t.Object(typ); !known {
			// The Guide does not give this answer; the fake sends INVALID_TYPE
			// for the record, as the object-type errors of the API do.
			err = apiErr(http.StatusBadRequest, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", typ))
		}
		switch {
		case err != nil:
		case op == opCreate:
			var id string
			if id, err = t.Create(typ, fields); err == nil {
				res = collectionResult{ID: &id, Success: true, Errors: []collectionError{}}
			}
		case op == opUpdate:
			err = updateByID(t, typ, idText)
			if err == nil {
				err = t.Update(typ, idText, fields)
			}
			if err == nil {
				id, _ := data.NormalizeID(idText)
				res = collectionResult{ID: &id, Success: true, Errors: []collectionError{}}
			}
		case op == opUpsert:
			res, err = upsertRecord(t, upsertObject, typ, externalIDField, fields)
		}
		if err != nil {
			t.RollbackTo(sp)
			res = failed(idText, err)
			anyFailed = true
		}
		results[i], ok[i] = res, err == nil
	}
	if req.AllOrNone && anyFailed {
		t.RollbackTo(start)
		for i := range results {
			if ok[i] {
				id := ""
				if op == opUpdate && results[i].ID != nil {
					id = *results[i].ID
				}
				results[i] = rolledBack(id)
			}
		}
	}
	return results, anyFailed
}

// updateByID checks an update record's id: it must be given ("Each object
// must contain an id field with a valid ID value"). The code for a missing
// id is not in the Guide; the fake answers MISSING_ARGUMENT, and
// MALFORMED_ID for an id that is not 15 or 18 base-62 characters, as the
// Guide's delete example shows for a malformed id.
func updateByID(t *data.Txn, object, id string) *APIError {
	if id == "" {
		return apiErr(http.StatusBadRequest, "MISSING_ARGUMENT", "Id not specified in an update call")
	}
	if _, ok := data.NormalizeID(id); !ok {
		return apiErr(http.StatusBadRequest, "MALFORMED_ID", "malformed id "+id)
	}
	return nil
}

// upsertRecord upserts one record of a collection on externalIDField ("Upsert
// Records Using sObject Collections": only the URI's object type; records
// keyed by external id, not by record id).
func upsertRecord(t *data.Txn, object, typ, externalIDField string, fields map[string]any) (collectionResult, *APIError) {
	if !strings.EqualFold(typ, object) {
		return collectionResult{}, apiErr(http.StatusBadRequest, "INVALID_TYPE",
			fmt.Sprintf("record type %s does not match the URI's object %s: an upsert collection holds one object type", typ, object))
	}
	var key string
	var value any
	for k, v := range fields {
		if strings.EqualFold(k, externalIDField) {
			key, value = k, v
		}
	}
	if key == "" || value == nil {
		// Not in the Guide; MISSING_ARGUMENT, as for an update without an Id.
		return collectionResult{}, apiErr(http.StatusBadRequest, "MISSING_ARGUMENT", externalIDField+" not specified")
	}
	delete(fields, key)
	res, matches, err := t.Upsert(object, externalIDField, data.FormatValue(value), fields, false)
	if err != nil {
		if len(matches) > 1 {
			// One record of a collection cannot answer 300: the SOAP API's
			// StatusCode for an external id matching several records.
			err = apiErr(http.StatusBadRequest, "DUPLICATE_EXTERNAL_ID", err.Message, externalIDField)
		}
		return collectionResult{}, err
	}
	created := res.Created
	return collectionResult{ID: &res.ID, Success: true, Errors: []collectionError{}, Created: &created}, nil
}

// deleteCollection deletes ids in t ("Delete Records Using sObject
// Collections": up to 200, of any objects, answered in id order).
func deleteCollection(t *data.Txn, ids []string, allOrNone bool) (results []collectionResult, anyFailed bool) {
	start := t.Savepoint()
	results = make([]collectionResult, len(ids))
	ok := make([]bool, len(ids))
	for i, id := range ids {
		sp := t.Savepoint()
		err := deleteByID(t, id)
		if err != nil {
			t.RollbackTo(sp)
			results[i] = failed(id, err)
			anyFailed = true
			continue
		}
		id18, _ := data.NormalizeID(id)
		results[i], ok[i] = collectionResult{ID: &id18, Success: true, Errors: []collectionError{}}, true
	}
	if allOrNone && anyFailed {
		t.RollbackTo(start)
		for i := range results {
			if ok[i] {
				results[i] = rolledBack(*results[i].ID)
			}
		}
	}
	return results, anyFailed
}

// deleteByID deletes a record of any object, found by its id's key prefix.
func deleteByID(t *data.Txn, id string) *APIError {
	id18, ok := data.NormalizeID(id)
	if !ok {
		return apiErr(http.StatusBadRequest, "MALFORMED_ID", "malformed id "+id)
	}
	o, ok := t.ObjectByPrefix(id18[:3])
	if !ok {
		return apiErr(http.StatusBadRequest, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
	}
	return t.Delete(o.Name, id18)
}

// splitIDs reads the comma-separated ids of a delete or GET retrieve.
func splitIDs(list string) []string {
	var out []string
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// retrieveCollection reads records of object by id, the store's lock held
// ("Retrieve Multiple Records with Fewer Round-Trips"): a field that does
// not exist is 400 INVALID_FIELD for the whole request; an id that does not
// exist (or is deleted, or of another object) is null in its slot.
func retrieveCollection(s *data.Reader, object string, ids, fields []string, v string) ([]any, *APIError) {
	o, ok := s.Object(object)
	if !ok {
		return nil, notFound()
	}
	if len(fields) == 0 {
		// The Guide marks fields required but names no error for its absence.
		return nil, apiErr(http.StatusBadRequest, "MISSING_ARGUMENT", "fields: the list of fields to retrieve is required")
	}
	if len(ids) > maxRetrieveIDs {
		return nil, exceededIDLimit()
	}
	for _, f := range fields {
		if _, ok := o.Field(f); !ok {
			return nil, apiErr(http.StatusBadRequest, "INVALID_FIELD",
				fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.", f, o.Name), f)
		}
	}
	out := make([]any, len(ids))
	for i, id := range ids {
		r, err := s.Live(o.Name, id)
		if err != nil {
			continue // null: no such record, or deleted
		}
		view, err := view(r, fields, v)
		if err != nil {
			return nil, err
		}
		out[i] = view
	}
	return out, nil
}

// routeComposite serves /composite (Composite) and /composite/sobjects
// (sObject Collections). Each call counts once against the API allocation,
// as handleData admitted it.
func (o *Org) routeComposite(w http.ResponseWriter, r *http.Request, v string, segs []string) {
	if len(segs) == 0 {
		if allow(w, r, http.MethodGet, http.MethodPost) {
			if r.Method == http.MethodPost {
				o.handleComposite(w, r, v)
			} else {
				o.handleCompositeList(w, v)
			}
		}
		return
	}
	if o.routeCompositeMore(w, r, v, segs) { // compositebatch.go, compositetree.go
		return
	}
	if segs[0] != "sobjects" || len(segs) > 3 {
		writeAPIError(w, notFound())
		return
	}
	var methods []string
	switch len(segs) {
	case 1:
		methods = []string{http.MethodPost, http.MethodPatch, http.MethodDelete}
	case 2:
		methods = []string{http.MethodGet, http.MethodPost}
	case 3:
		methods = []string{http.MethodPatch}
	}
	if !allow(w, r, methods...) {
		return
	}
	var body any
	if r.Method == http.MethodPost || r.Method == http.MethodPatch {
		if err := readJSON(r.Body, &body); err != nil {
			writeAPIError(w, err)
			return
		}
	}
	var out subResult
	_ = o.data.Transaction(func(t *data.Txn) *APIError {
		out = o.collections(t, r.Method, v, segs[1:], r.URL.Query(), body, false)
		return nil // each record kept or undone by saveCollection itself
	})
	writeJSON(w, out.status, out.body)
}

// collections runs an sObject Collections request in t; rest is the path
// after /composite/sobjects. forceAllOrNone is a Composite request's
// allOrNone, which overrides the collection's own ("allOrNone Parameters in
// Composite and Collections Requests").
func (o *Org) collections(t *data.Txn, method, v string, rest []string, query map[string][]string, body any, forceAllOrNone bool) subResult {
	// "sObject Collections": API 42.0 and later; upsert by external id: 46.0
	// and later ("Upsert Records Using sObject Collections"). Earlier
	// versions have no such resource: 404.
	if n, _ := strconv.Atoi(strings.TrimSuffix(v, ".0")); n < 42 || (len(rest) == 2 && n < 46) {
		return errorResult(notFound())
	}
	first := func(k string) string {
		if vs := query[k]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	switch {
	case len(rest) == 0 && method == http.MethodDelete:
		ids := splitIDs(first("ids"))
		if len(ids) == 0 {
			return errorResult(apiErr(http.StatusBadRequest, "MISSING_ARGUMENT", "ids: give the ids to delete, separated by commas"))
		}
		if len(ids) > maxCollectionRecords {
			return errorResult(exceededIDLimit())
		}
		results, anyFailed := deleteCollection(t, ids, forceAllOrNone || first("allOrNone") == "true")
		return subResult{status: http.StatusOK, body: results, recordFailed: anyFailed}
	case len(rest) == 0 || len(rest) == 2:
		req, err := parseCollection(body)
		if err != nil {
			return errorResult(err)
		}
		req.AllOrNone = req.AllOrNone || forceAllOrNone
		op, object, field := opCreate, "", ""
		switch {
		case len(rest) == 2 && method == http.MethodPatch:
			so, known := t.Object(rest[0])
			if !known {
				return errorResult(notFound())
			}
			f, err := data.ExternalIDField(so, rest[1])
			if err != nil {
				return errorResult(err)
			}
			op, object, field = opUpsert, so.Name, f.Name
		case len(rest) == 0 && method == http.MethodPatch:
			op = opUpdate
		case len(rest) == 0 && method == http.MethodPost:
			op = opCreate
		default:
			return errorResult(methodNotAllowed(method))
		}
		results, anyFailed := saveCollection(t, op, req, object, field)
		return subResult{status: http.StatusOK, body: results, recordFailed: anyFailed}
	case len(rest) == 1 && (method == http.MethodGet || method == http.MethodPost):
		ids, fields := splitIDs(first("ids")), splitFields(first("fields"))
		if method == http.MethodPost {
			var req struct {
				IDs    []string `json:"ids"`
				Fields []string `json:"fields"`
			}
			raw, _ := json.Marshal(body)
			if err := decodeJSON(raw, &req); err != nil {
				return errorResult(err)
			}
			ids, fields = req.IDs, req.Fields
		}
		out, err := retrieveCollection(&t.Reader, rest[0], ids, fields, v)
		if err != nil {
			return errorResult(err)
		}
		return subResult{status: http.StatusOK, body: out}
	}
	return errorResult(methodNotAllowed(method))
}

func methodNotAllowed(method string) *APIError {
	return apiErr(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", fmt.Sprintf("HTTP Method '%s' not allowed on this resource", method))
}

// subResult is a resource's answer computed inside a transaction: what a
// handler writes, or what a Composite subrequest reports.
type subResult struct {
	status       int
	body         any
	headers      map[string]string
	recordFailed bool // a collection answered 200 with a failed record
}

func errorResult(e *APIError) subResult {
	return subResult{status: e.StatusCode, body: []restError{{Message: e.Message, ErrorCode: e.ErrorCode, Fields: e.Fields}}}
}

func (s subResult) failed() bool { return s.status >= 400 }
