package salesforcetest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// routeTooling serves the Tooling API's query (Tooling API Developer Guide,
// "query" and "REST Resources": /services/data/vXX.X/tooling/query/?q=…,
// paged with nextRecordsUrl) over the Tooling objects clients query at
// start-up (data.NewToolingStore); they hold no records, as in an org with
// no Apex, so clients find the empty answers they handle. Standard objects
// such as Account are not Tooling objects: INVALID_TYPE, as Salesforce says.
// Other Tooling resources answer 404 NOT_FOUND.
func (o *Org) routeTooling(w http.ResponseWriter, r *http.Request, v string, segs []string) {
	if len(segs) == 0 || segs[0] != "query" || len(segs) > 2 {
		writeAPIError(w, notFound())
		return
	}
	if !allow(w, r, http.MethodGet) {
		return
	}
	if len(segs) == 2 {
		id, offsetText, found := strings.Cut(segs[1], "-")
		offset, err := strconv.Atoi(offsetText)
		c, known := o.cursors.get(id)
		if !found || err != nil || !known || offset <= 0 || offset > len(c.records) {
			writeRESTError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
			return
		}
		writeToolingPage(w, v, id, c, offset)
		return
	}
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeRESTError(w, http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified")
		return
	}
	parsed, err := soqlengine.Parse(q)
	if err != nil {
		writeQueryError(w, err)
		return
	}
	var res *soqlengine.Result
	o.tooling.Read(func(rd *data.Reader) {
		res, err = soqlengine.Execute(parsed, soqlSchema{rd}, rd, soqlengine.Options{Now: rd.Now(), APIVersion: v})
	})
	if err != nil {
		writeQueryError(w, err)
		return
	}
	c := &cursor{records: res.Records, total: res.TotalSize, pageSize: o.pageSize(r)}
	locator := ""
	if len(c.records) > c.pageSize {
		locator = o.cursors.save(c)
	}
	writeToolingPage(w, v, locator, c, 0)
}

func writeToolingPage(w http.ResponseWriter, v, locator string, c *cursor, offset int) {
	end := min(offset+c.pageSize, len(c.records))
	records := c.records[offset:end]
	if records == nil {
		records = []soqlengine.Record{}
	}
	page := map[string]any{"size": c.total, "totalSize": c.total, "done": end == len(c.records), "records": records,
		"queryLocator": nil, "entityTypeName": nil}
	if end < len(c.records) {
		page["nextRecordsUrl"] = fmt.Sprintf("/services/data/v%s/tooling/query/%s-%d", v, locator, end)
	}
	writeJSON(w, http.StatusOK, page)
}
