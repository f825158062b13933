package auth_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

func ExampleNewJWTBearer() {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		panic(err)
	}
	defer org.Close()
	ts, err := auth.NewJWTBearer(auth.JWTBearerConfig{
		LoginURL:    org.URL,
		ConsumerKey: org.ConsumerKey,
		Username:    "not.preauthorized@example.com",
		Signer:      org.JWTIdentity().Signer(),
		HTTPClient:  org.HTTPClient(nil), // must present the client certificate
	})
	if err != nil {
		panic(err)
	}
	_, err = ts.Token(context.Background())
	var oe *auth.OAuthError
	if errors.As(err, &oe) {
		fmt.Println(oe.Code, "-", oe.Description)
		fmt.Println("fix:", oe.Hint == auth.HintNotPreAuthorized)
	}
	// Output:
	// invalid_grant - user hasn't approved this consumer
	// fix: true
}

func ExampleDefaultAudience() {
	fmt.Println(auth.DefaultAudience("https://acme.my.salesforce.com"))
	fmt.Println(auth.DefaultAudience("https://acme--uat.sandbox.my.salesforce.com"))
	// Output:
	// https://login.salesforce.com
	// https://test.salesforce.com
}
