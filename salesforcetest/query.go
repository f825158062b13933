package salesforcetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// soqlSchema shows the org's schema to the soql package. The store's lock is held.
type soqlSchema struct{ s *schema }

func (x soqlSchema) Object(name string) (soqlengine.Object, bool) {
	o, ok := x.s.object(name)
	if !ok {
		return nil, false
	}
	return soqlObject{s: x.s, o: o}, true
}

type soqlObject struct {
	s *schema
	o *SObject
}

func (x soqlObject) Name() string { return x.o.Name }

func (x soqlObject) Field(name string) (soqlengine.Field, bool) {
	f, ok := x.o.Field(name)
	if !ok {
		return soqlengine.Field{}, false
	}
	out := soqlengine.Field{Name: f.Name, Type: soqlengine.FieldType(f.Type), RelationshipName: f.RelationshipName}
	if len(f.ReferenceTo) > 0 {
		out.ReferenceTo = f.ReferenceTo[0]
	}
	return out, true
}

func (x soqlObject) ChildRelationship(name string) (string, string, bool) {
	for _, c := range x.s.children(x.o) {
		if strings.EqualFold(c.name, name) {
			return c.object, c.field, true
		}
	}
	return "", "", false
}

// NameFields are what SOSL's IN NAME FIELDS searches: Name, and the parts a
// compound name is made of.
func (x soqlObject) NameFields() []string {
	return append([]string{"Name"}, x.o.nameFrom...)
}

// soqlData shows the records to the soql package. The store's lock is held.
type soqlData struct{ s *store }

func (d soqlData) Records(object string, includeDeleted bool) []map[string]any {
	var out []map[string]any
	for _, id := range d.s.order[strings.ToLower(object)] {
		if r, ok := d.s.records[id]; ok && (includeDeleted || !r.deleted) { // purged: gone
			out = append(out, r.fields)
		}
	}
	return out
}

func (d soqlData) Get(object, id string) (map[string]any, bool) {
	id18, ok := normalizeID(id)
	if !ok {
		return nil, false
	}
	r := d.s.records[id18]
	if r == nil || !strings.EqualFold(r.object.Name, object) {
		return nil, false
	}
	return r.fields, true
}

// cursor is a query's result, served page by page through nextRecordsUrl.
type cursor struct {
	records  []soqlengine.Record
	total    int
	pageSize int
}

// maxCursors bounds the open cursors; the oldest is dropped first. (Salesforce
// also limits open cursors per user and expires idle ones.)
const maxCursors = 1000

func (s *store) saveCursor(c *cursor) string {
	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	id := "01g" + hex.EncodeToString(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cursors) >= maxCursors {
		for k := range s.cursors {
			delete(s.cursors, k)
			break
		}
	}
	s.cursors[id] = c
	return id
}

// pageSize is the batch size: Config.PageSize (default 2000), or the
// Sforce-Query-Options batchSize the client asks for, held to 200–2000 (REST
// API Developer Guide, "Query Options Header").
func (o *Org) pageSize(r *http.Request) int {
	for _, opt := range strings.Split(r.Header.Get("Sforce-Query-Options"), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
		if !strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return min(max(n, 200), 2000)
		}
	}
	return o.defaultPageSize
}

// writeQueryError sends a soqlengine.Error as the 400 REST error array.
func writeQueryError(w http.ResponseWriter, err error) {
	var qe *soqlengine.Error
	if errors.As(err, &qe) {
		writeRESTError(w, http.StatusBadRequest, qe.Code, qe.Message)
		return
	}
	writeRESTError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "the fake org failed to run the query: "+err.Error())
}

// handleQuery: "Query" and "QueryAll" — the first page, with nextRecordsUrl
// when there are more.
func (o *Org) handleQuery(w http.ResponseWriter, r *http.Request, v string, all bool) {
	q, ok := r.URL.Query()["q"]
	if !ok || strings.TrimSpace(q[0]) == "" {
		writeRESTError(w, http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified")
		return
	}
	parsed, err := soqlengine.Parse(q[0])
	if err != nil {
		writeQueryError(w, err)
		return
	}
	o.data.mu.Lock()
	res, err := soqlengine.Execute(parsed, soqlSchema{&o.data.schema}, soqlData{o.data},
		soqlengine.Options{Now: o.data.now(), APIVersion: v, IncludeDeleted: all})
	o.data.mu.Unlock()
	if err != nil {
		writeQueryError(w, err)
		return
	}
	c := &cursor{records: res.Records, total: res.TotalSize, pageSize: o.pageSize(r)}
	locator := ""
	if len(c.records) > c.pageSize {
		locator = o.data.saveCursor(c)
	}
	writePage(w, v, locator, c, 0)
}

// handleQueryMore serves a nextRecordsUrl: /query/{locator}-{offset}.
func (o *Org) handleQueryMore(w http.ResponseWriter, _ *http.Request, v, locator string) {
	id, offsetText, found := strings.Cut(locator, "-")
	offset, err := strconv.Atoi(offsetText)
	o.data.mu.Lock()
	c, known := o.data.cursors[id]
	o.data.mu.Unlock()
	if !found || err != nil || !known || offset <= 0 || offset > len(c.records) {
		writeRESTError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	writePage(w, v, id, c, offset)
}

func writePage(w http.ResponseWriter, v, locator string, c *cursor, offset int) {
	end := min(offset+c.pageSize, len(c.records))
	records := c.records[offset:end]
	if records == nil {
		records = []soqlengine.Record{}
	}
	page := map[string]any{"totalSize": c.total, "done": end == len(c.records), "records": records}
	if end < len(c.records) {
		page["nextRecordsUrl"] = fmt.Sprintf("/services/data/v%s/query/%s-%d", v, locator, end)
	}
	writeJSON(w, http.StatusOK, page)
}

// handleSearch: "Search" — a SOSL FIND … RETURNING …, answered as searchRecords.
func (o *Org) handleSearch(w http.ResponseWriter, r *http.Request, v string) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeRESTError(w, http.StatusBadRequest, "MALFORMED_SEARCH", "No search term found. The search term must be at least 2 characters long.")
		return
	}
	parsed, err := soqlengine.ParseSearch(q)
	if err != nil {
		writeQueryError(w, err)
		return
	}
	o.data.mu.Lock()
	recs, err := soqlengine.ExecuteSearch(parsed, soqlSchema{&o.data.schema}, soqlData{o.data},
		soqlengine.Options{Now: o.data.now(), APIVersion: v})
	o.data.mu.Unlock()
	if err != nil {
		writeQueryError(w, err)
		return
	}
	if recs == nil {
		recs = []soqlengine.Record{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"searchRecords": recs})
}

// ParentRelationship resolves a parent relationship name (Account, Owner,
// Parent, Account__r) to its reference field.
func (x soqlObject) ParentRelationship(name string) (soqlengine.Field, bool) {
	for _, f := range x.o.Fields {
		if f.Type == TypeReference && strings.EqualFold(f.RelationshipName, name) {
			return x.Field(f.Name)
		}
	}
	return soqlengine.Field{}, false
}

// ChildRelationshipName gives a child relationship's canonical spelling, the
// JSON key of a subquery's records.
func (x soqlObject) ChildRelationshipName(name string) string {
	for _, c := range x.s.children(x.o) {
		if strings.EqualFold(c.name, name) {
			return c.name
		}
	}
	return name
}
