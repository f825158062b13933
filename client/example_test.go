package client_test

import (
	"context"
	"fmt"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

func ExampleQuery() {
	org, err := salesforcetest.Start(salesforcetest.Config{PageSize: 2})
	if err != nil {
		panic(err)
	}
	defer org.Close()
	for _, name := range []string{"Acme", "Globex", "Initech"} {
		if _, err := org.Data().Create("Account", map[string]any{"Name": name}); err != nil {
			panic(err)
		}
	}

	c, err := client.New(client.Config{
		LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		MTLS: org.PKI.ClientIdentity, JWT: org.PKI.JWTIdentity, RootCAs: org.RootCAs(), Port: org.Port,
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	type Account struct {
		Name string `json:"Name"`
	}
	// Two pages of two: the second is fetched when the loop reaches it.
	for a, err := range client.Query[Account](context.Background(), c, "SELECT Name FROM Account ORDER BY Name") {
		if err != nil {
			panic(err)
		}
		fmt.Println(a.Name)
	}
	// Output:
	// Acme
	// Globex
	// Initech
}

func ExampleClient_Create() {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		panic(err)
	}
	defer org.Close()
	c, err := client.New(client.Config{
		LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		MTLS: org.PKI.ClientIdentity, JWT: org.PKI.JWTIdentity, RootCAs: org.RootCAs(), Port: org.Port,
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()
	id, err := c.Create(ctx, "Account", map[string]any{"Name": "Acme"})
	if err != nil {
		panic(err)
	}
	err = c.Update(ctx, "Account", id, map[string]any{"Name": "Acme Corp"})
	if err != nil {
		panic(err)
	}
	var got struct{ Name string }
	if err := c.Get(ctx, "Account", id, []string{"Name"}, &got); err != nil {
		panic(err)
	}
	fmt.Println(got.Name, c.Delete(ctx, "Account", id))
	// Output: Acme Corp <nil>
}
