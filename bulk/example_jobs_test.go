package bulk_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Ingest a CSV, read the failed rows, then query the records back.
func ExampleClient_Ingest() {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer org.Close()
	c, err := client.New(org.ClientConfig()) // your org's settings here
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b := bulk.NewClient(c, bulk.Options{})

	csv := "Name,NumberOfEmployees\nExample One,10\nExample Two,many\n"
	in, err := b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Insert}, strings.NewReader(csv), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d processed, %d failed\n", in.Processed, in.Failed)
	type row struct{ Name, NumberOfEmployees string }
	for r, err := range bulk.Failed[row](ctx, in.Jobs...) {
		if err != nil {
			log.Fatal(err)
		}
		code, _, _ := strings.Cut(r.Error, ":")
		fmt.Println("failed:", r.Record.Name, code)
	}

	job, _, err := b.Query(ctx, bulk.QuerySpec{Query: "SELECT Name FROM Account WHERE Name LIKE 'Example%'"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for a, err := range bulk.Records[row](ctx, job, 0) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("queried:", a.Name)
	}
	// Output:
	// 2 processed, 1 failed
	// failed: Example Two JSON_PARSER_ERROR
	// queried: Example One
}
