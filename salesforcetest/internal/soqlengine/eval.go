package soqlengine

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// ParentRelationships is optionally implemented by an Object to resolve a
// parent relationship name (e.g. "Account" or "Owner") to its reference
// field. Without it, the evaluator tries the standard naming conventions:
// Name+"Id" (Account -> AccountId) and X__r -> X__c.
type ParentRelationships interface {
	ParentRelationship(name string) (Field, bool)
}

// ChildRelationshipNamer is optionally implemented by an Object to give the
// canonical spelling of a child relationship ("contacts" -> "Contacts"),
// which the REST API uses as the JSON key of a subquery. Without it the key
// is the name as the query wrote it.
type ChildRelationshipNamer interface {
	ChildRelationshipName(name string) string
}

// maxParentLevels is how far a field path may climb: "Relationship Query
// Limits": "No more than five levels of parent-to-child relationship can be
// specified in a query" (and five child-to-parent levels).
const maxParentLevels = 5

// resolved is a field path checked against the schema.
type resolved struct {
	rels  []Field // reference fields climbed, in order
	field Field
	key   string // lower-case canonical path, for de-duplication
}

const (
	msgNoSuchColumn = "No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
	msgRelationship = "Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
	msgChildRel     = "Didn't understand relationship '%s' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
	msgNoSuchType   = "sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
)

type env struct {
	src    string
	schema Schema
	data   Data
	opts   Options
	loc    *time.Location
	now    time.Time
	// children caches each subquery's child rows grouped by parent Id.
	children map[*plan]map[string][]map[string]any
}

func (e *env) errAt(code string, pos int, format string, args ...any) *Error {
	return &Error{Code: code, Message: located(e.src, pos, fmt.Sprintf(format, args...))}
}

func parentRelationship(obj Object, name string) (Field, bool) {
	if pr, ok := obj.(ParentRelationships); ok {
		return pr.ParentRelationship(name)
	}
	candidates := []string{name + "Id"}
	if len(name) > 3 && strings.EqualFold(name[len(name)-3:], "__r") {
		candidates = append(candidates, name[:len(name)-3]+"__c")
	}
	for _, c := range candidates {
		if f, ok := obj.Field(c); ok && f.Type == data.TypeReference && strings.EqualFold(f.RelationshipName, name) {
			return f, true
		}
	}
	return Field{}, false
}

func (e *env) resolve(obj Object, path string, pos int) (resolved, error) {
	segs := strings.Split(path, ".")
	if len(segs) > 1 && strings.EqualFold(segs[0], obj.Name()) {
		// SELECT Account.Name FROM Account: the object's own name may qualify
		// a field when it is not also a relationship name.
		if _, ok := parentRelationship(obj, segs[0]); !ok {
			segs = segs[1:]
		}
	}
	var r resolved
	cur := obj
	var key []string
	for i, seg := range segs[:len(segs)-1] {
		if i >= maxParentLevels {
			return r, e.errAt(CodeMalformedQuery, pos, "field path '%s' climbs more than %d levels of parent relationships", path, maxParentLevels)
		}
		f, ok := parentRelationship(cur, seg)
		if !ok {
			return r, e.errAt(CodeInvalidField, pos, msgRelationship, seg)
		}
		next, ok := e.schema.Object(f.ReferenceTo)
		if !ok {
			return r, e.errAt(CodeInvalidField, pos, msgRelationship, seg)
		}
		r.rels = append(r.rels, f)
		key = append(key, strings.ToLower(f.RelationshipName))
		cur = next
	}
	last := segs[len(segs)-1]
	f, ok := cur.Field(last)
	if !ok {
		return r, e.errAt(CodeInvalidField, pos, msgNoSuchColumn, last, cur.Name())
	}
	r.field = f
	r.key = strings.Join(append(key, strings.ToLower(f.Name)), ".")
	return r, nil
}

// value reads a resolved path from a record, climbing parents through Data.
func (e *env) value(rec map[string]any, r resolved) any {
	for _, rel := range r.rels {
		id, _ := rec[rel.Name].(string)
		if id == "" {
			return nil
		}
		parent, ok := e.data.Get(rel.ReferenceTo, id)
		if !ok {
			return nil
		}
		rec = parent
	}
	return normalize(rec[r.field.Name], r.field.Type)
}

// normalize maps an empty string to null: Salesforce stores no empty strings.
func normalize(v any, _ FieldType) any {
	if s, ok := v.(string); ok && s == "" {
		return nil
	}
	return v
}

// Execute checks q against the schema (INVALID_TYPE, INVALID_FIELD,
// INVALID_QUERY_FILTER_OPERATOR) and runs it over the data.
func Execute(q *Query, s Schema, d Data, opts Options) (*Result, error) {
	e := &env{src: q.src, schema: s, data: d, opts: opts, loc: opts.Location, now: opts.Now, children: map[*plan]map[string][]map[string]any{}}
	if e.loc == nil {
		e.loc = time.UTC
	}
	if e.now.IsZero() {
		e.now = time.Now()
	}
	obj, ok := s.Object(q.object)
	if !ok {
		return nil, e.errAt(CodeInvalidType, q.objPos, msgNoSuchType, q.object)
	}
	plan, err := e.plan(q, obj)
	if err != nil {
		return nil, err
	}
	if plan.agg != nil {
		records := e.aggregate(plan, e.filter(plan, d.Records(obj.Name(), opts.IncludeDeleted)))
		return &Result{TotalSize: len(records), Records: records, Aggregate: true}, nil
	}
	rows := e.rows(plan, d.Records(obj.Name(), opts.IncludeDeleted))
	if q.countOnly {
		return &Result{TotalSize: len(rows), Count: len(rows), CountOnly: true, Records: []Record{}}, nil
	}
	out := make([]Record, 0, len(rows))
	for _, row := range rows {
		rec, err := e.record(plan, obj, row)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return &Result{TotalSize: len(out), Records: out}, nil
}

type plannedItem struct {
	item     selectItem
	res      resolved
	sub      *plan
	childRel string // for subqueries: the relationship name as written
	childFld string
}

type plan struct {
	q     *Query
	obj   Object
	items []plannedItem
	order []resolved
	where condition
	agg   *aggPlan // an aggregate query's groups and functions
}

// plan resolves every name of q against the schema.
func (e *env) plan(q *Query, obj Object) (*plan, error) {
	p := &plan{q: q, obj: obj}
	items, err := e.expandFields(q, obj)
	if err != nil {
		return nil, err
	}
	if q.where != nil {
		c, err := e.compile(obj, q.where)
		if err != nil {
			return nil, err
		}
		p.where = c
	}
	if isAggregate(q, items) {
		return p, e.planAggregate(p, items)
	}
	for i := range items {
		it := items[i]
		pi := plannedItem{item: it}
		switch it.kind {
		case itemField:
			r, err := e.resolve(obj, it.path, it.pos)
			if err != nil {
				return nil, err
			}
			pi.res = r
		case itemSubquery:
			childName, childField, ok := obj.ChildRelationship(it.sub.object)
			if !ok {
				return nil, e.errAt(CodeInvalidType, it.sub.objPos, msgChildRel, it.sub.object)
			}
			child, ok := e.schema.Object(childName)
			if !ok {
				return nil, e.errAt(CodeInvalidType, it.sub.objPos, msgChildRel, it.sub.object)
			}
			sub, err := e.plan(it.sub, child)
			if err != nil {
				return nil, err
			}
			if sub.agg != nil {
				return nil, e.errAt(CodeMalformedQuery, it.pos, "aggregate functions are not supported in a child subquery")
			}
			pi.sub, pi.childRel, pi.childFld = sub, it.sub.object, childField
			if namer, ok := obj.(ChildRelationshipNamer); ok {
				if name := namer.ChildRelationshipName(it.sub.object); name != "" {
					pi.childRel = name
				}
			}
		}
		p.items = append(p.items, pi)
	}
	for _, o := range q.orderBy {
		r, err := e.resolve(obj, o.path, o.pos)
		if err != nil {
			return nil, err
		}
		p.order = append(p.order, r)
	}
	return p, nil
}

// filter returns the records WHERE keeps (deleted ones only for queryAll).
func (e *env) filter(p *plan, all []map[string]any) []map[string]any {
	var rows []map[string]any
	for _, rec := range all {
		if deleted, _ := rec["IsDeleted"].(bool); deleted && !e.opts.IncludeDeleted {
			continue
		}
		if p.where == nil || p.where(rec) {
			rows = append(rows, rec)
		}
	}
	return rows
}

// rows filters, sorts and pages the records of one (sub)query.
func (e *env) rows(p *plan, all []map[string]any) []map[string]any {
	rows := e.filter(p, all)
	if len(p.order) > 0 {
		keys := make([][]any, len(rows))
		for i, row := range rows {
			keys[i] = make([]any, len(p.order))
			for j, r := range p.order {
				keys[i][j] = e.value(row, r)
			}
		}
		idx := make([]int, len(rows))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool {
			for j, r := range p.order {
				o := p.q.orderBy[j]
				c := e.orderCompare(keys[idx[a]][j], keys[idx[b]][j], r.field.Type, o)
				if c != 0 {
					return c < 0
				}
			}
			return false
		})
		sorted := make([]map[string]any, len(rows))
		for i, k := range idx {
			sorted[i] = rows[k]
		}
		rows = sorted
	}
	if p.q.offset > 0 {
		rows = rows[min(p.q.offset, len(rows)):]
	}
	if p.q.limit >= 0 && p.q.limit < len(rows) {
		rows = rows[:p.q.limit]
	}
	return rows
}

// orderCompare orders two values of one ORDER BY item ("ORDER BY": typed,
// case-insensitive for text, nulls first unless NULLS LAST).
func (e *env) orderCompare(a, b any, t FieldType, o orderItem) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if o.nullsFirst {
			return -1
		}
		return 1
	case b == nil:
		if o.nullsFirst {
			return 1
		}
		return -1
	}
	c, _ := e.compareValues(a, b, t)
	if o.desc {
		return -c
	}
	return c
}

// compareValues compares two non-null stored values of one field type.
func (e *env) compareValues(a, b any, t FieldType) (int, bool) {
	switch category(t) {
	case catNumber:
		x, ok1 := toFloat(a)
		y, ok2 := toFloat(b)
		if !ok1 || !ok2 {
			return 0, false
		}
		return cmpFloat(x, y), true
	case catBool:
		x, ok1 := a.(bool)
		y, ok2 := b.(bool)
		if !ok1 || !ok2 {
			return 0, false
		}
		return cmpBool(x, y), true
	case catDate, catDateTime:
		x, ok1 := e.toTime(a, t)
		y, ok2 := e.toTime(b, t)
		if !ok1 || !ok2 {
			return 0, false
		}
		return x.Compare(y), true
	case catID:
		x, _ := a.(string)
		y, _ := b.(string)
		return strings.Compare(idKey(x), idKey(y)), true
	}
	x, ok1 := a.(string)
	y, ok2 := b.(string)
	if !ok1 || !ok2 {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)), true
	}
	return strings.Compare(strings.ToUpper(x), strings.ToUpper(y)), true
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmpBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}

// idKey is the case-sensitive 15-character form of an Id: an 18-character
// Id and its 15-character prefix name the same record ("Field Types": ID).
func idKey(id string) string {
	if len(id) == 18 {
		return id[:15]
	}
	return id
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

// toTime reads a stored date ("2006-01-02", as midnight UTC: a date has no
// zone) or dateTime (Salesforce's wire format or RFC 3339).
func (e *env) toTime(v any, t FieldType) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	if category(t) == catDate {
		d, err := time.Parse("2006-01-02", s)
		return d, err == nil
	}
	return data.ParseDateTime(s)
}

type fieldCategory int

const (
	catText fieldCategory = iota
	catID
	catNumber
	catBool
	catDate
	catDateTime
)

func category(t FieldType) fieldCategory {
	switch t {
	case data.TypeID, data.TypeReference:
		return catID
	case data.TypeInt, data.TypeDouble, data.TypeCurrency, data.TypePercent:
		return catNumber
	case data.TypeBoolean:
		return catBool
	case data.TypeDate:
		return catDate
	case data.TypeDateTime:
		return catDateTime
	}
	return catText
}

// record builds the output row of one source record.
func (e *env) record(p *plan, obj Object, row map[string]any) (Record, error) {
	top := e.newRecord(obj.Name(), row)
	type node struct {
		rec *Record // nil: the parent is null
		row map[string]any
		sub map[string]*node
	}
	root := &node{rec: &top, row: row, sub: map[string]*node{}}
	seen := map[string]bool{}
	for _, it := range p.items {
		if it.sub != nil {
			if err := e.childRows(it, &top, row); err != nil {
				return Record{}, err
			}
			continue
		}
		if seen[it.res.key] {
			continue
		}
		seen[it.res.key] = true
		cur := root
		for _, rel := range it.res.rels {
			k := strings.ToLower(rel.RelationshipName)
			next, ok := cur.sub[k]
			if !ok {
				next = &node{sub: map[string]*node{}}
				var parent map[string]any
				if id, _ := cur.row[rel.Name].(string); id != "" {
					parent, _ = e.data.Get(rel.ReferenceTo, id)
				}
				if parent != nil {
					target, _ := e.schema.Object(rel.ReferenceTo)
					r := e.newRecord(target.Name(), parent)
					next.rec, next.row = &r, parent
					cur.rec.Fields = append(cur.rec.Fields, Value{Name: rel.RelationshipName, Value: next.rec})
				} else {
					cur.rec.Fields = append(cur.rec.Fields, Value{Name: rel.RelationshipName, Value: nil})
				}
				cur.sub[k] = next
			}
			cur = next
			if cur.rec == nil {
				break
			}
		}
		if cur.rec == nil {
			continue
		}
		cur.rec.Fields = append(cur.rec.Fields, Value{Name: it.res.field.Name, Value: normalize(cur.row[it.res.field.Name], it.res.field.Type)})
	}
	return top, nil
}

func (e *env) newRecord(object string, row map[string]any) Record {
	r := Record{Type: object}
	if e.opts.APIVersion != "" {
		id, _ := row["Id"].(string)
		r.URL = "/services/data/v" + e.opts.APIVersion + "/sobjects/" + object + "/" + id
	}
	return r
}

// children runs a child subquery for one parent row. A relationship without
// rows is null, as the REST API returns it.
func (e *env) childRows(it plannedItem, out *Record, parent map[string]any) error {
	parentID, _ := parent["Id"].(string)
	byParent, ok := e.children[it.sub]
	if !ok {
		// Group the child rows by parent once per query, not once per parent.
		byParent = map[string][]map[string]any{}
		for _, c := range e.data.Records(it.sub.obj.Name(), e.opts.IncludeDeleted) {
			if id, _ := c[it.childFld].(string); id != "" {
				byParent[idKey(id)] = append(byParent[idKey(id)], c)
			}
		}
		e.children[it.sub] = byParent
	}
	rows := e.rows(it.sub, byParent[idKey(parentID)])
	if len(rows) == 0 {
		out.Fields = append(out.Fields, Value{Name: it.childRel, Value: nil})
		return nil
	}
	res := &Result{TotalSize: len(rows)}
	for _, row := range rows {
		rec, err := e.record(it.sub, it.sub.obj, row)
		if err != nil {
			return err
		}
		res.Records = append(res.Records, rec)
	}
	out.Fields = append(out.Fields, Value{Name: it.childRel, Value: res})
	return nil
}
