package data

import (
	"fmt"
	"slices"
	"strings"
)

// FieldType is a field's type as describe reports it.
type FieldType string

// The field types the org models (Object Reference for the Salesforce
// Platform, "Field Types"; sObject Describe lists them in "type").
const (
	TypeID        FieldType = "id"
	TypeString    FieldType = "string"
	TypeTextArea  FieldType = "textarea"
	TypeBoolean   FieldType = "boolean"
	TypeInt       FieldType = "int"
	TypeDouble    FieldType = "double"
	TypeCurrency  FieldType = "currency"
	TypePercent   FieldType = "percent"
	TypeDate      FieldType = "date"
	TypeDateTime  FieldType = "datetime"
	TypeEmail     FieldType = "email"
	TypePhone     FieldType = "phone"
	TypeURL       FieldType = "url"
	TypePicklist  FieldType = "picklist"
	TypeReference FieldType = "reference"
)

// Field declares one field of an sObject.
type Field struct {
	Name  string    `json:"name"`
	Label string    `json:"label,omitempty"` // default: the name
	Type  FieldType `json:"type"`
	// Length is the most characters a text field holds; default 255.
	Length int `json:"length,omitempty"`
	// Required fields must be given, not null, on create (describe: nillable
	// false, createable, not defaulted on create).
	Required bool `json:"required,omitempty"`
	// ReadOnly fields are set by the org only: neither createable nor updateable.
	ReadOnly bool `json:"readOnly,omitempty"`
	// CreateOnly fields may be set on create but not changed afterwards.
	CreateOnly bool `json:"createOnly,omitempty"`
	// ExternalID fields can key an upsert or a get by external id.
	ExternalID bool `json:"externalId,omitempty"`
	// Unique fields reject a value another live record holds (DUPLICATE_VALUE).
	Unique bool `json:"unique,omitempty"`
	// CaseSensitive makes a unique text field treat "ABC" and "abc" as
	// different values; by default they are duplicates. It also makes an
	// upsert or get by this external id match case-sensitively (only a
	// unique, case-insensitive field matches without regard to case).
	CaseSensitive bool `json:"caseSensitive,omitempty"`
	// ReferenceTo names the objects a reference field may point to.
	ReferenceTo []string `json:"referenceTo,omitempty"`
	// RelationshipName names the parent in SOQL (Account for AccountId).
	RelationshipName string `json:"relationshipName,omitempty"`
	// ChildRelationshipName names the children from the parent's side in a
	// SOQL subquery; default the child object's plural (Contacts, Invoices__r).
	ChildRelationshipName string `json:"childRelationshipName,omitempty"`
	// PicklistValues lists a picklist's values; Restricted rejects others.
	PicklistValues []string `json:"picklistValues,omitempty"`
	Restricted     bool     `json:"restrictedPicklist,omitempty"`
	// Default is the value the org sets on create when the field is not given.
	Default any `json:"defaultValue,omitempty"`

	system bool // maintained by the org (Id, CreatedDate, …)
}

// SObject declares an object: a standard one of the built-in schema or a
// custom one (Name ending in __c) a test adds with Config.Objects or DefineObject.
type SObject struct {
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
	// KeyPrefix is the 3 characters every id of the object starts with;
	// empty gives custom objects the next free a0X-style prefix.
	KeyPrefix string  `json:"keyPrefix,omitempty"`
	Fields    []Field `json:"fields"`
	// NotCreateable objects reject REST writes (the fake does not model them).
	NotCreateable bool `json:"notCreateable,omitempty"`

	custom   bool
	hasOwner bool
	// nameFrom composes a read-only Name from these fields (Contact, Lead, User).
	nameFrom []string
	byName   map[string]*Field // lower-case name → field
}

// Field returns the field named name, in any case.
func (s *SObject) Field(name string) (*Field, bool) {
	f, ok := s.byName[strings.ToLower(name)]
	return f, ok
}

func (f *Field) createable() bool { return !f.ReadOnly && !f.system }
func (f *Field) updateable() bool { return !f.ReadOnly && !f.system && !f.CreateOnly }
func (f *Field) nillable() bool   { return !f.Required && f.Type != TypeBoolean && !f.system }

func (f *Field) maxLength() int {
	if f.Length > 0 {
		return f.Length
	}
	switch f.Type {
	case TypeTextArea:
		return 32000
	case TypeID, TypeReference:
		return 18
	}
	return 255
}

// schema is the org's objects; guarded by the store's lock.
type schema struct {
	objects    map[string]*SObject // lower-case name → object
	byPrefix   map[string]*SObject
	nextCustom int
}

func (s *schema) object(name string) (*SObject, bool) {
	o, ok := s.objects[strings.ToLower(name)]
	return o, ok
}

func (s *schema) names() []string {
	out := make([]string, 0, len(s.objects))
	for _, o := range s.objects {
		out = append(out, o.Name)
	}
	slices.Sort(out)
	return out
}

// systemFields are the audit fields every object carries (Object Reference,
// "System Fields"), maintained by the org.
func systemFields(prefixTarget string) []Field {
	return []Field{
		{Name: "Id", Type: TypeID, Label: prefixTarget + " ID", system: true},
		{Name: "IsDeleted", Type: TypeBoolean, Label: "Deleted", system: true},
		{Name: "CreatedDate", Type: TypeDateTime, Label: "Created Date", system: true},
		{Name: "CreatedById", Type: TypeReference, Label: "Created By ID", ReferenceTo: []string{"User"}, RelationshipName: "CreatedBy", system: true},
		{Name: "LastModifiedDate", Type: TypeDateTime, Label: "Last Modified Date", system: true},
		{Name: "LastModifiedById", Type: TypeReference, Label: "Last Modified By ID", ReferenceTo: []string{"User"}, RelationshipName: "LastModifiedBy", system: true},
		{Name: "SystemModstamp", Type: TypeDateTime, Label: "System Modstamp", system: true},
	}
}

// add validates o and adds it to the schema with its system fields.
func (s *schema) add(o SObject, standard bool) (*SObject, error) {
	if o.Name == "" {
		return nil, &SchemaError{Object: "(unnamed)", Reason: "an object needs a Name"}
	}
	if _, dup := s.object(o.Name); dup {
		return nil, &SchemaError{Object: o.Name, Reason: "already exists; add fields with DefineFields"}
	}
	if !standard {
		if !strings.HasSuffix(o.Name, "__c") || !validAPIName(strings.TrimSuffix(o.Name, "__c")) {
			return nil, &SchemaError{Object: o.Name, Reason: "a custom object's name is letters, digits and single underscores ending in __c, e.g. Invoice__c"}
		}
		o.custom = true
		o.hasOwner = true
	}
	if o.KeyPrefix == "" {
		for {
			s.nextCustom++
			p := fmt.Sprintf("a0%c", base62[s.nextCustom%62])
			if s.nextCustom >= 62 {
				p = fmt.Sprintf("a%c%c", base62[s.nextCustom/62%62], base62[s.nextCustom%62])
			}
			if s.byPrefix[p] == nil {
				o.KeyPrefix = p
				break
			}
		}
	}
	if len(o.KeyPrefix) != 3 || strings.Trim(o.KeyPrefix, base62) != "" {
		return nil, &SchemaError{Object: o.Name, Reason: "KeyPrefix must be 3 base-62 characters"}
	}
	if other := s.byPrefix[o.KeyPrefix]; other != nil {
		return nil, &SchemaError{Object: o.Name, Reason: "KeyPrefix " + o.KeyPrefix + " is already " + other.Name + "'s"}
	}
	if o.Label == "" {
		o.Label = strings.ReplaceAll(strings.TrimSuffix(o.Name, "__c"), "_", " ")
	}
	given := o.Fields
	o.Fields = systemFields(o.Label)
	if o.hasOwner {
		o.Fields = append(o.Fields, Field{Name: "OwnerId", Type: TypeReference, Label: "Owner ID", ReferenceTo: []string{"User"}, RelationshipName: "Owner"})
	}
	if o.custom && !slices.ContainsFunc(given, func(f Field) bool { return strings.EqualFold(f.Name, "Name") }) {
		o.Fields = append(o.Fields, Field{Name: "Name", Type: TypeString, Label: o.Label + " Name", Length: 80, Required: true})
	}
	o.byName = map[string]*Field{}
	for _, f := range o.Fields {
		o.byName[strings.ToLower(f.Name)] = nil
	}
	ptr := &o
	if err := s.addFields(ptr, given, standard); err != nil {
		return nil, err
	}
	s.objects[strings.ToLower(o.Name)] = ptr
	s.byPrefix[o.KeyPrefix] = ptr
	return ptr, nil
}

// addFields validates and appends fields to o, then rebuilds its index.
func (s *schema) addFields(o *SObject, fields []Field, standard bool) error {
	for _, f := range fields {
		if f.Name == "" {
			return &SchemaError{Object: o.Name, Field: "(unnamed)", Reason: "a field needs a Name"}
		}
		if _, dup := o.byName[strings.ToLower(f.Name)]; dup {
			return &SchemaError{Object: o.Name, Field: f.Name, Reason: "already exists"}
		}
		if !standard && !strings.EqualFold(f.Name, "Name") &&
			(!strings.HasSuffix(f.Name, "__c") || !validAPIName(strings.TrimSuffix(f.Name, "__c"))) {
			return &SchemaError{Object: o.Name, Field: f.Name, Reason: "a custom field's name is letters, digits and single underscores ending in __c, e.g. External_Id__c"}
		}
		switch f.Type {
		case TypeString, TypeTextArea, TypeBoolean, TypeInt, TypeDouble, TypeCurrency, TypePercent,
			TypeDate, TypeDateTime, TypeEmail, TypePhone, TypeURL, TypePicklist:
		case TypeReference:
			if len(f.ReferenceTo) == 0 {
				return &SchemaError{Object: o.Name, Field: f.Name, Reason: "a reference field needs ReferenceTo"}
			}
			if f.RelationshipName == "" {
				f.RelationshipName = strings.TrimSuffix(strings.TrimSuffix(f.Name, "Id"), "__c")
				if strings.HasSuffix(f.Name, "__c") {
					f.RelationshipName += "__r"
				}
			}
		default:
			return &SchemaError{Object: o.Name, Field: f.Name, Reason: fmt.Sprintf("type %q is not one the org models (string, textarea, boolean, int, double, currency, percent, date, datetime, email, phone, url, picklist, reference)", f.Type)}
		}
		if f.CaseSensitive && (!f.Unique || f.Type != TypeString) {
			return &SchemaError{Object: o.Name, Field: f.Name, Reason: "CaseSensitive applies to a Unique text (string) field only"}
		}
		if f.ExternalID && !slices.Contains([]FieldType{TypeString, TypeInt, TypeDouble, TypeEmail}, f.Type) {
			return &SchemaError{Object: o.Name, Field: f.Name, Reason: "an external id is a text, number or email field"}
		}
		if f.Label == "" {
			f.Label = strings.ReplaceAll(strings.TrimSuffix(f.Name, "__c"), "_", " ")
		}
		o.Fields = append(o.Fields, f)
		o.byName[strings.ToLower(f.Name)] = nil
	}
	for i := range o.Fields {
		o.byName[strings.ToLower(o.Fields[i].Name)] = &o.Fields[i]
	}
	return nil
}

// validAPIName: starts with a letter, then letters, digits and single
// underscores, not ending in one (Salesforce's rule for API names).
func validAPIName(s string) bool {
	if s == "" || !isLetter(s[0]) || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isLetter(c) && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// The properties below are functions, not methods, because Field and SObject
// are re-exported by salesforcetest as the types a test declares its schema
// with; these are the org's view of a declaration, not for users.

// Createable reports whether a create may set f (describe's createable).
func Createable(f *Field) bool { return f.createable() }

// Updateable reports whether an update may change f (describe's updateable).
func Updateable(f *Field) bool { return f.updateable() }

// Nillable reports whether f may be null (describe's nillable).
func Nillable(f *Field) bool { return f.nillable() }

// MaxLength is the most characters f holds (describe's length).
func MaxLength(f *Field) int { return f.maxLength() }

// IsSystem reports whether the org maintains f (Id, CreatedDate, …).
func IsSystem(f *Field) bool { return f.system }

// IsCustom reports whether o is a custom object (describe's custom).
func IsCustom(o *SObject) bool { return o.custom }

// NameFields are what SOSL's IN NAME FIELDS searches in o: Name, and the
// parts a compound name is made of.
func NameFields(o *SObject) []string { return append([]string{"Name"}, o.nameFrom...) }

// Child is a child relationship: the child object, its reference field, and
// the relationship's name (Contacts for Contact.AccountId).
type Child struct{ Object, Field, Name string }

// children lists the relationships whose reference fields point to parent.
func (s *schema) children(parent *SObject) []Child {
	var out []Child
	for _, name := range s.names() {
		child, _ := s.object(name)
		for _, f := range child.Fields {
			if f.Type != TypeReference || f.system || f.Name == "OwnerId" || !containsFold(f.ReferenceTo, parent.Name) {
				continue
			}
			out = append(out, Child{Object: child.Name, Field: f.Name, Name: childRelationshipName(child, &f)})
		}
	}
	return out
}

// childRelationshipName names a child relationship as Salesforce's standard
// ones are named (Account.Contacts, Account.ChildAccounts), and custom
// lookups by their child object's plural with __r (Invoices__r).
func childRelationshipName(child *SObject, f *Field) string {
	if f.ChildRelationshipName != "" {
		return f.ChildRelationshipName
	}
	if child.Name == "Account" && f.Name == "ParentId" {
		return "ChildAccounts"
	}
	if child.Name == "Contact" && f.Name == "ReportsToId" {
		return "DirectReports"
	}
	if child.custom || strings.HasSuffix(f.Name, "__c") {
		return Plural(strings.TrimSuffix(child.Name, "__c")) + "__r"
	}
	return Plural(child.Name)
}

// Plural is an English plural of a name or label, as Salesforce forms
// labelPlural and relationship names.
func Plural(s string) string {
	switch {
	case strings.HasSuffix(s, "y") && !strings.HasSuffix(s, "ey"):
		return strings.TrimSuffix(s, "y") + "ies"
	case strings.HasSuffix(s, "s"):
		return s + "es"
	}
	return s + "s"
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
