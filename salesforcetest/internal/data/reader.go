package data

import (
	"strings"
	"time"
)

// Reader reads the store while its lock is held: inside Store.Read, or as
// part of a Txn (which sees its own writes). It must not be kept after the
// function it was given to returns.
type Reader struct{ s *Store }

// Read runs fn with the store locked, for a consistent view of schema and
// records. fn must not call back into the store.
func (s *Store) Read(fn func(r *Reader)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&Reader{s})
}

// Now is the org's clock.
func (r *Reader) Now() time.Time { return r.s.now() }

// UserID is the id of the user the org's writes are made as.
func (r *Reader) UserID() string { return r.s.userID }

// Object returns the named object, in any case.
func (r *Reader) Object(name string) (*SObject, bool) { return r.s.schema.object(name) }

// ObjectByPrefix returns the object whose ids start with prefix.
func (r *Reader) ObjectByPrefix(prefix string) (*SObject, bool) {
	o := r.s.schema.byPrefix[prefix]
	return o, o != nil
}

// ObjectNames lists every object's name, sorted.
func (r *Reader) ObjectNames() []string { return r.s.schema.names() }

// Children lists the child relationships of parent.
func (r *Reader) Children(parent *SObject) []Child { return r.s.schema.children(parent) }

// Live returns the record of object with id (15 or 18 characters): NOT_FOUND
// when there is none, ENTITY_IS_DELETED when it was deleted.
func (r *Reader) Live(object, id string) (*Record, *APIError) { return r.s.live(object, id) }

// MatchExternalID returns the live records of o whose external id field f
// equals value.
func (r *Reader) MatchExternalID(o *SObject, f *Field, value string) []*Record {
	return r.s.matchExternalID(o, f, value)
}

// Recent returns up to n live records of o, the most recently created first.
func (r *Reader) Recent(o *SObject, n int) []*Record {
	var out []*Record
	ids := r.s.order[strings.ToLower(o.Name)]
	for i := len(ids) - 1; i >= 0 && len(out) < n; i-- {
		rec, ok := r.s.records[ids[i]]
		if !ok || rec.deleted { // purged or in the recycle bin
			continue
		}
		out = append(out, rec)
	}
	return out
}

// Records returns the field maps of object's records in creation order,
// deleted ones too when includeDeleted is set (purged ones never). With Get
// it is the soqlengine.Data a query reads; the maps are the store's own and
// must not be changed.
func (r *Reader) Records(object string, includeDeleted bool) []map[string]any {
	var out []map[string]any
	for _, id := range r.s.order[strings.ToLower(object)] {
		if rec, ok := r.s.records[id]; ok && (includeDeleted || !rec.deleted) { // purged: gone
			out = append(out, rec.fields)
		}
	}
	return out
}

// Get returns the fields of object's record id, deleted or not.
func (r *Reader) Get(object, id string) (map[string]any, bool) {
	id18, ok := NormalizeID(id)
	if !ok {
		return nil, false
	}
	rec := r.s.records[id18]
	if rec == nil || !strings.EqualFold(rec.object.Name, object) {
		return nil, false
	}
	return rec.fields, true
}
