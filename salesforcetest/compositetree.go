package salesforcetest

import (
	"net/http"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// sObject Tree limits (REST API Developer Guide, "sObject Tree"): "Up to a
// total of 200 records across all trees", "Up to five records of different
// types", "sObject trees up to five levels deep".
const (
	maxTreeRecords = 200
	maxTreeTypes   = 5
	maxTreeDepth   = 5
)

// treeNode is one record of a tree request: its type, reference id, fields
// and, per child relationship, its children.
type treeNode struct {
	object, ref string
	fields      map[string]any
	children    []treeChildren
	depth       int
	id          string
}

type treeChildren struct {
	rel   data.Child
	nodes []*treeNode
}

// treeResult is one element of the sObject Tree Response Body's results.
type treeResult struct {
	ReferenceID string       `json:"referenceId"`
	ID          string       `json:"id,omitempty"`
	Errors      []treeFailed `json:"errors,omitempty"`
}

type treeFailed struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// handleTree serves POST /composite/tree/{sObject} (REST API Developer Guide,
// "sObject Tree", "sObject Tree Request Body", "sObject Tree Response Body"):
// the records of every tree are created level by level (root records across
// all trees, then second-level records, …), each child's lookup set to its
// parent's new id; all or none: the first record that fails undoes the
// request, and the answer, 400, names only it. Success answers 201 with
// every reference id and its record id. The whole request is one API call.
func (o *Org) handleTree(w http.ResponseWriter, r *http.Request, object string) {
	var body struct {
		Records []map[string]any `json:"records"`
	}
	if err := readJSON(r.Body, &body); err != nil {
		writeAPIError(w, err)
		return
	}
	var roots []*treeNode
	var levels [][]*treeNode
	var failures []treeResult
	o.data.Read(func(rd *data.Reader) {
		so, _ := rd.Object(object)
		b := treeBuilder{rd: rd, types: map[string]bool{}, refs: map[string]int{}}
		roots = b.nodes(so, body.Records, 1)
		failures, levels = b.failures, b.levels
		if len(failures) == 0 && b.count > maxTreeRecords {
			failures = []treeResult{{ReferenceID: b.overLimitRef, Errors: []treeFailed{{StatusCode: "LIMIT_EXCEEDED",
				Message: "The request can't contain more than 200 records across all trees.", Fields: []string{}}}}}
		}
		if len(failures) == 0 && len(b.types) > maxTreeTypes {
			failures = []treeResult{{ReferenceID: roots[0].ref, Errors: []treeFailed{{StatusCode: "LIMIT_EXCEEDED",
				Message: "The request can't contain records of more than five types.", Fields: []string{}}}}}
		}
		// "In the case of duplicate reference IDs, results contains one
		// item for each instance of the duplicate ID." The error's code is
		// not documented; the fake uses INVALID_INPUT.
		for _, lvl := range levels {
			for _, n := range lvl {
				if b.refs[strings.ToLower(n.ref)] > 1 {
					failures = append(failures, treeResult{ReferenceID: n.ref, Errors: []treeFailed{{StatusCode: "INVALID_INPUT",
						Message: "Duplicate ReferenceId provided in the request.", Fields: []string{}}}})
				}
			}
		}
	})
	if len(failures) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"hasErrors": true, "results": failures})
		return
	}
	var failed *treeResult
	_ = o.data.Transaction(func(t *data.Txn) *APIError {
		for _, lvl := range levels {
			for _, n := range lvl {
				id, err := t.Create(n.object, n.fields)
				if err != nil {
					fields := err.Fields
					if fields == nil {
						fields = []string{}
					}
					failed = &treeResult{ReferenceID: n.ref, Errors: []treeFailed{{StatusCode: err.ErrorCode, Message: err.Message, Fields: fields}}}
					return err // undoes every record created so far
				}
				n.id = id
				for _, c := range n.children {
					for _, child := range c.nodes {
						child.fields[c.rel.Field] = id
					}
				}
			}
		}
		return nil
	})
	if failed != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"hasErrors": true, "results": []treeResult{*failed}})
		return
	}
	results := []treeResult{}
	for _, lvl := range levels {
		for _, n := range lvl {
			results = append(results, treeResult{ReferenceID: n.ref, ID: n.id})
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"hasErrors": false, "results": results})
}

// treeBuilder reads the request's records into nodes, collecting the
// request's own errors (wrong type, no reference id, too deep, unknown
// relationship) as tree results.
type treeBuilder struct {
	rd           *data.Reader
	types        map[string]bool
	refs         map[string]int // lower-case reference id → how often it appears
	count        int
	overLimitRef string
	levels       [][]*treeNode
	failures     []treeResult
}

func (b *treeBuilder) fail(ref, code, msg string) {
	b.failures = append(b.failures, treeResult{ReferenceID: ref, Errors: []treeFailed{{StatusCode: code, Message: msg, Fields: []string{}}}})
}

func (b *treeBuilder) nodes(so *SObject, records []map[string]any, depth int) []*treeNode {
	var out []*treeNode
	for _, rec := range records {
		b.count++
		n := &treeNode{object: so.Name, depth: depth, fields: map[string]any{}}
		attrs, _ := rec["attributes"].(map[string]any)
		n.ref, _ = attrs["referenceId"].(string)
		typ, _ := attrs["type"].(string)
		if b.count == maxTreeRecords+1 {
			b.overLimitRef = n.ref
		}
		b.refs[strings.ToLower(n.ref)]++
		b.types[strings.ToLower(so.Name)] = true
		switch {
		case n.ref == "":
			b.fail("", "INVALID_INPUT", "Include a reference ID for each record in the request.")
			continue
		case !strings.EqualFold(typ, so.Name):
			b.fail(n.ref, "INVALID_INPUT", "The type of the record ("+typ+") is not "+so.Name+".")
			continue
		case depth > maxTreeDepth:
			b.fail(n.ref, "INVALID_INPUT", "sObject trees can be at most five levels deep.")
			continue
		}
		for k, v := range rec {
			if k == "attributes" {
				continue
			}
			nested, isObj := v.(map[string]any)
			if !isObj {
				n.fields[k] = v
				continue
			}
			rel, ok := b.child(so, k)
			if !ok {
				b.fail(n.ref, "INVALID_FIELD", "No such relationship '"+k+"' on sObject type "+so.Name+".")
				continue
			}
			childSO, _ := b.rd.Object(rel.Object)
			raw, _ := nested["records"].([]any)
			var recs []map[string]any
			for _, x := range raw {
				if m, ok := x.(map[string]any); ok {
					recs = append(recs, m)
				}
			}
			n.children = append(n.children, treeChildren{rel: rel, nodes: b.nodes(childSO, recs, depth+1)})
		}
		for len(b.levels) < depth {
			b.levels = append(b.levels, nil)
		}
		b.levels[depth-1] = append(b.levels[depth-1], n)
		out = append(out, n)
	}
	return out
}

func (b *treeBuilder) child(so *SObject, name string) (data.Child, bool) {
	for _, c := range b.rd.Children(so) {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return data.Child{}, false
}
