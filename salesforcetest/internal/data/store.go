package data

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// DateTimeLayout is Salesforce's datetime format in JSON.
const DateTimeLayout = "2006-01-02T15:04:05.000-0700"

// Store is the org's schema and records: the fake's backend. HTTP handlers
// reach it through three doors only: Read (a consistent view under the
// store's lock), Transaction (all-or-none writes) and the setup methods in
// setup.go. Every write goes through a Txn, so a group of writes (sObject
// Collections, Composite, Bulk) can be all or none.
type Store struct {
	mu      sync.Mutex
	schema  schema
	records map[string]*Record  // 18-character id → record
	order   map[string][]string // lower-case object name → ids in creation order
	seq     int64
	cases   int // the last CaseNumber issued
	userID  string
	now     func() time.Time
	// unique indexes the values live records hold in unique fields, so a
	// write checks uniqueness with one lookup per unique field instead of a
	// scan of the object's records.
	unique map[uniqueSlot]string // → id of the record holding the value
	// external indexes the values of external id fields that are not
	// unique, so an upsert or get by one does not scan either.
	external map[uniqueSlot][]string // → ids of the records holding the value
	// subscribers receive the committed changes (feed.go); commits counts
	// the transactions that changed a record.
	subscribers []*Subscription
	commits     int64
}

// uniqueSlot is one value of one indexed field: the object's lower-case
// name, the field's name, and the value as uniqueValue compares it.
type uniqueSlot struct{ object, field, value string }

// Record is one stored record. Callers read it only while they hold the
// store's lock (inside Read or Transaction) and never change it: writes go
// through a Txn.
type Record struct {
	object  *SObject
	id      string
	fields  map[string]any // canonical field name → value; nil is null
	deleted bool
}

// ID returns the record's 18-character id.
func (r *Record) ID() string { return r.id }

// Object returns the record's object.
func (r *Record) Object() *SObject { return r.object }

// Value returns a field's value by its canonical name; nil is null.
func (r *Record) Value(field string) any { return r.fields[field] }

// Deleted reports whether the record is in the recycle bin.
func (r *Record) Deleted() bool { return r.deleted }

// NewStore returns a store holding the standard objects and no records,
// stamping records with the time now gives (nil: time.Now).
func NewStore(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{
		schema:   schema{objects: map[string]*SObject{}, byPrefix: map[string]*SObject{}},
		records:  map[string]*Record{},
		order:    map[string][]string{},
		now:      now,
		unique:   map[uniqueSlot]string{},
		external: map[uniqueSlot][]string{},
	}
	for _, o := range standardObjects() {
		if _, err := s.schema.add(o, true); err != nil {
			panic(err) // the built-in schema is fixed: a failure here is a bug in standard.go
		}
	}
	return s
}

// addUser inserts a User directly (Users are not createable over REST) and
// returns its id; the store's lock is held.
func (s *Store) addUser(username, first, last string) string {
	u, _ := s.schema.object("User")
	s.seq++
	id := NewID(u.KeyPrefix, s.seq)
	alias := strings.ToLower(first + last)
	alias = alias[:min(8, len(alias))]
	fields := map[string]any{"Username": username, "FirstName": first, "LastName": last, "Email": username, "Alias": alias}
	r := &Record{object: u, id: id, fields: fields}
	s.stamp(r, true)
	if s.userID == "" { // the org's first user created itself
		r.fields["CreatedById"], r.fields["LastModifiedById"] = id, id
	}
	s.applyDefaults(r)
	s.records[id] = r
	s.order["user"] = append(s.order["user"], id)
	s.index(r)
	return id
}

// Txn is one all-or-none unit of writes, holding the store's lock. Its
// methods validate as Salesforce does and answer *APIError; they are the one
// way records change. It reads as a Reader does, seeing its own writes.
type Txn struct {
	Reader
	undo    []func()
	changes []pendingChange // published on commit (feed.go)
}

// Transaction runs fn with the store locked. When fn returns an error, every
// write fn made is undone (all or none) and that error is returned. A caller
// that keeps partial success (allOrNone false) returns nil after collecting
// each write's own error.
func (s *Store) Transaction(fn func(t *Txn) *APIError) *APIError {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &Txn{Reader: Reader{s}}
	if err := fn(t); err != nil {
		t.RollbackTo(0)
		return err
	}
	t.publish()
	return nil
}

// Savepoint and RollbackTo let a group of writes inside one Txn be undone
// alone: a record of a collection, or one subrequest of a Composite call.
func (t *Txn) Savepoint() int { return len(t.undo) }

// RollbackTo undoes the writes made since Savepoint returned sp.
func (t *Txn) RollbackTo(sp int) {
	for i := len(t.undo) - 1; i >= sp; i-- {
		t.undo[i]()
	}
	t.undo = t.undo[:sp]
	for len(t.changes) > 0 && t.changes[len(t.changes)-1].at >= sp {
		t.changes = t.changes[:len(t.changes)-1]
	}
}

// Purge removes a record for good, so queryAll does not see it either (a
// hard delete skips the recycle bin). Its id stays in the object's order,
// which readers skip when the record is gone: removing it there would cost
// a scan per row of a hardDelete job.
func (t *Txn) Purge(id string) {
	r := t.s.records[id]
	delete(t.s.records, id)
	t.undo = append(t.undo, func() { t.s.records[id] = r })
}

// object returns the named object, or NOT_FOUND as the sObject resources answer.
func (s *Store) objectFor(name string) (*SObject, *APIError) {
	o, ok := s.schema.object(name)
	if !ok {
		return nil, NotFound()
	}
	return o, nil
}

// Create validates fields and inserts a record of object, returning its id.
// Errors: NOT_FOUND (unknown object), INVALID_FIELD, JSON_PARSER_ERROR (a value
// of the wrong type), INVALID_FIELD_FOR_INSERT_UPDATE (read-only field or Id),
// REQUIRED_FIELD_MISSING, STRING_TOO_LONG, INVALID_EMAIL_ADDRESS,
// INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, MALFORMED_ID,
// INVALID_CROSS_REFERENCE_KEY, ENTITY_IS_DELETED, DUPLICATE_VALUE.
func (t *Txn) Create(object string, fields map[string]any) (string, *APIError) {
	o, err := t.s.objectFor(object)
	if err != nil {
		return "", err
	}
	if o.NotCreateable {
		return "", apiErr(http.StatusBadRequest, "INVALID_TYPE_FOR_OPERATION", "entity type "+o.Name+" does not support create through the fake org")
	}
	values, err := t.s.validate(o, fields, nil)
	if err != nil {
		return "", err
	}
	t.s.seq++
	r := &Record{object: o, id: NewID(o.KeyPrefix, t.s.seq), fields: values}
	t.s.applyDefaults(r)
	if f, ok := o.Field("OwnerId"); ok && r.fields[f.Name] == nil {
		r.fields[f.Name] = t.s.userID
	}
	if o.Name == "Case" {
		t.s.cases++
		r.fields["CaseNumber"] = fmt.Sprintf("%08d", 1000+t.s.cases)
	}
	t.s.stamp(r, true)
	if err := t.s.checkUnique(r); err != nil {
		return "", err
	}
	key := strings.ToLower(o.Name)
	t.s.records[r.id] = r
	t.s.order[key] = append(t.s.order[key], r.id)
	t.s.index(r)
	t.undo = append(t.undo, func() {
		t.s.unindex(r)
		delete(t.s.records, r.id)
		ids := t.s.order[key]
		if n := len(ids); n > 0 && ids[n-1] == r.id { // undone in reverse: usually the last
			t.s.order[key] = ids[:n-1]
			return
		}
		t.s.order[key] = slices.DeleteFunc(ids, func(id string) bool { return id == r.id })
	})
	t.noteChange(ChangeCreate, r, nil)
	return r.id, nil
}

// live returns the record of object with id (15 or 18 characters): NOT_FOUND
// when there is none, ENTITY_IS_DELETED when it was deleted.
func (s *Store) live(object, id string) (*Record, *APIError) {
	o, err := s.objectFor(object)
	if err != nil {
		return nil, err
	}
	id18, ok := NormalizeID(id)
	if !ok || !strings.HasPrefix(id18, o.KeyPrefix) {
		return nil, NotFound()
	}
	r := s.records[id18]
	if r == nil {
		return nil, NotFound()
	}
	if r.deleted {
		return nil, apiErr(http.StatusNotFound, "ENTITY_IS_DELETED", "entity is deleted")
	}
	return r, nil
}

// Update validates fields and applies them to the record. Errors: as Create,
// plus NOT_FOUND for an unknown id and ENTITY_IS_DELETED for a deleted record.
func (t *Txn) Update(object, id string, fields map[string]any) *APIError {
	r, err := t.s.live(object, id)
	if err != nil {
		return err
	}
	return t.update(r, fields)
}

func (t *Txn) update(r *Record, fields map[string]any) *APIError {
	values, err := t.s.validate(r.object, fields, r)
	if err != nil {
		return err
	}
	before := maps.Clone(r.fields)
	maps.Copy(r.fields, values)
	t.s.stamp(r, false)
	if err := t.s.checkUnique(r); err != nil {
		r.fields = before
		return err
	}
	t.s.unindex(&Record{object: r.object, id: r.id, fields: before})
	t.s.index(r)
	t.undo = append(t.undo, func() {
		t.s.unindex(r)
		r.fields = before
		t.s.index(r)
	})
	t.noteChange(ChangeUpdate, r, before)
	return nil
}

// UpsertResult is what an upsert did.
type UpsertResult struct {
	ID      string
	Created bool
}

// Upsert creates or updates the record of object whose external id field
// holds value (REST API Developer Guide, "Upsert Records Using sObject Rows
// by External ID"): no match creates (or, with updateOnly, answers NOT_FOUND),
// one match updates, several answer 300 with their URLs in Matches.
// A field that is not an external id answers NOT_FOUND.
func (t *Txn) Upsert(object, field, value string, fields map[string]any, updateOnly bool) (UpsertResult, []string, *APIError) {
	o, err := t.s.objectFor(object)
	if err != nil {
		return UpsertResult{}, nil, err
	}
	f, err := ExternalIDField(o, field)
	if err != nil {
		return UpsertResult{}, nil, err
	}
	for k := range fields {
		if strings.EqualFold(k, "Id") || strings.EqualFold(k, f.Name) {
			return UpsertResult{}, nil, apiErr(http.StatusBadRequest, "INVALID_FIELD",
				"The request body must not set Id or the external id field "+f.Name+": the URL names the record", k)
		}
	}
	matches := t.s.matchExternalID(o, f, value)
	switch {
	case len(matches) > 1:
		ids := make([]string, len(matches))
		for i, m := range matches {
			ids[i] = m.id
		}
		return UpsertResult{}, ids, apiErr(http.StatusMultipleChoices, "MULTIPLE_CHOICES",
			fmt.Sprintf("%d records of %s have %s %q", len(matches), o.Name, f.Name, value), f.Name)
	case len(matches) == 1:
		if err := t.update(matches[0], fields); err != nil {
			return UpsertResult{}, nil, err
		}
		return UpsertResult{ID: matches[0].id}, nil, nil
	case updateOnly:
		return UpsertResult{}, nil, NotFound()
	}
	withKey := maps.Clone(fields)
	if withKey == nil {
		withKey = map[string]any{}
	}
	withKey[f.Name] = value // as text: Create converts it to the field's type
	id, err := t.Create(o.Name, withKey)
	if err != nil {
		return UpsertResult{}, nil, err
	}
	return UpsertResult{ID: id, Created: true}, nil, nil
}

// externalIDField returns o's external id field named name, or the NOT_FOUND
// Salesforce answers when the field does not exist or is not an external id.
func ExternalIDField(o *SObject, name string) (*Field, *APIError) {
	f, ok := o.Field(name)
	if !ok || !f.ExternalID {
		return nil, apiErr(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+name)
	}
	return f, nil
}

// matchExternalID returns the live records of o whose field f equals value.
// Apex Developer Guide, "Upserting Records": "Custom field matching is
// case-insensitive only if the custom field has the Unique and Treat "ABC"
// and "abc" as duplicate values (case insensitive) attributes selected"; the
// REST API Developer Guide does not say otherwise, so the fake matches the
// same way. Both kinds of field are looked up in an index.
func (s *Store) matchExternalID(o *SObject, f *Field, value string) []*Record {
	slot := uniqueSlot{strings.ToLower(o.Name), f.Name, uniqueValue(f, value)}
	if f.Unique {
		id, ok := s.unique[slot]
		if !ok {
			return nil
		}
		return []*Record{s.records[id]}
	}
	ids := s.external[slot]
	out := make([]*Record, len(ids))
	for i, id := range ids {
		out[i] = s.records[id]
	}
	return out
}

// Delete moves the record to the recycle bin: it leaves query and get, and
// queryAll still sees it with IsDeleted true. Errors: NOT_FOUND, ENTITY_IS_DELETED.
func (t *Txn) Delete(object, id string) *APIError {
	r, err := t.s.live(object, id)
	if err != nil {
		return err
	}
	before := maps.Clone(r.fields)
	t.s.unindex(r) // a record in the recycle bin holds no unique or external id value
	r.deleted = true
	r.fields["IsDeleted"] = true
	t.s.stamp(r, false)
	t.undo = append(t.undo, func() {
		r.deleted, r.fields = false, before
		t.s.index(r)
	})
	t.noteChange(ChangeDelete, r, nil)
	return nil
}

// Undelete restores a record from the recycle bin (Apex Developer Guide,
// "Undeleting Records"). Errors: NOT_FOUND (no such record, or purged),
// UNDELETE_FAILED (the record is not deleted), DUPLICATE_VALUE (a live
// record took one of its unique values meanwhile).
func (t *Txn) Undelete(object, id string) *APIError {
	o, err := t.s.objectFor(object)
	if err != nil {
		return err
	}
	id18, ok := NormalizeID(id)
	r := t.s.records[id18]
	if !ok || r == nil || r.object != o {
		return NotFound()
	}
	if !r.deleted {
		return apiErr(http.StatusBadRequest, "UNDELETE_FAILED", "Entity is not in the recycle bin", "Id")
	}
	before := maps.Clone(r.fields)
	r.deleted = false
	r.fields["IsDeleted"] = false
	t.s.stamp(r, false)
	if err := t.s.checkUnique(r); err != nil {
		r.deleted, r.fields = true, before
		return err
	}
	t.s.index(r)
	t.undo = append(t.undo, func() {
		t.s.unindex(r)
		r.deleted, r.fields = true, before
	})
	t.noteChange(ChangeUndelete, r, nil)
	return nil
}

// stamp maintains the audit fields (Object Reference, "System Fields").
func (s *Store) stamp(r *Record, created bool) {
	now := s.now().UTC().Format(DateTimeLayout)
	if created {
		r.fields["Id"] = r.id
		r.fields["IsDeleted"] = false
		r.fields["CreatedDate"] = now
		r.fields["CreatedById"] = s.userID
	}
	r.fields["LastModifiedDate"] = now
	r.fields["LastModifiedById"] = s.userID
	r.fields["SystemModstamp"] = now
	if len(r.object.nameFrom) > 0 {
		var parts []string
		for _, n := range r.object.nameFrom {
			if v, ok := r.fields[n].(string); ok && v != "" {
				parts = append(parts, v)
			}
		}
		r.fields["Name"] = strings.Join(parts, " ")
	}
}

func (s *Store) applyDefaults(r *Record) {
	for _, f := range r.object.Fields {
		if _, set := r.fields[f.Name]; !set && f.Default != nil {
			r.fields[f.Name] = f.Default
		}
	}
}

// checkUnique rejects a unique field's value another live record holds
// (DUPLICATE_VALUE), with one index lookup per unique field.
func (s *Store) checkUnique(r *Record) *APIError {
	for _, slot := range indexSlots(r, true) {
		if id, taken := s.unique[slot]; taken && id != r.id {
			return apiErr(http.StatusBadRequest, "DUPLICATE_VALUE",
				fmt.Sprintf("duplicate value found: %s duplicates value on record with id: %s", slot.field, id), slot.field)
		}
	}
	return nil
}

// index records the unique and external id values r holds; checkUnique has passed.
func (s *Store) index(r *Record) {
	for _, slot := range indexSlots(r, true) {
		s.unique[slot] = r.id
	}
	for _, slot := range indexSlots(r, false) {
		s.external[slot] = append(s.external[slot], r.id)
	}
}

// unindex frees the values r holds.
func (s *Store) unindex(r *Record) {
	for _, slot := range indexSlots(r, true) {
		if s.unique[slot] == r.id {
			delete(s.unique, slot)
		}
	}
	for _, slot := range indexSlots(r, false) {
		ids := slices.DeleteFunc(s.external[slot], func(id string) bool { return id == r.id })
		if len(ids) == 0 {
			delete(s.external, slot)
		} else {
			s.external[slot] = ids
		}
	}
}

// indexSlots returns the index entries of r's non-null unique fields, or
// with unique false, of its external id fields that are not unique.
func indexSlots(r *Record, unique bool) []uniqueSlot {
	var out []uniqueSlot
	for i := range r.object.Fields {
		f := &r.object.Fields[i]
		if f.Unique != unique || (!f.Unique && !f.ExternalID) || r.fields[f.Name] == nil {
			continue
		}
		out = append(out, uniqueSlot{strings.ToLower(r.object.Name), f.Name, uniqueValue(f, r.fields[f.Name])})
	}
	return out
}

// uniqueValue is v as a unique field compares it. A unique text field
// treats "ABC" and "abc" as duplicates unless declared CaseSensitive (the two
// choices of the Unique attribute, named in the Apex Developer Guide,
// "Upserting Records", and kept as caseSensitive in the Metadata API's
// CustomField). Email values are compared without case: Salesforce refuses
// caseSensitive on an email field and keeps its values in lower case
// (salesforce.stackexchange.com/questions/246995). Case is folded as
// strings.EqualFold folds it.
func uniqueValue(f *Field, v any) string {
	s := FormatValue(v)
	if !f.Unique || (f.CaseSensitive && f.Type == TypeString) {
		return s // matched with case (a non-unique external id; see matchExternalID)
	}
	return foldCase(s)
}

// foldCase maps each rune to the smallest rune of its case-folding orbit, so
// foldCase(a) == foldCase(b) exactly when strings.EqualFold(a, b).
func foldCase(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

// validate checks a write's fields against o, in the order Salesforce
// reports: unknown fields and values that do not deserialize first, then
// fields that may not be written, then required fields, then value rules.
// existing is nil on create. It returns the values converted to their stored form.
func (s *Store) validate(o *SObject, body map[string]any, existing *Record) (map[string]any, *APIError) {
	creating := existing == nil
	names := slices.Sorted(maps.Keys(body))
	values := map[string]any{}
	var readOnly []string
	for _, name := range names {
		if name == "attributes" {
			continue // the type annotation clients may send; the URL names the object
		}
		f, ok := o.Field(name)
		if !ok {
			return nil, apiErr(http.StatusBadRequest, "INVALID_FIELD",
				fmt.Sprintf("No such column '%s' on sobject of type %s", name, o.Name), name)
		}
		if f.Name == "Id" {
			if creating {
				return nil, apiErr(http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", "Id")
			}
			readOnly = append(readOnly, f.Name)
			continue
		}
		v, err := s.convert(f, body[name])
		if err != nil {
			return nil, err
		}
		if (creating && !f.createable()) || (!creating && !f.updateable()) {
			readOnly = append(readOnly, f.Name)
			continue
		}
		values[f.Name] = v
	}
	if len(readOnly) > 0 {
		return nil, apiErr(http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE",
			"Unable to create/update fields: "+strings.Join(readOnly, ", ")+
				". Please check the security settings of this field and verify that it is read/write for your profile or permission set.", readOnly...)
	}
	var missing []string
	for _, f := range o.Fields {
		if !f.Required {
			continue
		}
		v, given := values[f.Name]
		if (creating && (!given || v == nil) && f.Default == nil) || (!creating && given && v == nil) {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return nil, apiErr(http.StatusBadRequest, "REQUIRED_FIELD_MISSING",
			"Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing...)
	}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if err := s.checkValue(o.byName[strings.ToLower(name)], values[name]); err != nil {
			return nil, err
		}
	}
	normalizeRefs(o, values)
	return values, nil
}

// convert turns a JSON value into the field's stored form, or answers
// JSON_PARSER_ERROR as Salesforce does for a value its JSON reader cannot
// turn into the field's type. Numbers and booleans arrive as json.Number and bool;
// numbers are stored as float64, the form the SOQL engine reads.
func (s *Store) convert(f *Field, v any) (any, *APIError) {
	if v == nil {
		// A checkbox is never null in Salesforce; the Guide does not say what a
		// null for one answers, and the fake refuses it as it refuses other
		// values that are not a boolean.
		if f.Type == TypeBoolean {
			return nil, parserError(f, "null", "null")
		}
		return nil, nil
	}
	switch f.Type {
	case TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil && (x == "true" || x == "false") {
				return b, nil
			}
		}
	case TypeInt:
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil && n >= math.MinInt32 && n <= math.MaxInt32 {
				return float64(n), nil
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 32); err == nil {
				return float64(n), nil
			}
		case int, int64:
			return float64(toInt64(x)), nil
		case float64:
			if x == math.Trunc(x) && x >= math.MinInt32 && x <= math.MaxInt32 {
				return x, nil
			}
		}
	case TypeDouble, TypeCurrency, TypePercent:
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Float64(); err == nil {
				return n, nil
			}
		case string:
			if n, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsInf(n, 0) && !math.IsNaN(n) {
				return n, nil
			}
		case float64:
			return x, nil
		case int, int64:
			return float64(toInt64(x)), nil
		}
	case TypeDate:
		if x, ok := v.(string); ok {
			if d, err := time.Parse(time.DateOnly, x); err == nil {
				return d.Format(time.DateOnly), nil
			}
		}
	case TypeDateTime:
		if x, ok := v.(string); ok {
			if d, ok := ParseDateTime(x); ok {
				return d.UTC().Format(DateTimeLayout), nil
			}
		}
	default: // text, picklist, id and reference: strings; a number is read as its text
		switch x := v.(type) {
		case string:
			if x == "" {
				// A text field holds no empty string, only null (Apex Developer
				// Guide, "Primitive Data Types": sObject String fields "can never
				// be empty (only null)", the SOAP API's rule), so "" is a null:
				// it clears the field, and a required field refuses it.
				return nil, nil
			}
			return x, nil
		case json.Number:
			return x.String(), nil
		}
	}
	return nil, parserError(f, jsonKind(v), FormatValue(v))
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	}
	return 0
}

// ParseDateTime reads the datetime forms Salesforce accepts: ISO 8601 with
// a zone as Z or ±hh:mm or ±hhmm, with or without milliseconds.
func ParseDateTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, DateTimeLayout, "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05.000Z"} {
		if d, err := time.Parse(layout, s); err == nil {
			return d, true
		}
	}
	return time.Time{}, false
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "VALUE_STRING"
	case json.Number, float64, int, int64:
		return "VALUE_NUMBER"
	case bool:
		return "VALUE_TRUE"
	case []any:
		return "START_ARRAY"
	case map[string]any:
		return "START_OBJECT"
	}
	return "VALUE_NULL"
}

func parserError(f *Field, kind, value string) *APIError {
	return apiErr(http.StatusBadRequest, "JSON_PARSER_ERROR",
		fmt.Sprintf("Cannot deserialize instance of %s from %s value %s or request may be missing a required field", f.Type, kind, value))
}

// checkValue applies the rules a value of the right type must still meet.
func (s *Store) checkValue(f *Field, v any) *APIError {
	str, isString := v.(string)
	if !isString {
		return nil
	}
	if n := len([]rune(str)); n > f.maxLength() {
		return apiErr(http.StatusBadRequest, "STRING_TOO_LONG",
			fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, truncate(str, 40), f.maxLength()), f.Name)
	}
	switch f.Type {
	case TypeEmail:
		if a, err := mail.ParseAddress(str); err != nil || a.Address != str || a.Name != "" {
			return apiErr(http.StatusBadRequest, "INVALID_EMAIL_ADDRESS", fmt.Sprintf("%s: invalid email address: %s", f.Label, str), f.Name)
		}
	case TypePicklist:
		if f.Restricted && !slices.Contains(f.PicklistValues, str) {
			return apiErr(http.StatusBadRequest, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
				fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Label, str), f.Name)
		}
	case TypeReference:
		id, ok := NormalizeID(str)
		if !ok {
			return apiErr(http.StatusBadRequest, "MALFORMED_ID", fmt.Sprintf("%s: id value of incorrect type: %s", f.Label, str), f.Name)
		}
		target := s.records[id]
		allowed := slices.ContainsFunc(f.ReferenceTo, func(name string) bool {
			o, ok := s.schema.object(name)
			return ok && strings.HasPrefix(id, o.KeyPrefix)
		})
		if target == nil || !allowed {
			return apiErr(http.StatusBadRequest, "INVALID_CROSS_REFERENCE_KEY", fmt.Sprintf("%s: invalid cross reference id", f.Label), f.Name)
		}
		if target.deleted {
			return apiErr(http.StatusBadRequest, "ENTITY_IS_DELETED", "entity is deleted", f.Name)
		}
	}
	return nil
}

// normalizedRefs stores reference values in their 18-character form.
func normalizeRefs(o *SObject, values map[string]any) {
	for name, v := range values {
		if f := o.byName[strings.ToLower(name)]; f != nil && f.Type == TypeReference {
			if s, ok := v.(string); ok {
				if id, ok := NormalizeID(s); ok {
					values[name] = id
				}
			}
		}
	}
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// formatValue renders a stored value as text, for matching and messages.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}
