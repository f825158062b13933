package salesforcetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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

func (o *Org) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/services/oauth2/token", o.handleToken)
	api := http.NewServeMux()
	api.HandleFunc("GET /services/data/{$}", o.handleVersions)
	api.HandleFunc("GET /services/data/{version}", o.handleResources)
	api.HandleFunc("GET /services/data/{version}/{$}", o.handleResources)
	api.HandleFunc("GET /services/data/{version}/limits", o.handleLimits)
	api.HandleFunc("GET /services/data/{version}/query", o.handleQuery)
	api.HandleFunc("GET /services/data/{version}/queryAll", o.handleQuery)
	api.HandleFunc("GET /services/data/{version}/query/{locator}", o.handleQueryMore)
	api.HandleFunc("POST /services/data/{version}/sobjects/{type}", o.handleCreate)
	api.HandleFunc("GET /services/data/{version}/sobjects/{type}/describe", o.handleDescribe)
	api.HandleFunc("GET /services/data/{version}/sobjects/{type}/{id}", o.handleGet)
	api.HandleFunc("PATCH /services/data/{version}/sobjects/{type}/{id}", o.handleUpdate)
	api.HandleFunc("DELETE /services/data/{version}/sobjects/{type}/{id}", o.handleDelete)
	api.HandleFunc("PATCH /services/data/{version}/sobjects/{type}/{field}/{value}", o.handleUpsert)
	api.HandleFunc("/services/apexrest/", o.handleApexEcho)
	mux.Handle("/services/data/", o.authenticated(api))
	mux.Handle("/services/apexrest/", o.authenticated(api))
	return mux
}

// authenticated checks the bearer session and the mutual authentication
// certificate, as Salesforce does on every API call.
func (o *Org) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.apiRequests.Add(1)
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		user, valid := "", false
		if ok {
			user, valid = o.sessionFor(token)
		}
		if !valid {
			o.unauthorized.Add(1)
			writeRESTError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		if !o.mutualAuthOK(r) {
			o.unauthorized.Add(1)
			writeRESTError(w, http.StatusUnauthorized, codeMutualAuth,
				"The user "+user+" requires mutual authentication: call on port 8443 with a registered client certificate")
			return
		}
		next.ServeHTTP(w, r)
	})
}

var versions = []string{"62.0", "63.0", "64.0", APIVersion}

func (o *Org) handleVersions(w http.ResponseWriter, r *http.Request) {
	out := make([]map[string]string, len(versions))
	for i, v := range versions {
		out[i] = map[string]string{"label": "v" + v, "url": "/services/data/v" + v, "version": v}
	}
	writeJSON(w, http.StatusOK, out)
}

// version checks the path's version and returns it without the "v".
func version(w http.ResponseWriter, r *http.Request) (string, bool) {
	v := strings.TrimPrefix(r.PathValue("version"), "v")
	if !slices.Contains(versions, v) {
		writeRESTError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return "", false
	}
	return v, true
}

func (o *Org) handleResources(w http.ResponseWriter, r *http.Request) {
	v, ok := version(w, r)
	if !ok {
		return
	}
	base := "/services/data/v" + v
	writeJSON(w, http.StatusOK, map[string]string{
		"limits": base + "/limits", "query": base + "/query", "queryAll": base + "/queryAll", "sobjects": base + "/sobjects",
	})
}

func (o *Org) handleLimits(w http.ResponseWriter, r *http.Request) {
	if _, ok := version(w, r); !ok {
		return
	}
	const max = 15000
	used := o.apiRequests.Load()
	writeJSON(w, http.StatusOK, map[string]map[string]int64{
		"DailyApiRequests": {"Max": max, "Remaining": max - used},
		"DataStorageMB":    {"Max": 5, "Remaining": 5},
	})
}

// soql matches the subset the fake understands:
// SELECT f1, f2 FROM Type [WHERE Field = 'value'] [ORDER BY Field] [LIMIT n]
var soql = regexp.MustCompile(`(?is)^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)` +
	`(?:\s+WHERE\s+(\w+)\s*=\s*'([^']*)')?(?:\s+ORDER\s+BY\s+(\w+))?(?:\s+LIMIT\s+(\d+))?\s*$`)

func (o *Org) handleQuery(w http.ResponseWriter, r *http.Request) {
	v, ok := version(w, r)
	if !ok {
		return
	}
	m := soql.FindStringSubmatch(r.URL.Query().Get("q"))
	if m == nil {
		writeRESTError(w, http.StatusBadRequest, "MALFORMED_QUERY", "unexpected token: the fake org understands SELECT ... FROM ... [WHERE f = 'v'] [ORDER BY f] [LIMIT n]")
		return
	}
	fields := splitFields(m[1])
	limit := -1
	if m[6] != "" {
		limit, _ = strconv.Atoi(m[6])
	}
	all := strings.HasSuffix(r.URL.Path, "/queryAll")
	records, err := o.data.query(m[2], fields, m[3], m[4], m[5], limit, all, v)
	if err != nil {
		writeRESTError(w, http.StatusBadRequest, "INVALID_FIELD", err.Error())
		return
	}
	locator := o.data.saveCursor(records)
	o.writePage(w, v, locator, records, 0)
}

func (o *Org) handleQueryMore(w http.ResponseWriter, r *http.Request) {
	v, ok := version(w, r)
	if !ok {
		return
	}
	id, offsetText, found := strings.Cut(r.PathValue("locator"), "-")
	offset, err := strconv.Atoi(offsetText)
	records, known := o.data.cursor(id)
	if !found || err != nil || !known || offset < 0 || offset > len(records) {
		writeRESTError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	o.writePage(w, v, id, records, offset)
}

func (o *Org) writePage(w http.ResponseWriter, v, locator string, records []map[string]any, offset int) {
	end := min(offset+o.pageSize, len(records))
	page := map[string]any{"totalSize": len(records), "done": end == len(records), "records": records[offset:end]}
	if end < len(records) {
		page["nextRecordsUrl"] = fmt.Sprintf("/services/data/v%s/query/%s-%d", v, locator, end)
	}
	writeJSON(w, http.StatusOK, page)
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

func (o *Org) handleCreate(w http.ResponseWriter, r *http.Request) {
	fields, ok := fieldsBody(w, r)
	if !ok {
		return
	}
	id := o.data.create(r.PathValue("type"), fields)
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
}

// fieldsBody checks the version and decodes the JSON object a write sends.
func fieldsBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	if _, ok := version(w, r); !ok {
		return nil, false
	}
	var fields map[string]any
	if err := json.NewDecoder(r.Body).Decode(&fields); err != nil {
		writeRESTError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "the request body is not a JSON object")
		return nil, false
	}
	return fields, true
}

func (o *Org) handleGet(w http.ResponseWriter, r *http.Request) {
	v, ok := version(w, r)
	if !ok {
		return
	}
	var fields []string
	if f := r.URL.Query().Get("fields"); f != "" {
		fields = splitFields(f)
	}
	rec, found := o.data.get(r.PathValue("type"), r.PathValue("id"), fields, v)
	if !found {
		writeRESTError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (o *Org) handleUpdate(w http.ResponseWriter, r *http.Request) {
	fields, ok := fieldsBody(w, r)
	if !ok {
		return
	}
	if !o.data.update(r.PathValue("type"), r.PathValue("id"), fields) {
		writeRESTError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (o *Org) handleUpsert(w http.ResponseWriter, r *http.Request) {
	fields, ok := fieldsBody(w, r)
	if !ok {
		return
	}
	id, created := o.data.upsert(r.PathValue("type"), r.PathValue("field"), r.PathValue("value"), fields)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"id": id, "success": true, "errors": []any{}, "created": created})
}

func (o *Org) handleDelete(w http.ResponseWriter, r *http.Request) {
	if _, ok := version(w, r); !ok {
		return
	}
	if !o.data.delete(r.PathValue("type"), r.PathValue("id")) {
		writeRESTError(w, http.StatusNotFound, "ENTITY_IS_DELETED", "entity is deleted")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (o *Org) handleDescribe(w http.ResponseWriter, r *http.Request) {
	if _, ok := version(w, r); !ok {
		return
	}
	writeJSON(w, http.StatusOK, o.data.describe(r.PathValue("type")))
}

// handleApexEcho stands for a custom Apex REST service: it echoes the method,
// path and body.
func (o *Org) handleApexEcho(w http.ResponseWriter, r *http.Request) {
	var body any
	_ = json.NewDecoder(r.Body).Decode(&body)
	writeJSON(w, http.StatusOK, map[string]any{"method": r.Method, "path": r.URL.Path, "body": body})
}

// dataStore is the org's in-memory records.
type dataStore struct {
	mu      sync.Mutex
	objects map[string]map[string]*record // type → id → record
	order   map[string][]string           // type → ids in creation order
	cursors map[string][]map[string]any
	seq     int
}

type record struct {
	fields  map[string]any
	deleted bool
}

func newDataStore() *dataStore {
	return &dataStore{objects: map[string]map[string]*record{}, order: map[string][]string{}, cursors: map[string][]map[string]any{}}
}

// idPrefix gives well-known objects their real key prefix.
func idPrefix(typ string) string {
	switch strings.ToLower(typ) {
	case "account":
		return "001"
	case "contact":
		return "003"
	case "opportunity":
		return "006"
	}
	return "a00"
}

func (d *dataStore) create(typ string, fields map[string]any) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.createLocked(typ, fields)
}

func (d *dataStore) createLocked(typ string, fields map[string]any) string {
	d.seq++
	id := fmt.Sprintf("%sFAKE%08dAAA", idPrefix(typ), d.seq)
	rec := &record{fields: map[string]any{}}
	for k, v := range fields {
		rec.fields[k] = v
	}
	rec.fields["Id"] = id
	if d.objects[typ] == nil {
		d.objects[typ] = map[string]*record{}
	}
	d.objects[typ][id] = rec
	d.order[typ] = append(d.order[typ], id)
	return id
}

// Insert adds records of a type directly, for test setup, and returns their ids.
func (o *Org) Insert(typ string, records ...map[string]any) []string {
	ids := make([]string, len(records))
	for i, r := range records {
		ids[i] = o.data.create(typ, r)
	}
	return ids
}

func (d *dataStore) view(typ string, id string, rec *record, fields []string, v string) map[string]any {
	out := map[string]any{"attributes": map[string]string{"type": typ, "url": fmt.Sprintf("/services/data/v%s/sobjects/%s/%s", v, typ, id)}}
	if fields == nil {
		for k, val := range rec.fields {
			out[k] = val
		}
		return out
	}
	for _, f := range fields {
		out[f] = rec.fields[f]
	}
	return out
}

func (d *dataStore) get(typ, id string, fields []string, v string) (map[string]any, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec := d.objects[typ][id]
	if rec == nil || rec.deleted {
		return nil, false
	}
	return d.view(typ, id, rec, fields, v), true
}

func (d *dataStore) update(typ, id string, fields map[string]any) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec := d.objects[typ][id]
	if rec == nil || rec.deleted {
		return false
	}
	for k, v := range fields {
		if k != "Id" {
			rec.fields[k] = v
		}
	}
	return true
}

func (d *dataStore) upsert(typ, field, value string, fields map[string]any) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range d.order[typ] {
		rec := d.objects[typ][id]
		if !rec.deleted && fmt.Sprint(rec.fields[field]) == value {
			for k, v := range fields {
				rec.fields[k] = v
			}
			return id, false
		}
	}
	withKey := map[string]any{field: value}
	for k, v := range fields {
		withKey[k] = v
	}
	return d.createLocked(typ, withKey), true
}

func (d *dataStore) delete(typ, id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec := d.objects[typ][id]
	if rec == nil || rec.deleted {
		return false
	}
	rec.deleted = true
	return true
}

func (d *dataStore) query(typ string, fields []string, whereField, whereValue, orderBy string, limit int, all bool, v string) ([]map[string]any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*record
	var ids []string
	for _, id := range d.order[typ] {
		rec := d.objects[typ][id]
		if rec.deleted && !all {
			continue
		}
		if whereField != "" && fmt.Sprint(rec.fields[whereField]) != whereValue {
			continue
		}
		out = append(out, rec)
		ids = append(ids, id)
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	if orderBy != "" {
		slices.SortStableFunc(idx, func(a, b int) int {
			return strings.Compare(fmt.Sprint(out[a].fields[orderBy]), fmt.Sprint(out[b].fields[orderBy]))
		})
	}
	if limit >= 0 && limit < len(idx) {
		idx = idx[:limit]
	}
	records := make([]map[string]any, 0, len(idx))
	for _, i := range idx {
		records = append(records, d.view(typ, ids[i], out[i], fields, v))
	}
	return records, nil
}

func (d *dataStore) saveCursor(records []map[string]any) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	id := fmt.Sprintf("01gFAKE%08d", d.seq)
	d.cursors[id] = records
	return id
}

func (d *dataStore) cursor(id string) ([]map[string]any, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.cursors[id]
	return r, ok
}

func (d *dataStore) describe(typ string) map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[string]bool{"Id": true}
	for _, rec := range d.objects[typ] {
		for k := range rec.fields {
			seen[k] = true
		}
	}
	names := make([]string, 0, len(seen))
	for k := range seen {
		names = append(names, k)
	}
	slices.Sort(names)
	fields := make([]map[string]string, len(names))
	for i, n := range names {
		t := "string"
		if n == "Id" {
			t = "id"
		}
		fields[i] = map[string]string{"name": n, "type": t}
	}
	return map[string]any{"name": typ, "queryable": true, "createable": true, "fields": fields}
}
