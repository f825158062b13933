package soqlengine

import (
	"time"
)

// Column describes one selected item of a query, as the query resource's
// columns=true answers it (the columnMetadata the Salesforce CLI's
// `sf data query` reads to lay out its table).
type Column struct {
	// Name is columnName: the field's canonical name, the relationship
	// name of a parent or child, or exprN / the alias of an aggregate.
	Name string
	// DisplayName is what a client shows: the name, or the aggregate as
	// written (COUNT(Id)).
	DisplayName string
	// Aggregate is set for aggregate functions and child subqueries.
	Aggregate bool
	// Field is the selected field; nil for parents, children and functions.
	Field *Field
	// Joins are the columns reached through a parent relationship (one,
	// the next step of the path) or selected by a child subquery.
	Joins []Column
}

// Columns resolves q's selected items against s and describes them in
// SELECT order. It reports the errors Execute would.
func Columns(q *Query, s Schema) ([]Column, error) {
	e := &env{src: q.src, schema: s, loc: time.UTC, now: time.Now(), children: map[*plan]map[string][]map[string]any{}}
	obj, ok := s.Object(q.object)
	if !ok {
		return nil, e.errAt(CodeInvalidType, q.objPos, msgNoSuchType, q.object)
	}
	p, err := e.plan(q, obj)
	if err != nil {
		return nil, err
	}
	return planColumns(p), nil
}

func planColumns(p *plan) []Column {
	if p.q.countOnly {
		return []Column{}
	}
	if p.agg != nil {
		out := make([]Column, 0, len(p.agg.items))
		for _, it := range p.agg.items {
			if it.res != nil {
				out = append(out, pathColumn(*it.res))
			} else {
				out = append(out, Column{Name: it.name, DisplayName: it.display, Aggregate: true})
			}
		}
		return out
	}
	out := make([]Column, 0, len(p.items))
	for _, it := range p.items {
		switch {
		case it.sub != nil:
			out = append(out, Column{Name: it.childRel, DisplayName: it.childRel, Aggregate: true, Joins: planColumns(it.sub)})
		default:
			out = append(out, pathColumn(it.res))
		}
	}
	return out
}

// pathColumn nests a field reached through parents: Account.Owner.Name is
// Account → Owner → Name.
func pathColumn(r resolved) Column {
	f := r.field
	c := Column{Name: f.Name, DisplayName: f.Name, Field: &f}
	for i := len(r.rels) - 1; i >= 0; i-- {
		rel := r.rels[i].RelationshipName
		c = Column{Name: rel, DisplayName: rel, Joins: []Column{c}}
	}
	return c
}
