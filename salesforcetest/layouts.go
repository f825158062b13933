package salesforcetest

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// masterRecordTypeID is the id of the Master record type every object has
// when it declares none ("RecordType" in the Object Reference; sObject
// Describe's recordTypeInfos lists it as master).
const masterRecordTypeID = "012000000000000AAA"

// recordTypeInfos is sObject Describe's recordTypeInfos (REST API Developer
// Guide, "sObject Describe"; DescribeSObjectResult.recordTypeInfos in the
// SOAP API Developer Guide): the Master record type, available and the
// default, with its layout's URL.
func recordTypeInfos(v, object string) []map[string]any {
	return []map[string]any{{
		"active": true, "available": true, "defaultRecordTypeMapping": true, "developerName": "Master",
		"master": true, "name": "Master", "recordTypeId": masterRecordTypeID,
		"urls": map[string]string{"layout": layoutURL(v, object, masterRecordTypeID)},
	}}
}

func layoutURL(v, object, recordTypeID string) string {
	return "/services/data/v" + v + "/sobjects/" + object + "/describe/layouts/" + recordTypeID
}

// handleLayouts serves /sobjects/X/describe/layouts[/recordTypeId] (REST API
// Developer Guide, "Get Layouts and Descriptions for a Specified Object" and
// "… for an Object With Multiple Record Types"): the object's one layout,
// every field in one section, its related lists from the child
// relationships; the record type mapping of Master. Another record type id
// answers 404 NOT_FOUND.
func (o *Org) handleLayouts(w http.ResponseWriter, r *http.Request, v, obj string, rest []string) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	if len(rest) > 1 || len(rest) == 1 && rest[0] != masterRecordTypeID && rest[0] != masterRecordTypeID[:15] {
		writeAPIError(w, notFound())
		return
	}
	if o.notModified(w, r) {
		return
	}
	var layout map[string]any
	o.data.Read(func(rd *data.Reader) { layout = describeLayout(rd, obj) })
	if len(rest) == 1 {
		writeJSON(w, http.StatusOK, layout)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"layouts": []any{layout},
		"recordTypeMappings": []map[string]any{{
			"available": true, "defaultRecordTypeMapping": true, "layoutId": layout["id"], "master": true,
			"name": "Master", "recordTypeId": masterRecordTypeID, "picklistsForRecordType": []any{},
			"urls": map[string]string{"layout": layoutURL(v, obj, masterRecordTypeID)},
		}},
		"recordTypeSelectorRequired": []bool{false},
	})
}

// describeLayout is a DescribeLayout (SOAP API Developer Guide,
// "DescribeLayout"): two columns of fields, editable as describe says.
func describeLayout(rd *data.Reader, obj string) map[string]any {
	so, _ := rd.Object(obj)
	id := "00h" + so.KeyPrefix + "000000000AAA"
	var detail, edit []map[string]any
	for i := 0; i < len(so.Fields); i += 2 {
		var items, editItems []map[string]any
		for j := i; j < min(i+2, len(so.Fields)); j++ {
			f := so.Fields[j]
			item := map[string]any{
				"label": f.Label, "required": f.Required, "placeholder": false,
				"editableForNew": data.Createable(&f), "editableForUpdate": data.Updateable(&f),
				"layoutComponents": []map[string]any{{"type": "Field", "value": f.Name, "displayLines": 1, "tabOrder": j + 1}},
			}
			items = append(items, item)
			if data.Createable(&f) || data.Updateable(&f) {
				editItems = append(editItems, item)
			}
		}
		detail = append(detail, map[string]any{"layoutItems": items, "numItems": len(items)})
		if len(editItems) > 0 {
			edit = append(edit, map[string]any{"layoutItems": editItems, "numItems": len(editItems)})
		}
	}
	section := func(rows []map[string]any) []map[string]any {
		if rows == nil {
			rows = []map[string]any{}
		}
		return []map[string]any{{
			"heading": so.Label + " Information", "columns": 2, "rows": len(rows), "layoutRows": rows,
			"parentLayoutId": id, "tabOrder": "LeftToRight", "useCollapsibleSection": false, "useHeading": true,
			"collapsed": false,
		}}
	}
	related := []map[string]any{}
	for _, c := range rd.Children(so) {
		related = append(related, map[string]any{
			"name": c.Name, "sobject": c.Object, "field": c.Field, "label": c.Name, "custom": strings.HasSuffix(c.Name, "__r"),
			"limitRows": 5, "columns": []any{}, "buttons": []any{}, "sort": []any{},
		})
	}
	return map[string]any{
		"id": id, "buttonLayoutSection": map[string]any{"detailButtons": []any{}},
		"detailLayoutSections": section(detail), "editLayoutSections": section(edit),
		"feedView": nil, "highlightsPanelLayoutSection": nil, "multirowEditLayoutSections": []any{},
		"offlineLinks": []any{}, "quickActionList": map[string]any{"quickActionListItems": []any{}},
		"relatedContent": nil, "relatedLists": related, "saveOptions": []any{},
	}
}

// schemaClock holds when the org's metadata last changed, to the second
// (HTTP dates carry no finer part), for If-Modified-Since.
type schemaClock struct{ unix atomic.Int64 }

func (c *schemaClock) touch(now time.Time) { c.unix.Store(now.Unix()) }

// notModified answers 304 Not Modified, with no body, when the request's
// If-Modified-Since is at or after the last change of the org's metadata
// (REST API Developer Guide, "sObject Describe", "Describe Global" and "Get a
// List of Objects If Metadata Has Changed"; the header's format is
// "EEE, dd MMM yyyy HH:mm:ss z"). A date that does not parse is ignored, as
// HTTP says of an invalid If-Modified-Since.
func (o *Org) notModified(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("If-Modified-Since")
	if h == "" {
		return false
	}
	since, ok := parseHTTPDate(h)
	if !ok {
		return false
	}
	if o.schemaChanged.unix.Load() > since.Unix() {
		return false
	}
	w.WriteHeader(http.StatusNotModified)
	return true
}

// rfc822Zones are the zone names RFC 822 defines, which Go's parser reads
// as offset 0 unless the machine's own zone uses them; the guide's example
// of the header is in MST.
var rfc822Zones = map[string]int{
	"UT": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}

// parseHTTPDate reads "EEE, dd MMM yyyy HH:mm:ss z" with a zone name or a
// numeric offset.
func parseHTTPDate(h string) (time.Time, bool) {
	h = strings.TrimSpace(h)
	if t, err := time.Parse(time.RFC1123Z, h); err == nil {
		return t, true
	}
	t, err := time.Parse(time.RFC1123, h)
	if err != nil {
		return time.Time{}, false
	}
	name, _ := t.Zone()
	if off, known := rfc822Zones[strings.ToUpper(name)]; known {
		wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
		return wall.Add(-time.Duration(off) * time.Hour), true
	}
	return t, true
}
