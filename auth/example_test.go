package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"

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
		Signer:      org.PKI.JWTIdentity.Signer(),
		HTTPClient:  org.HTTPClient(nil), // must present the client certificate
	})
	if err != nil {
		panic(err)
	}
	_, err = ts.Token(context.Background())
	var oe *auth.OAuthError
	if errors.As(err, &oe) {
		fmt.Println(oe.Code, "-", oe.Description)
		fmt.Println("fix:", oe.Fix())
	}
	// Output:
	// invalid_grant - user hasn't approved this consumer
	// fix: pre-authorize the user: in the app's OAuth policies set Permitted Users to "Admin approved users are pre-authorized" and add the user's profile or permission set; check the username
}

func ExampleJWTBearer_Audience() {
	for _, login := range []string{"https://acme.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com"} {
		ts, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: login, ConsumerKey: "3MVG9example", Username: "integration@acme.com",
			Signer: key, HTTPClient: http.DefaultClient})
		if err != nil {
			panic(err)
		}
		fmt.Println(ts.Audience(), ts.TokenURL())
	}
	// Output:
	// https://login.salesforce.com https://acme.my.salesforce.com:8443/services/oauth2/token
	// https://test.salesforce.com https://acme--uat.sandbox.my.salesforce.com:8443/services/oauth2/token
}

// key stands for the JWT signing key, from keystore.LoadFile in production.
var key, _ = rsa.GenerateKey(rand.Reader, 2048)
