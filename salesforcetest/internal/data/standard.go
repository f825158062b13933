package data

import (
	"fmt"
	"net/http"
	"time"
)

// The built-in standard objects: the fields a client most often writes and
// reads, with the types, requiredness and relationships the Object Reference
// for the Salesforce Platform gives them (Account, Contact, Opportunity, Lead,
// Case, Task, Event, User, Organization, RecordType: what clients read at
// start-up, such as simple-salesforce's is_sandbox() reading
// Organization.IsSandbox). Real orgs hold many more fields; a test that needs
// one declares it as a custom field with DefineFields.

var accountRating = []string{"Hot", "Warm", "Cold"}

var leadSources = []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}

var industries = []string{"Agriculture", "Banking", "Chemicals", "Communications", "Construction",
	"Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Finance",
	"Government", "Healthcare", "Insurance", "Manufacturing", "Media", "Retail", "Technology",
	"Telecommunications", "Transportation", "Utilities", "Other"}

func text(name string, length int) Field { return Field{Name: name, Type: TypeString, Length: length} }

func picklist(name string, values []string) Field {
	return Field{Name: name, Type: TypePicklist, Length: 255, PicklistValues: values}
}

func lookup(name, to, rel string) Field {
	return Field{Name: name, Type: TypeReference, ReferenceTo: []string{to}, RelationshipName: rel}
}

func address(prefix string) []Field {
	return []Field{
		{Name: prefix + "Street", Type: TypeTextArea, Length: 255},
		text(prefix+"City", 40), text(prefix+"State", 80), text(prefix+"PostalCode", 20), text(prefix+"Country", 80),
	}
}

func standardObjects() []SObject {
	account := SObject{Name: "Account", KeyPrefix: "001", hasOwner: true, Fields: append([]Field{
		{Name: "Name", Type: TypeString, Length: 255, Required: true},
		picklist("Type", []string{"Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"}),
		picklist("Industry", industries), picklist("Rating", accountRating),
		lookup("ParentId", "Account", "Parent"),
		text("AccountNumber", 40), text("Site", 80),
		{Name: "AnnualRevenue", Type: TypeCurrency}, {Name: "NumberOfEmployees", Type: TypeInt},
		{Name: "Phone", Type: TypePhone, Length: 40}, {Name: "Fax", Type: TypePhone, Length: 40},
		{Name: "Website", Type: TypeURL, Length: 255},
		{Name: "Description", Type: TypeTextArea},
	}, append(address("Billing"), address("Shipping")...)...)}

	contact := SObject{Name: "Contact", KeyPrefix: "003", hasOwner: true, nameFrom: []string{"FirstName", "LastName"}, Fields: append([]Field{
		text("Salutation", 40), text("FirstName", 40),
		{Name: "LastName", Type: TypeString, Length: 80, Required: true},
		{Name: "Name", Type: TypeString, Length: 121, ReadOnly: true, Label: "Full Name"},
		lookup("AccountId", "Account", "Account"), lookup("ReportsToId", "Contact", "ReportsTo"),
		{Name: "Email", Type: TypeEmail, Length: 80}, {Name: "Phone", Type: TypePhone, Length: 40},
		{Name: "MobilePhone", Type: TypePhone, Length: 40},
		text("Title", 128), text("Department", 80),
		{Name: "Birthdate", Type: TypeDate},
		picklist("LeadSource", leadSources),
		{Name: "HasOptedOutOfEmail", Type: TypeBoolean, Default: false},
		{Name: "Description", Type: TypeTextArea},
	}, address("Mailing")...)}

	opportunity := SObject{Name: "Opportunity", KeyPrefix: "006", hasOwner: true, Fields: []Field{
		{Name: "Name", Type: TypeString, Length: 120, Required: true},
		{Name: "StageName", Type: TypePicklist, Length: 255, Required: true, PicklistValues: []string{
			"Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
			"Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"}},
		{Name: "CloseDate", Type: TypeDate, Required: true},
		lookup("AccountId", "Account", "Account"),
		{Name: "Amount", Type: TypeCurrency}, {Name: "Probability", Type: TypePercent},
		picklist("Type", []string{"Existing Customer - Upgrade", "Existing Customer - Replacement", "Existing Customer - Downgrade", "New Customer"}),
		picklist("LeadSource", leadSources),
		text("NextStep", 255),
		picklist("ForecastCategoryName", []string{"Omitted", "Pipeline", "Best Case", "Commit", "Closed"}),
		{Name: "ExpectedRevenue", Type: TypeCurrency, ReadOnly: true},
		{Name: "IsClosed", Type: TypeBoolean, ReadOnly: true, Default: false},
		{Name: "IsWon", Type: TypeBoolean, ReadOnly: true, Default: false},
		{Name: "Description", Type: TypeTextArea},
	}}

	lead := SObject{Name: "Lead", KeyPrefix: "00Q", hasOwner: true, nameFrom: []string{"FirstName", "LastName"}, Fields: append([]Field{
		text("Salutation", 40), text("FirstName", 40),
		{Name: "LastName", Type: TypeString, Length: 80, Required: true},
		{Name: "Name", Type: TypeString, Length: 121, ReadOnly: true, Label: "Full Name"},
		{Name: "Company", Type: TypeString, Length: 255, Required: true},
		// Status is required but defaulted on create (the picklist's default).
		{Name: "Status", Type: TypePicklist, Length: 255, Default: "Open - Not Contacted", PicklistValues: []string{
			"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}},
		{Name: "Email", Type: TypeEmail, Length: 80}, {Name: "Phone", Type: TypePhone, Length: 40},
		text("Title", 128), picklist("Industry", industries), picklist("LeadSource", leadSources),
		picklist("Rating", accountRating),
		{Name: "AnnualRevenue", Type: TypeCurrency}, {Name: "NumberOfEmployees", Type: TypeInt},
		{Name: "MobilePhone", Type: TypePhone, Length: 40}, {Name: "Website", Type: TypeURL, Length: 255},
		{Name: "HasOptedOutOfEmail", Type: TypeBoolean, Default: false},
		{Name: "IsConverted", Type: TypeBoolean, ReadOnly: true, Default: false},
		{Name: "ConvertedDate", Type: TypeDate, ReadOnly: true},
		{Name: "Description", Type: TypeTextArea},
	}, address("")...)}

	caseObj := SObject{Name: "Case", KeyPrefix: "500", hasOwner: true, Fields: []Field{
		{Name: "CaseNumber", Type: TypeString, Length: 30, ReadOnly: true, Label: "Case Number"},
		text("Subject", 255),
		{Name: "Description", Type: TypeTextArea},
		{Name: "Status", Type: TypePicklist, Length: 255, Default: "New", PicklistValues: []string{"New", "Working", "Escalated", "Closed"}},
		{Name: "Priority", Type: TypePicklist, Length: 255, Default: "Medium", PicklistValues: []string{"High", "Medium", "Low"}},
		picklist("Origin", []string{"Phone", "Email", "Web"}),
		picklist("Type", []string{"Mechanical", "Electrical", "Electronic", "Structural", "Other"}),
		picklist("Reason", []string{"Installation", "Equipment Complexity", "Performance", "Breakdown", "Equipment Design", "Feedback", "Other"}),
		lookup("AccountId", "Account", "Account"), lookup("ContactId", "Contact", "Contact"),
		lookup("ParentId", "Case", "Parent"),
		text("SuppliedName", 80), {Name: "SuppliedEmail", Type: TypeEmail, Length: 80},
		{Name: "SuppliedPhone", Type: TypePhone, Length: 40},
		{Name: "IsClosed", Type: TypeBoolean, ReadOnly: true, Default: false},
		{Name: "ClosedDate", Type: TypeDateTime, ReadOnly: true},
	}}

	// Users are not created through the fake's REST API: a real one needs a
	// profile, licences and locale settings it does not model.
	user := SObject{Name: "User", KeyPrefix: "005", NotCreateable: true, nameFrom: []string{"FirstName", "LastName"}, Fields: []Field{
		{Name: "Username", Type: TypeString, Length: 80, Required: true, Unique: true},
		text("FirstName", 40),
		{Name: "LastName", Type: TypeString, Length: 80, Required: true},
		{Name: "Name", Type: TypeString, Length: 121, ReadOnly: true, Label: "Full Name"},
		{Name: "Email", Type: TypeEmail, Length: 128, Required: true},
		{Name: "Alias", Type: TypeString, Length: 8, Required: true},
		{Name: "IsActive", Type: TypeBoolean, Default: true},
		text("Title", 80), text("Department", 80), text("CompanyName", 80), text("Division", 80),
		{Name: "Phone", Type: TypePhone, Length: 40}, {Name: "MobilePhone", Type: TypePhone, Length: 40},
		lookup("ManagerId", "User", "Manager"),
		text("FederationIdentifier", 512), text("EmployeeNumber", 20),
		{Name: "UserType", Type: TypePicklist, Length: 40, ReadOnly: true, Default: "Standard",
			PicklistValues: []string{"Standard", "PowerPartner", "CsnOnly", "Guest"}},
		{Name: "LastLoginDate", Type: TypeDateTime, ReadOnly: true},
		{Name: "TimeZoneSidKey", Type: TypePicklist, Length: 40, Default: "America/Los_Angeles"},
		{Name: "LocaleSidKey", Type: TypePicklist, Length: 40, Default: "en_US"},
		{Name: "LanguageLocaleKey", Type: TypePicklist, Length: 40, Default: "en_US"},
		{Name: "EmailEncodingKey", Type: TypePicklist, Length: 40, Default: "UTF-8"},
	}}

	// Activities (Object Reference, "Task" and "Event"): WhoId names a
	// Contact or Lead, WhatId another object.
	whatTo := []string{"Account", "Opportunity", "Case"}
	who := Field{Name: "WhoId", Type: TypeReference, ReferenceTo: []string{"Contact", "Lead"}, RelationshipName: "Who"}
	what := Field{Name: "WhatId", Type: TypeReference, ReferenceTo: whatTo, RelationshipName: "What"}
	task := SObject{Name: "Task", KeyPrefix: "00T", hasOwner: true, Fields: []Field{
		text("Subject", 255),
		{Name: "Status", Type: TypePicklist, Length: 255, Required: true, Default: "Not Started", PicklistValues: []string{
			"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"}},
		{Name: "Priority", Type: TypePicklist, Length: 255, Required: true, Default: "Normal", PicklistValues: []string{"High", "Normal", "Low"}},
		{Name: "ActivityDate", Type: TypeDate},
		who, what,
		picklist("Type", []string{"Call", "Email", "Meeting", "Other"}),
		picklist("TaskSubtype", []string{"Task", "Email", "ListEmail", "Cadence", "Call"}),
		{Name: "CallDurationInSeconds", Type: TypeInt},
		{Name: "IsReminderSet", Type: TypeBoolean, Default: false}, {Name: "ReminderDateTime", Type: TypeDateTime},
		{Name: "IsClosed", Type: TypeBoolean, ReadOnly: true, Default: false},
		{Name: "IsHighPriority", Type: TypeBoolean, ReadOnly: true, Default: false},
		{Name: "Description", Type: TypeTextArea, Length: 32000},
	}}
	event := SObject{Name: "Event", KeyPrefix: "00U", hasOwner: true, Fields: []Field{
		text("Subject", 255),
		{Name: "StartDateTime", Type: TypeDateTime}, {Name: "EndDateTime", Type: TypeDateTime},
		{Name: "ActivityDateTime", Type: TypeDateTime}, {Name: "ActivityDate", Type: TypeDate},
		{Name: "DurationInMinutes", Type: TypeInt},
		{Name: "IsAllDayEvent", Type: TypeBoolean, Default: false},
		{Name: "IsPrivate", Type: TypeBoolean, Default: false},
		text("Location", 255),
		picklist("ShowAs", []string{"Busy", "OutOfOffice", "Free"}),
		picklist("Type", []string{"Call", "Email", "Meeting", "Other"}),
		who, what,
		{Name: "Description", Type: TypeTextArea, Length: 32000},
	}}

	// Setup objects the org reads for itself: not written through the
	// fake's REST API.
	recordType := SObject{Name: "RecordType", KeyPrefix: "012", NotCreateable: true, Fields: []Field{
		{Name: "Name", Type: TypeString, Length: 80, Required: true},
		{Name: "DeveloperName", Type: TypeString, Length: 80, Required: true},
		{Name: "SobjectType", Type: TypePicklist, Length: 40, Required: true},
		text("NamespacePrefix", 15), text("Description", 255),
		{Name: "IsActive", Type: TypeBoolean, Default: true},
	}}
	organization := SObject{Name: "Organization", KeyPrefix: "00D", NotCreateable: true, Fields: append([]Field{
		{Name: "Name", Type: TypeString, Length: 80, Required: true},
		text("Division", 80), {Name: "Phone", Type: TypePhone, Length: 40}, text("PrimaryContact", 80),
		picklist("OrganizationType", []string{"Developer Edition", "Enterprise Edition", "Unlimited Edition", "Professional Edition", "Team Edition"}),
		text("InstanceName", 5), text("NamespacePrefix", 15),
		{Name: "IsSandbox", Type: TypeBoolean, Default: false},
		{Name: "IsReadOnly", Type: TypeBoolean, Default: false},
		{Name: "TrialExpirationDate", Type: TypeDateTime},
		{Name: "FiscalYearStartMonth", Type: TypeInt, Default: float64(1)},
		{Name: "TimeZoneSidKey", Type: TypePicklist, Length: 40, Default: "America/Los_Angeles"},
		{Name: "DefaultLocaleSidKey", Type: TypePicklist, Length: 40, Default: "en_US"},
		{Name: "LanguageLocaleKey", Type: TypePicklist, Length: 40, Default: "en_US"},
	}, address("")...)}
	return []SObject{account, contact, opportunity, lead, caseObj, task, event, user, recordType, organization}
}

// AddOrganization inserts the org's one Organization record under its id
// (00D…, 18 characters), with fields over the defaults (Object Reference,
// "Organization").
func (s *Store) AddOrganization(id string, fields map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, _ := s.schema.object("Organization")
	id18, ok := NormalizeID(id)
	if !ok || id18[:3] != o.KeyPrefix {
		return &APIError{StatusCode: http.StatusBadRequest, ErrorCode: "MALFORMED_ID", Message: fmt.Sprintf("Organization: %q is not an organization id", id)}
	}
	values, err := s.validate(o, fields, nil)
	if err != nil {
		return err
	}
	r := &Record{object: o, id: id18, fields: values}
	s.stamp(r, true)
	s.applyDefaults(r)
	s.records[id18] = r
	s.order["organization"] = append(s.order["organization"], id18)
	s.index(r)
	return nil
}

// NewToolingStore returns a store holding the Tooling API's objects that
// clients query at start-up, and no records: ApexClass, ApexTrigger,
// ApexPage and ApexLog (jsforce's tooling examples, the Salesforce
// Extensions for VS Code) and SourceMember (the Salesforce CLI's source
// tracking) (Tooling API Developer Guide, "Tooling API Objects").
func NewToolingStore(now func() time.Time) *Store {
	s := NewStore(now)
	s.schema = schema{objects: map[string]*SObject{}, byPrefix: map[string]*SObject{}}
	for _, o := range toolingObjects() {
		if _, err := s.schema.add(o, true); err != nil {
			panic(err) // the built-in schema is fixed: a failure here is a bug in standard.go
		}
	}
	return s
}

func toolingObjects() []SObject {
	status := func(values ...string) Field {
		return Field{Name: "Status", Type: TypePicklist, Length: 40, Default: values[0], PicklistValues: values}
	}
	code := func(name, prefix string, extra ...Field) SObject {
		return SObject{Name: name, KeyPrefix: prefix, NotCreateable: true, Fields: append([]Field{
			{Name: "Name", Type: TypeString, Length: 255, Required: true},
			text("NamespacePrefix", 15),
			{Name: "ApiVersion", Type: TypeDouble},
			status("Active", "Inactive", "Deleted"),
			{Name: "IsValid", Type: TypeBoolean, Default: true},
			{Name: "LengthWithoutComments", Type: TypeInt},
			{Name: "Body", Type: TypeTextArea, Length: 1000000},
		}, extra...)}
	}
	return []SObject{
		code("ApexClass", "01p"),
		code("ApexTrigger", "01q", text("TableEnumOrId", 40),
			Field{Name: "UsageBeforeInsert", Type: TypeBoolean, Default: false},
			Field{Name: "UsageAfterInsert", Type: TypeBoolean, Default: false}),
		{Name: "ApexPage", KeyPrefix: "066", NotCreateable: true, Fields: []Field{
			{Name: "Name", Type: TypeString, Length: 80, Required: true}, text("MasterLabel", 80),
			text("NamespacePrefix", 15), {Name: "ApiVersion", Type: TypeDouble},
			{Name: "Markup", Type: TypeTextArea, Length: 1000000},
		}},
		{Name: "ApexLog", KeyPrefix: "07L", NotCreateable: true, Fields: []Field{
			lookup("LogUserId", "User", "LogUser"), text("Operation", 128), text("Request", 16),
			text("Status", 255), text("Location", 40), text("Application", 64),
			{Name: "LogLength", Type: TypeInt}, {Name: "DurationMilliseconds", Type: TypeInt},
			{Name: "StartTime", Type: TypeDateTime},
		}},
		{Name: "SourceMember", KeyPrefix: "0MZ", NotCreateable: true, Fields: []Field{
			text("MemberName", 255), text("MemberType", 255), text("MemberIdOrName", 255),
			{Name: "RevisionCounter", Type: TypeInt}, {Name: "RevisionNum", Type: TypeInt},
			{Name: "IsNameObsolete", Type: TypeBoolean, Default: false},
			{Name: "IsNewMember", Type: TypeBoolean, Default: false},
			text("ChangedBy", 18),
		}},
	}
}
