package client_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/soql"
)

// exampleClient starts a fake org and a client for it, as a test would with
// salesforcetest.NewOrg and org.Client.
func exampleClient() (*salesforcetest.Org, *client.Client) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		panic(err)
	}
	c, err := client.New(client.Config{
		LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		MTLS: org.PKI.ClientIdentity, JWT: org.PKI.JWTIdentity, RootCAs: org.RootCAs(), Port: org.Port,
	})
	if err != nil {
		panic(err)
	}
	return org, c
}

// Build SOQL with soql.Format: each ? becomes a quoted, escaped literal, so
// a value such as O'Brien cannot end the string and change the query.
func ExampleQuery_safeSOQL() {
	org, c := exampleClient()
	defer org.Close()
	defer c.Close()
	if _, err := org.Data().Create("Account", map[string]any{"Name": "O'Brien & Sons", "Industry": "Retail"}); err != nil {
		panic(err)
	}

	userInput := "O'Brien & Sons"
	q, err := soql.Format("SELECT Name, Industry FROM Account WHERE Name = ? AND Industry IN (?, ?)", userInput, "Retail", "Energy")
	if err != nil {
		panic(err)
	}
	fmt.Println(q)
	type Account struct{ Name, Industry string }
	for a, err := range client.Query[Account](context.Background(), c, q) {
		if err != nil {
			panic(err)
		}
		fmt.Println(a.Name, "/", a.Industry)
	}
	// Output:
	// SELECT Name, Industry FROM Account WHERE Name = 'O\'Brien & Sons' AND Industry IN ('Retail', 'Energy')
	// O'Brien & Sons / Retail
}

func ExampleCreateRecords() {
	org, c := exampleClient()
	defer org.Close()
	defer c.Close()
	type Account struct {
		ID   string `json:"Id,omitempty"`
		Name string `json:"Name,omitempty"`
	}
	accounts := make([]Account, 450)
	for i := range accounts {
		accounts[i] = Account{Name: fmt.Sprintf("Account %03d", i)}
	}
	accounts[7].Name = "" // Name is required: this record fails alone
	before := org.Stats().APIUsage
	results, err := client.CreateRecords(context.Background(), c, "Account", accounts, client.CollectionOptions{})
	if err != nil {
		panic(err) // a *client.CollectionError: chunks without per-record results
	}
	after := org.Stats().APIUsage
	fmt.Println("API calls:", after-before)
	for i, r := range results {
		if !r.Success {
			fmt.Println("record", i, r.Errors[0].ErrorCode)
		}
	}
	// Output:
	// API calls: 3
	// record 7 REQUIRED_FIELD_MISSING
}

func ExampleClient_Composite() {
	org, c := exampleClient()
	defer org.Close()
	defer c.Close()
	ctx := context.Background()
	accountURL, _ := c.SubrequestURL(ctx, "sobjects", "Account")
	contactURL, _ := c.SubrequestURL(ctx, "sobjects", "Contact")
	resp, err := c.Composite(ctx, client.CompositeRequest{AllOrNone: true, Subrequests: []client.Subrequest{
		{Method: http.MethodPost, URL: accountURL, ReferenceID: "NewAccount", Body: map[string]any{"Name": "Acme"}},
		{Method: http.MethodPost, URL: contactURL, ReferenceID: "NewContact",
			Body: map[string]any{"LastName": "Smith", "AccountId": client.Ref("NewAccount", "id")}},
	}})
	if err != nil {
		panic(err)
	}
	for _, sub := range resp.Subresponses {
		var res client.SaveResult
		if err := sub.Decode(&res); err != nil {
			panic(err)
		}
		fmt.Println(sub.ReferenceID, sub.HTTPStatusCode, res.Success)
	}
	// Output:
	// NewAccount 201 true
	// NewContact 201 true
}
