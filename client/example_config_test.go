package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Read the Config from the SF_* settings, as a service or the sfmtls tool
// does, then query. Here the settings point at a fake org and the keystore
// files it wrote; for a real org they come from the environment
// (client.ConfigFromEnv(os.Getenv)).
func ExampleConfigFromEnv() {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		panic(err)
	}
	defer org.Close()
	if _, err := org.Data().Create("Account", map[string]any{"Name": "Acme"}); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "sfmtls-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	files, err := org.PKI.WriteFiles(dir, "changeit")
	if err != nil {
		panic(err)
	}
	env := map[string]string{
		"SF_LOGIN_URL":              org.URL,
		"SF_MTLS_PORT":              strconv.Itoa(org.Port),
		"SF_AUDIENCE":               org.Audience,
		"SF_CONSUMER_KEY":           org.ConsumerKey,
		"SF_USERNAME":               org.Username,
		"SF_MTLS_KEYSTORE":          files.MTLSJKS,
		"SF_MTLS_KEYSTORE_PASSWORD": "changeit",
		"SF_JWT_KEYSTORE":           files.JWTPKCS12,
		"SF_JWT_KEYSTORE_PASSWORD":  "changeit",
		"SF_CA_FILE":                files.ServerCA, // the fake org's server CA
	}

	cfg, err := client.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		panic(err)
	}
	c, err := client.New(cfg)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	for a, err := range client.Query[struct{ Name string }](context.Background(), c, "SELECT Name FROM Account") {
		if err != nil {
			panic(err)
		}
		fmt.Println(a.Name)
	}
	// Output: Acme
}

// Every setting that is missing comes back at once, each a
// *client.ConfigError naming the Config field and the SF_* variable.
func ExampleConfigFromEnv_missingSettings() {
	env := map[string]string{"SF_LOGIN_URL": "https://acme.my.salesforce.com"}
	_, err := client.ConfigFromEnv(func(k string) string { return env[k] })
	fmt.Println(errors.Is(err, client.ErrConfig))
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *client.ConfigError
		if errors.As(e, &ce) {
			fmt.Println(ce.Field, ce.Setting)
		}
	}
	// Output:
	// true
	// ConsumerKey SF_CONSUMER_KEY
	// Username SF_USERNAME
	// MTLS SF_MTLS_KEYSTORE
}
