package soqlengine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// Aggregate queries, as the SOQL and SOSL Reference documents them in
// "Aggregate Functions", "Support for Field Types in Aggregate Functions",
// "GROUP BY", "Considerations for GROUP BY", "Using Aliases with GROUP BY",
// "HAVING" and "Considerations for HAVING".

// aggPlan is an aggregate query resolved against the schema.
type aggPlan struct {
	groups []resolved   // GROUP BY's fields
	aggs   []plannedAgg // every aggregate the query computes, once
	items  []aggItem    // the SELECT list
	order  []aggOrder   // ORDER BY
	having condition    // over a group's values
}

// plannedAgg is one aggregate function over a field.
type plannedAgg struct {
	fn  string
	res resolved
	key string // its key in a group's values
}

// aggItem is one column of an AggregateResult.
type aggItem struct {
	name    string // the JSON key: the field's name, an alias or exprN
	key     string
	display string    // an aggregate as written, e.g. COUNT(Id); empty for a field
	res     *resolved // a grouped field
}

type aggOrder struct {
	key  string
	typ  FieldType
	item orderItem
}

// groupKey is where a group's values keep a grouped field.
func groupKey(r resolved) string { return "group:" + r.key }

// isAggregate tells whether q is an aggregate query: it has GROUP BY or
// uses an aggregate function (COUNT() alone is not one: it returns no rows).
func isAggregate(q *Query, items []selectItem) bool {
	if len(q.groupBy) > 0 || q.having != nil {
		return true
	}
	for _, it := range items {
		if it.kind == itemAgg {
			return true
		}
	}
	for _, o := range q.orderBy {
		if o.agg != nil {
			return true
		}
	}
	return false
}

// aggSupported follows "Support for Field Types in Aggregate Functions":
// AVG and SUM take numbers only; COUNT, COUNT_DISTINCT, MIN and MAX also
// take dates, dateTimes and text; boolean fields take none. Long text areas
// are treated as taking none.
func aggSupported(fn string, t FieldType) bool {
	switch {
	case t == data.TypeBoolean || t == data.TypeTextArea:
		return false
	case category(t) == catNumber:
		return true
	}
	return fn != "SUM" && fn != "AVG"
}

// groupable is describe's "groupable" ("Considerations for GROUP BY": some
// field types cannot be grouped): the fake treats double, currency, percent,
// dateTime and long text area fields as not groupable, as Salesforce
// describes its standard fields of those types.
func groupable(t FieldType) bool {
	switch t {
	case data.TypeDouble, data.TypeCurrency, data.TypePercent, data.TypeDateTime, data.TypeTextArea:
		return false
	}
	return true
}

// aggResultType is the type of an aggregate's value, for HAVING's literals
// and ORDER BY.
func aggResultType(fn string, t FieldType) FieldType {
	switch fn {
	case "COUNT", "COUNT_DISTINCT":
		return data.TypeInt
	case "SUM", "AVG":
		return data.TypeDouble
	}
	return t
}

// planAggregate checks an aggregate query: every selected, ordered or
// HAVING field is grouped or inside an aggregate function.
func (e *env) planAggregate(p *plan, items []selectItem) error {
	q, obj := p.q, p.obj
	ap := &aggPlan{}
	p.agg = ap
	if q.countOnly {
		// "COUNT() and COUNT(fieldName)": with GROUP BY, use COUNT(fieldName).
		return e.errAt(CodeMalformedQuery, q.objPos, "COUNT() cannot be used with GROUP BY: use COUNT(fieldName)")
	}
	if len(q.groupBy) == 0 && q.limit >= 0 {
		// "LIMIT": "You can't use a LIMIT clause in a query that uses an
		// aggregate function, but does not use a GROUP BY clause."
		return e.errAt(CodeMalformedQuery, q.objPos, "LIMIT is not allowed in a query with an aggregate function and no GROUP BY")
	}
	grouped := map[string]bool{}
	for _, g := range q.groupBy {
		r, err := e.resolve(obj, g.path, g.pos)
		if err != nil {
			return err
		}
		if !groupable(r.field.Type) {
			return e.errAt(CodeInvalidField, g.pos, "field '%s' can not be grouped in a query call", r.field.Name)
		}
		if !grouped[r.key] {
			grouped[r.key] = true
			ap.groups = append(ap.groups, r)
		}
	}
	addAgg := func(c *aggCall) (string, FieldType, error) {
		r, err := e.resolve(obj, c.path, c.pos)
		if err != nil {
			return "", "", err
		}
		if !aggSupported(c.fn, r.field.Type) {
			return "", "", e.errAt(CodeInvalidField, c.pos, "field %s does not support aggregate operator %s", r.field.Name, c.fn)
		}
		key := c.fn + "(" + r.key + ")"
		for _, a := range ap.aggs {
			if a.key == key {
				return key, aggResultType(c.fn, r.field.Type), nil
			}
		}
		ap.aggs = append(ap.aggs, plannedAgg{fn: c.fn, res: r, key: key})
		return key, aggResultType(c.fn, r.field.Type), nil
	}
	groupedField := func(path string, pos int, msg string) (resolved, error) {
		r, err := e.resolve(obj, path, pos)
		if err != nil {
			return r, err
		}
		if !grouped[r.key] {
			return r, e.errAt(CodeMalformedQuery, pos, msg, path)
		}
		return r, nil
	}
	// "Using Aliases with GROUP BY": an aggregate without an alias is
	// named expr0, expr1, ... counting the unaliased aggregates only.
	unaliased := 0
	names := map[string]bool{}
	for _, it := range items {
		var item aggItem
		switch it.kind {
		case itemField:
			r, err := groupedField(it.path, it.pos, "Field must be grouped or aggregated: %s")
			if err != nil {
				return err
			}
			item = aggItem{name: r.field.Name, key: groupKey(r), res: &r}
		case itemAgg:
			key, _, err := addAgg(it.agg)
			if err != nil {
				return err
			}
			item = aggItem{name: it.alias, key: key, display: it.agg.fn + "(" + it.agg.path + ")"}
			if item.name == "" {
				item.name = "expr" + strconv.Itoa(unaliased)
				unaliased++
			}
		default:
			// "Considerations for GROUP BY": no child relationship
			// expressions in a query that uses GROUP BY.
			return e.errAt(CodeMalformedQuery, it.pos, "a child subquery cannot be used in an aggregate query")
		}
		if names[strings.ToLower(item.name)] {
			return e.errAt(CodeMalformedQuery, it.pos, "duplicate alias: %s", item.name)
		}
		names[strings.ToLower(item.name)] = true
		ap.items = append(ap.items, item)
	}
	for _, o := range q.orderBy {
		if o.agg != nil {
			key, typ, err := addAgg(o.agg)
			if err != nil {
				return err
			}
			ap.order = append(ap.order, aggOrder{key: key, typ: typ, item: o})
			continue
		}
		r, err := groupedField(o.path, o.pos, "Ordered field must be grouped or aggregated: %s")
		if err != nil {
			return err
		}
		ap.order = append(ap.order, aggOrder{key: groupKey(r), typ: r.field.Type, item: o})
	}
	if q.having != nil {
		// "Considerations for HAVING": HAVING filters by aggregated values
		// and by fields of the GROUP BY clause.
		c, err := e.compileWith(q.having, func(c cmpExpr) (condition, error) {
			if c.agg != nil {
				key, typ, err := addAgg(c.agg)
				if err != nil {
					return nil, err
				}
				f := Field{Name: c.agg.fn + "(" + c.agg.path + ")", Type: typ}
				return e.compileTest(c, f, func(g map[string]any) any { return g[key] })
			}
			r, err := groupedField(c.path, c.pos, "Field must be grouped or aggregated: %s")
			if err != nil {
				return nil, err
			}
			key := groupKey(r)
			return e.compileTest(c, r.field, func(g map[string]any) any { return g[key] })
		})
		if err != nil {
			return err
		}
		ap.having = c
	}
	return nil
}

// aggregate groups rows and returns one AggregateResult a group that HAVING
// keeps, ordered and paged. Without GROUP BY every row is one group, which
// exists even when no row matched (COUNT(Id) is then 0).
func (e *env) aggregate(p *plan, rows []map[string]any) []Record {
	ap := p.agg
	type group struct {
		first map[string]any
		rows  []map[string]any
	}
	var groups []*group
	if len(ap.groups) == 0 {
		groups = []*group{{rows: rows}}
	} else {
		index := map[string]*group{}
		for _, row := range rows {
			var k strings.Builder
			for _, r := range ap.groups {
				k.WriteString(e.groupingKey(e.value(row, r), r.field.Type))
				k.WriteByte(0)
			}
			g := index[k.String()]
			if g == nil {
				g = &group{first: row}
				index[k.String()] = g
				groups = append(groups, g)
			}
			g.rows = append(g.rows, row)
		}
	}
	values := make([]map[string]any, 0, len(groups))
	for _, g := range groups {
		v := map[string]any{}
		for _, r := range ap.groups {
			v[groupKey(r)] = e.value(g.first, r)
		}
		for _, a := range ap.aggs {
			v[a.key] = e.compute(a, g.rows)
		}
		if ap.having == nil || ap.having(v) {
			values = append(values, v)
		}
	}
	if len(ap.order) > 0 {
		sort.SliceStable(values, func(i, j int) bool {
			for _, o := range ap.order {
				if c := e.orderCompare(values[i][o.key], values[j][o.key], o.typ, o.item); c != 0 {
					return c < 0
				}
			}
			return false
		})
	}
	if p.q.offset > 0 {
		values = values[min(p.q.offset, len(values)):]
	}
	if p.q.limit >= 0 && p.q.limit < len(values) {
		values = values[:p.q.limit]
	}
	out := make([]Record, 0, len(values))
	for _, v := range values {
		rec := Record{Type: "AggregateResult"}
		for _, it := range ap.items {
			rec.Fields = append(rec.Fields, Value{Name: it.name, Value: v[it.key]})
		}
		out = append(out, rec)
	}
	return out
}

// groupingKey is the identity of a grouped value: text without case (as
// SOQL compares it), an Id as its 15-character form, null apart.
func (e *env) groupingKey(v any, t FieldType) string {
	switch x := v.(type) {
	case nil:
		return "\x01null"
	case string:
		if category(t) == catID {
			return idKey(x)
		}
		return strings.ToUpper(x)
	}
	return fmt.Sprint(v)
}

// compute evaluates one aggregate function over a group's rows. All but
// COUNT ignore nulls ("Aggregate Functions"); SUM, AVG, MIN and MAX of no
// values are null.
func (e *env) compute(a plannedAgg, rows []map[string]any) any {
	t := a.res.field.Type
	switch a.fn {
	case "COUNT", "COUNT_DISTINCT":
		n := 0
		seen := map[string]bool{}
		for _, row := range rows {
			v := e.value(row, a.res)
			if v == nil {
				continue
			}
			if a.fn == "COUNT_DISTINCT" {
				k := e.groupingKey(v, t)
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			n++
		}
		return float64(n)
	case "SUM", "AVG":
		sum, n := 0.0, 0
		for _, row := range rows {
			if x, ok := toFloat(e.value(row, a.res)); ok {
				sum += x
				n++
			}
		}
		switch {
		case n == 0:
			return nil
		case a.fn == "AVG":
			return sum / float64(n)
		}
		return sum
	}
	var best any
	for _, row := range rows {
		v := e.value(row, a.res)
		if v == nil {
			continue
		}
		if best == nil {
			best = v
			continue
		}
		c, ok := e.compareValues(v, best, t)
		if ok && (a.fn == "MIN" && c < 0 || a.fn == "MAX" && c > 0) {
			best = v
		}
	}
	if x, ok := best.(string); ok && category(t) == catNumber {
		if f, ok := toFloat(x); ok {
			return f
		}
	}
	return best
}

// expandFields replaces FIELDS(ALL|STANDARD|CUSTOM) with the object's
// fields ("SELECT", the FIELDS() keyword): from API 51.0; ALL and CUSTOM
// ("unbounded") need a LIMIT of at most 200; a field selected twice is
// INVALID_FIELD "duplicate field selected: X", as the page shows.
func (e *env) expandFields(q *Query, obj Object) ([]selectItem, error) {
	uses := false
	for _, it := range q.items {
		if it.kind == itemFields {
			uses = true
		}
	}
	if !uses {
		return q.items, nil
	}
	var out []selectItem
	seen := map[string]bool{}
	add := func(it selectItem) error {
		if it.kind == itemField {
			k := strings.ToLower(it.path)
			if seen[k] {
				return e.errAt(CodeInvalidField, it.pos, "duplicate field selected: %s", it.path)
			}
			seen[k] = true
		}
		out = append(out, it)
		return nil
	}
	for _, it := range q.items {
		if it.kind != itemFields {
			if err := add(it); err != nil {
				return nil, err
			}
			continue
		}
		if v := e.opts.APIVersion; v != "" && !versionAtLeast(v, 51) {
			return nil, e.errAt(CodeMalformedQuery, it.pos, "FIELDS() is available from API version 51.0")
		}
		if it.set != "STANDARD" && (q.limit < 0 || q.limit > 200) {
			// "Bounded and Unbounded Queries": FIELDS(ALL) and FIELDS(CUSTOM)
			// need LIMIT n with n at most 200. The page gives the rule, not
			// the error; the fake answers MALFORMED_QUERY.
			return nil, e.errAt(CodeMalformedQuery, it.pos, "The SOQL FIELDS function must have a LIMIT of at most 200")
		}
		lister, ok := obj.(FieldLister)
		if !ok {
			return nil, e.errAt(CodeMalformedQuery, it.pos, "FIELDS() is not supported on %s", obj.Name())
		}
		for _, f := range lister.Fields() {
			custom := strings.HasSuffix(strings.ToLower(f.Name), "__c")
			if it.set == "STANDARD" && custom || it.set == "CUSTOM" && !custom {
				continue
			}
			if err := add(selectItem{kind: itemField, path: f.Name, pos: it.pos}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// versionAtLeast reports whether the API version v ("51.0") is major or later.
func versionAtLeast(v string, major int) bool {
	n, err := strconv.Atoi(strings.TrimSuffix(v, ".0"))
	return err != nil || n >= major
}
