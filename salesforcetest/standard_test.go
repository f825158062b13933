package salesforcetest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/jwtbearer"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// The standard objects clients read at start-up, with the standard fields
// the Object Reference for the Salesforce Platform gives them
// (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/):
// Organization (simple-salesforce's is_sandbox() runs SELECT IsSandbox FROM
// Organization), RecordType, User, Task, Event, Opportunity, Case, Lead.
func TestStandardObjectsClientsReadAtStartUp(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c, token := login(t, org)
	query := func(soql string) []map[string]any {
		t.Helper()
		a := do(t, c, token, http.MethodGet, org.URL+"/services/data/v68.0/query?q="+url.QueryEscape(soql), "")
		require.Equal(t, http.StatusOK, a.status, "%s: %s", soql, a.body)
		var page struct{ Records []map[string]any }
		require.NoError(t, json.Unmarshal(a.body, &page))
		return page.Records
	}

	orgs := query("SELECT Id, Name, IsSandbox, OrganizationType, InstanceName FROM Organization LIMIT 1")
	require.Len(t, orgs, 1)
	assert.Equal(t, false, orgs[0]["IsSandbox"])
	assert.Regexp(t, `^00D\w{15}$`, orgs[0]["Id"])
	assert.Equal(t, "Developer Edition", orgs[0]["OrganizationType"])

	assert.Empty(t, query("SELECT Id, Name, DeveloperName FROM RecordType WHERE SobjectType = 'Account' AND IsActive = true"))

	users := query("SELECT Id, Username, Name, Email, IsActive, UserType, TimeZoneSidKey, LocaleSidKey FROM User WHERE Username = '" + org.Username + "'")
	require.Len(t, users, 1)
	assert.Equal(t, "Standard", users[0]["UserType"])
	assert.Equal(t, true, users[0]["IsActive"])

	base := org.URL + "/services/data/v68.0/sobjects/"
	acct := createdID(t, do(t, c, token, http.MethodPost, base+"Account", `{"Name":"Acme"}`))
	contact := createdID(t, do(t, c, token, http.MethodPost, base+"Contact", `{"LastName":"Doe","AccountId":"`+acct+`"}`))
	createdID(t, do(t, c, token, http.MethodPost, base+"Task", `{"Subject":"Call","WhoId":"`+contact+`","WhatId":"`+acct+`","ActivityDate":"2026-12-07"}`))
	tasks := query("SELECT Subject, Status, Priority, IsClosed, Who.Name, What.Name FROM Task")
	require.Len(t, tasks, 1)
	assert.Equal(t, "Not Started", tasks[0]["Status"], "Status is defaulted on create")
	assert.Equal(t, "Normal", tasks[0]["Priority"])
	assert.Equal(t, "Doe", tasks[0]["Who"].(map[string]any)["Name"])
	assert.Equal(t, "Acme", tasks[0]["What"].(map[string]any)["Name"])

	createdID(t, do(t, c, token, http.MethodPost, base+"Event", `{"Subject":"Meet","WhatId":"`+acct+`","StartDateTime":"2026-12-07T10:00:00.000+0000","EndDateTime":"2026-12-07T11:00:00.000+0000","DurationInMinutes":60}`))
	assert.Len(t, query("SELECT Id, Subject, StartDateTime, IsAllDayEvent FROM Event WHERE WhatId = '"+acct+"'"), 1)
	createdID(t, do(t, c, token, http.MethodPost, base+"Opportunity", `{"Name":"Deal","StageName":"Prospecting","CloseDate":"2027-01-31","AccountId":"`+acct+`","ForecastCategoryName":"Pipeline"}`))
	createdID(t, do(t, c, token, http.MethodPost, base+"Case", `{"Subject":"Broken","AccountId":"`+acct+`","SuppliedName":"Doe"}`))
	createdID(t, do(t, c, token, http.MethodPost, base+"Lead", `{"LastName":"Roe","Company":"Initech","Website":"https://initech.example"}`))
	assert.Len(t, query("SELECT Id, (SELECT Subject FROM Tasks), (SELECT Subject FROM Cases) FROM Account"), 1)

	// Setup objects are not written over REST.
	a := do(t, c, token, http.MethodPost, base+"Organization", `{"Name":"Another"}`)
	assert.Equal(t, http.StatusBadRequest, a.status, string(a.body))
	code, _ := a.errorCode(t)
	assert.Equal(t, "INVALID_TYPE_FOR_OPERATION", code)
}

// A sandbox org, its logins for test.salesforce.com, says so in
// Organization.IsSandbox.
func TestOrganizationIsSandboxForATestAudience(t *testing.T) {
	org := start(t, salesforcetest.Config{Audience: jwtbearer.SandboxAudience})
	c := org.Client(t)
	var sandbox []bool
	for rec, err := range client.Query[struct{ IsSandbox bool }](t.Context(), c, "SELECT IsSandbox FROM Organization LIMIT 1") {
		require.NoError(t, err)
		sandbox = append(sandbox, rec.IsSandbox)
	}
	assert.Equal(t, []bool{true}, sandbox)
}
