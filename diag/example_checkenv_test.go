package diag_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/diag"
)

// Check the connection the SF_* settings describe, as sfmtls check does; a
// keystore that cannot be opened fails its own step, and the report names
// the setting and the file. In a service, pass os.Getenv.
func ExampleCheckEnv() {
	env := map[string]string{
		"SF_LOGIN_URL":     "https://acme.my.salesforce.com",
		"SF_CONSUMER_KEY":  "3MVG9example",
		"SF_USERNAME":      "integration.user@acme.com",
		"SF_MTLS_KEYSTORE": "no-such-dir/mtls.jks",
	}
	report := diag.CheckEnv(context.Background(), func(k string) string { return env[k] }, nil)
	for _, step := range report.Steps {
		fmt.Printf("%-16s %s\n", step.Name, step.Status)
	}
	failed := report.Failed()
	var ce *client.ConfigError
	if errors.As(failed.Err, &ce) {
		fmt.Println("setting:", ce.Setting)
	}
	fmt.Println("names the file:", strings.Contains(failed.Error, "no-such-dir/mtls.jks"))
	// Output:
	// mTLS keystore    failed
	// JWT keystore     skipped
	// TLS handshake    skipped
	// JWT bearer token skipped
	// REST API         skipped
	// setting: SF_MTLS_KEYSTORE
	// names the file: true
}
