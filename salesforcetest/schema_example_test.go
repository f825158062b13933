package salesforcetest_test

import (
	"errors"
	"fmt"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// A test declares the custom objects and fields its code uses; the org then
// refuses writes Salesforce would refuse, with Salesforce's error codes.
func ExampleSetup_DefineObject() {
	org, err := salesforcetest.Start(salesforcetest.Config{Objects: []salesforcetest.SObject{
		{Name: "Account", Fields: []salesforcetest.Field{
			{Name: "External_Id__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true}}},
	}})
	if err != nil {
		panic(err)
	}
	defer org.Close()
	err = org.Setup().DefineObject(salesforcetest.SObject{Name: "Invoice__c", Fields: []salesforcetest.Field{
		{Name: "Amount__c", Type: salesforcetest.TypeCurrency, Required: true},
		{Name: "Account__c", Type: salesforcetest.TypeReference, ReferenceTo: []string{"Account"}},
	}})
	if err != nil {
		panic(err)
	}
	acme, err := org.Data().Create("Account", map[string]any{"Name": "Acme", "External_Id__c": "A-1"})
	if err != nil {
		panic(err)
	}
	_, err = org.Data().Create("Invoice__c", map[string]any{"Name": "INV-1", "Account__c": acme})
	var apiErr *salesforcetest.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.ErrorCode, apiErr.Fields)
	}
	_, err = org.Data().Create("Account", map[string]any{"Name": "Copy", "External_Id__c": "a-1"})
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.ErrorCode, apiErr.Fields)
	}
	// Output:
	// 400 REQUIRED_FIELD_MISSING [Amount__c]
	// 400 DUPLICATE_VALUE [External_Id__c]
}
