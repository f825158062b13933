package diag_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sfmtls/sfmtls/diag"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Check a connection step by step; here to a fake org whose user is not
// pre-authorized, so the token step fails with its fix.
func ExampleCheck() {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer org.Close()
	org.Setup().PreAuthorize(org.Username, false)

	report := diag.Check(context.Background(), org.ClientConfig())
	for _, step := range report.Steps {
		fmt.Printf("%-16s %s\n", step.Name, step.Status)
	}
	if f := report.Failed(); f != nil {
		fmt.Println("fix:", f.Fix[:22])
	}
	// Output:
	// mTLS keystore    ok
	// JWT keystore     ok
	// TLS handshake    ok
	// JWT bearer token failed
	// REST API         skipped
	// fix: pre-authorize the user
}
