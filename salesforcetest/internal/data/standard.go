package data

// The built-in standard objects: the fields a client most often writes and
// reads, with the types, requiredness and relationships the Object Reference
// for the Salesforce Platform gives them (Account, Contact, Opportunity, Lead,
// Case, User). Real orgs hold many more fields; a test that needs one declares
// it as a custom field with DefineFields.

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
		{Name: "IsConverted", Type: TypeBoolean, ReadOnly: true, Default: false},
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
		{Name: "SuppliedEmail", Type: TypeEmail, Length: 80},
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
		text("Title", 80), text("Department", 80),
		{Name: "TimeZoneSidKey", Type: TypePicklist, Length: 40, Default: "America/Los_Angeles"},
		{Name: "LanguageLocaleKey", Type: TypePicklist, Length: 40, Default: "en_US"},
	}}
	return []SObject{account, contact, opportunity, lead, caseObj, user}
}
