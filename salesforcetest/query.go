package salesforcetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// soqlSchema shows the org's schema to the SOQL engine; the reader holds
// the store's lock.
type soqlSchema struct{ r *data.Reader }

func (x soqlSchema) Object(name string) (soqlengine.Object, bool) {
	o, ok := x.r.Object(name)
	if !ok {
		return nil, false
	}
	return soqlObject{r: x.r, o: o}, true
}

// Objects lists every object of the schema: what a SOSL search without
// RETURNING covers.
func (x soqlSchema) Objects() []string { return x.r.ObjectNames() }

type soqlObject struct {
	r *data.Reader
	o *SObject
}

func (x soqlObject) Name() string { return x.o.Name }

func (x soqlObject) Field(name string) (soqlengine.Field, bool) {
	f, ok := x.o.Field(name)
	if !ok {
		return soqlengine.Field{}, false
	}
	out := soqlengine.Field{Name: f.Name, Type: f.Type, RelationshipName: f.RelationshipName}
	if len(f.ReferenceTo) > 0 {
		out.ReferenceTo = f.ReferenceTo[0]
	}
	return out, true
}

func (x soqlObject) ChildRelationship(name string) (string, string, bool) {
	for _, c := range x.r.Children(x.o) {
		if strings.EqualFold(c.Name, name) {
			return c.Object, c.Field, true
		}
	}
	return "", "", false
}

// Fields lists the object's fields in describe order, for FIELDS().
func (x soqlObject) Fields() []soqlengine.Field {
	out := make([]soqlengine.Field, 0, len(x.o.Fields))
	for _, f := range x.o.Fields {
		if sf, ok := x.Field(f.Name); ok {
			out = append(out, sf)
		}
	}
	return out
}

// NameFields are what SOSL's IN NAME FIELDS searches: Name, and the parts a
// compound name is made of.
func (x soqlObject) NameFields() []string { return data.NameFields(x.o) }

// cursor is a query's result, served page by page through nextRecordsUrl.
type cursor struct {
	records  []soqlengine.Record
	total    int
	pageSize int
}

// maxCursors bounds the open cursors; the oldest is dropped first. (Salesforce
// also limits open cursors per user and expires idle ones.)
const maxCursors = 1000

// cursors are the query handlers' own state: the results being paged
// through, by query locator. They are not data: a write does not change a
// result already computed, as a Salesforce cursor does not change either.
type cursors struct {
	mu    sync.Mutex
	byID  map[string]*cursor
	order []string // ids oldest first, for eviction
}

func newCursors() *cursors { return &cursors{byID: map[string]*cursor{}} }

// save keeps c and returns its locator.
func (cs *cursors) save(c *cursor) string {
	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	id := "01g" + hex.EncodeToString(raw)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for len(cs.order) >= maxCursors {
		delete(cs.byID, cs.order[0])
		cs.order = cs.order[1:]
	}
	cs.byID[id] = c
	cs.order = append(cs.order, id)
	return id
}

func (cs *cursors) get(id string) (*cursor, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.byID[id]
	return c, ok
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
	if wantsColumns(r) {
		o.writeColumns(w, parsed)
		return
	}
	var res *soqlengine.Result
	o.data.Read(func(rd *data.Reader) {
		res, err = soqlengine.Execute(parsed, soqlSchema{rd}, rd,
			soqlengine.Options{Now: rd.Now(), APIVersion: v, IncludeDeleted: all})
	})
	if err != nil {
		writeQueryError(w, err)
		return
	}
	c, qerr := queryCursor(res, o.pageSize(r))
	if qerr != nil {
		writeAPIError(w, qerr)
		return
	}
	locator := ""
	if len(c.records) > c.pageSize {
		locator = o.cursors.save(c)
	}
	writePage(w, v, locator, c, 0)
}

// maxAggregateRows is the most rows an aggregate query returns.
const maxAggregateRows = 2000

// queryCursor holds a result for paging. An aggregate query's rows come in
// one batch of at most 2,000 ("Considerations for GROUP BY", "GROUP BY and
// queryMore()"); with more, the filters must change. The page gives the
// rule, not the error; the fake sends the code and message Salesforce is
// reported to send.
func queryCursor(res *soqlengine.Result, pageSize int) (*cursor, *APIError) {
	c := &cursor{records: res.Records, total: res.TotalSize, pageSize: pageSize}
	if res.Aggregate {
		if len(res.Records) > maxAggregateRows {
			return nil, apiErr(http.StatusBadRequest, "EXCEEDED_ID_LIMIT",
				"Aggregate query does not support queryMore(), use LIMIT to restrict the results to a single batch")
		}
		c.pageSize = maxAggregateRows
	}
	return c, nil
}

// handleQueryMore serves a nextRecordsUrl: /query/{locator}-{offset}.
func (o *Org) handleQueryMore(w http.ResponseWriter, _ *http.Request, v, locator string) {
	id, offsetText, found := strings.Cut(locator, "-")
	offset, err := strconv.Atoi(offsetText)
	c, known := o.cursors.get(id)
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
	o.runSearch(w, v, q)
}

// runSearch runs a SOSL statement and answers searchRecords.
func (o *Org) runSearch(w http.ResponseWriter, v, q string) {
	parsed, err := soqlengine.ParseSearch(q)
	if err != nil {
		writeQueryError(w, err)
		return
	}
	var recs []soqlengine.Record
	o.data.Read(func(rd *data.Reader) {
		recs, err = soqlengine.ExecuteSearch(parsed, soqlSchema{rd}, rd,
			soqlengine.Options{Now: rd.Now(), APIVersion: v})
	})
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
	for _, c := range x.r.Children(x.o) {
		if strings.EqualFold(c.Name, name) {
			return c.Name
		}
	}
	return name
}
