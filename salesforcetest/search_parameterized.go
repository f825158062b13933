package salesforcetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// paramSearch is a Parameterized Search request (REST API Developer Guide,
// "Search with Parameters in the URI" and "Search with Parameters in the
// Request Body", from API 36.0): the search string and the objects, fields,
// filters and limits a SOSL statement would name.
type paramSearch struct {
	Q            string              `json:"q"`
	In           string              `json:"in"`
	Fields       []string            `json:"fields"`
	SObjects     []paramSearchObject `json:"sobjects"`
	OverallLimit json.RawMessage     `json:"overallLimit"`
	DefaultLimit json.RawMessage     `json:"defaultLimit"`
}

type paramSearchObject struct {
	Name   string          `json:"name"`
	Fields []string        `json:"fields"`
	Where  string          `json:"where"`
	Limit  json.RawMessage `json:"limit"`
}

// maxSearchLimit is the largest overallLimit and defaultLimit ("Search with
// Parameters in the URI": "The maximum defaultLimit is 2000", and
// overallLimit's maximum is 2000).
const maxSearchLimit = 2000

// handleParameterizedSearch serves GET with URI parameters and POST with a
// JSON body. The request becomes the SOSL statement it stands for
// (FIND {q} IN scope FIELDS RETURNING ...), run as the Search resource runs
// SOSL; without sobjects every searchable object is searched. Knowledge,
// division, network and snippet parameters are accepted and not modelled.
func (o *Org) handleParameterizedSearch(w http.ResponseWriter, r *http.Request, v string) {
	var req paramSearch
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			writeRESTError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "the body must be a parameterized search JSON object: "+err.Error())
			return
		}
	} else {
		qv := r.URL.Query()
		req.Q, req.In = qv.Get("q"), qv.Get("in")
		req.Fields = splitFields(qv.Get("fields"))
		req.OverallLimit = rawNumber(qv.Get("overallLimit"))
		req.DefaultLimit = rawNumber(qv.Get("defaultLimit"))
		for _, name := range qv["sobject"] {
			req.SObjects = append(req.SObjects, paramSearchObject{Name: name,
				Fields: splitFields(qv.Get(name + ".fields")), Where: qv.Get(name + ".where"), Limit: rawNumber(qv.Get(name + ".limit"))})
		}
	}
	sosl, apiErr := req.sosl()
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	// A where clause is one object's condition: one that closes its
	// object's parentheses to name other objects is refused, not run.
	if parsed, err := soqlengine.ParseSearch(sosl); err == nil && len(parsed.Objects()) != len(req.SObjects) {
		writeRESTError(w, http.StatusBadRequest, "MALFORMED_SEARCH", "where must be a condition on its own object's fields")
		return
	}
	o.runSearch(w, v, sosl)
}

// rawNumber keeps a URI parameter as a JSON number for sosl to check.
func rawNumber(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(strconv.Quote(s))
}

// limit reads a limit given as a number or a numeric string.
func limit(name string, raw json.RawMessage) (int, *APIError) {
	if len(raw) == 0 || string(raw) == "null" {
		return -1, nil
	}
	var n int
	var s string
	if err := json.Unmarshal(raw, &n); err != nil {
		if json.Unmarshal(raw, &s) != nil {
			return 0, apiErr(http.StatusBadRequest, "INVALID_SEARCH", name+" must be a whole number")
		}
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			return 0, apiErr(http.StatusBadRequest, "INVALID_SEARCH", name+" must be a whole number, not "+strconv.Quote(s))
		}
	}
	if n < 0 || n > maxSearchLimit {
		return 0, apiErr(http.StatusBadRequest, "NUMBER_OUTSIDE_VALID_RANGE", fmt.Sprintf("%s must be 0 to %d, not %d", name, maxSearchLimit, n))
	}
	return n, nil
}

// sosl writes the request as a SOSL statement. q is a search string, not
// SOSL ("SOSL clauses aren't supported"): braces and backslashes in it are
// escaped so it stays one term.
func (req paramSearch) sosl() (string, *APIError) {
	if strings.TrimSpace(req.Q) == "" {
		return "", apiErr(http.StatusBadRequest, "MALFORMED_SEARCH", "No search term found. The search term must be at least 2 characters long.")
	}
	var b strings.Builder
	b.WriteString("FIND {")
	b.WriteString(strings.NewReplacer(`\`, `\\`, "{", `\{`, "}", `\}`).Replace(req.Q))
	b.WriteString("}")
	switch scope := strings.ToUpper(req.In); scope {
	case "":
	case "ALL", "NAME", "EMAIL", "PHONE":
		b.WriteString(" IN " + scope + " FIELDS")
	default:
		return "", apiErr(http.StatusBadRequest, "INVALID_SEARCH", "in must be ALL, NAME, EMAIL or PHONE in this fake org, not "+req.In)
	}
	overall, err := limit("overallLimit", req.OverallLimit)
	if err != nil {
		return "", err
	}
	def, err := limit("defaultLimit", req.DefaultLimit)
	if err != nil {
		return "", err
	}
	for i, so := range req.SObjects {
		if !soslName(so.Name) {
			return "", apiErr(http.StatusBadRequest, "INVALID_TYPE", "sobject names an object: "+strconv.Quote(so.Name))
		}
		fields := so.Fields
		if len(fields) == 0 {
			fields = req.Fields
		}
		if len(fields) == 0 {
			fields = []string{"Id"}
		}
		for _, f := range fields {
			if !soslName(f) {
				return "", apiErr(http.StatusBadRequest, "INVALID_FIELD", "fields names fields: "+strconv.Quote(f))
			}
		}
		n, err := limit(so.Name+".limit", so.Limit)
		if err != nil {
			return "", err
		}
		if n < 0 {
			n = def
		}
		if i == 0 {
			b.WriteString(" RETURNING ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(so.Name + "(" + strings.Join(fields, ", "))
		if so.Where != "" {
			b.WriteString(" WHERE " + so.Where)
		}
		if n >= 0 {
			b.WriteString(" LIMIT " + strconv.Itoa(n))
		}
		b.WriteString(")")
	}
	if overall >= 0 {
		b.WriteString(" LIMIT " + strconv.Itoa(overall))
	}
	return b.String(), nil
}

// soslName accepts an object or field name (letters, digits, _ and .).
func soslName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
