// Bulk upserts a CSV of Accounts with Bulk API 2.0, keyed by an external id
// field, streams the per-record results, then extracts the Accounts again with
// a Bulk API 2.0 query into your own struct, page by page.
//
//	go run ./examples/bulk
//
// It reads the SF_* settings of docs/setup.md with client.ConfigFromEnv. Against a
// real org, set SF_BULK_EXTERNAL_ID to an external id field of Account too; the
// example's Accounts are deleted at the end. With neither SF_LOGIN_URL nor
// SF_MTLS_KEYSTORE set it starts a fake org in-process, declares the external
// id field Account.External_Id__c there, writes its keystores and reads the
// same settings pointed at them. It imports only public packages: copy it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/soql"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
		log.Fatal(err)
	}
}

// account is one row: the sf tags name the CSV columns (json tags work too).
type account struct {
	ID                string `sf:"Id"`
	Name              string `sf:"Name"`
	Industry          string `sf:"Industry,omitempty"`
	NumberOfEmployees *int   `sf:"NumberOfEmployees"`
}

const accountsCSV = `External_Id__c,Name,Industry,NumberOfEmployees
BULK-EX-1,Acme Rockets,Manufacturing,120
BULK-EX-2,"Globex, Inc.",Energy,#N/A
BULK-EX-3,Initech,Technology,42
`

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	c, extID, done, err := connect(w, getenv)
	if err != nil {
		return err
	}
	defer done()
	b := bulk.NewClient(c, bulk.Options{PollInterval: 200 * time.Millisecond})

	// 1. Upsert the CSV: one job per 100 MB, gzip on the wire, progress while waiting.
	csv := strings.ReplaceAll(accountsCSV, "External_Id__c", extID)
	in, err := b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Upsert, ExternalIDField: extID},
		strings.NewReader(csv), func(p bulk.Progress) {
			if p.Done {
				fmt.Fprintf(w, "1. upsert: %d processed, %d failed in %d job(s)\n", p.Processed, p.Failed, p.Jobs)
			}
		})
	if err != nil {
		return err
	}
	var ids []string
	for r, err := range bulk.Successful[account](ctx, in.Jobs...) {
		if err != nil {
			return err
		}
		ids = append(ids, r.ID)
		fmt.Fprintf(w, "2. %s %s (created: %t)\n", r.ID, r.Record.Name, r.Created)
	}
	for r, err := range bulk.Failed[account](ctx, in.Jobs...) {
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "2. failed: %s: %s\n", r.Record.Name, r.Error)
	}

	// 3. Extract them again with a query job, decoded into the struct.
	q, err := soql.Format("SELECT Id, Name, Industry, NumberOfEmployees FROM Account WHERE Id IN ? ORDER BY Name", ids)
	if err != nil {
		return err
	}
	job, _, err := b.Query(ctx, bulk.QuerySpec{Query: q}, nil)
	if err != nil {
		return err
	}
	for a, err := range bulk.Records[account](ctx, job, 0) {
		if err != nil {
			return err
		}
		employees := "null"
		if a.NumberOfEmployees != nil {
			employees = fmt.Sprint(*a.NumberOfEmployees)
		}
		fmt.Fprintf(w, "3. extracted %s %q industry=%s employees=%s\n", a.ID, a.Name, a.Industry, employees)
	}

	// 4. Clean up: delete the Accounts with a delete job, and the jobs.
	delCSV := "Id\n" + strings.Join(ids, "\n") + "\n"
	del, err := b.Ingest(ctx, bulk.IngestSpec{Object: "Account", Operation: bulk.Delete}, strings.NewReader(delCSV), nil)
	if err != nil {
		return err
	}
	for _, j := range append(in.Jobs, del.Jobs...) {
		if err := j.Delete(ctx); err != nil {
			return err
		}
	}
	if err := job.Delete(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "4. done: deleted %d Accounts and the jobs\n", del.Processed-del.Failed)
	return nil
}

// connect reads the SF_* settings, from a fake org's when none are set, and
// the external id field the upsert keys on.
func connect(w io.Writer, getenv func(string) string) (c *client.Client, extID string, done func(), err error) {
	stop := func() {}
	if getenv("SF_LOGIN_URL") == "" && getenv("SF_MTLS_KEYSTORE") == "" {
		if getenv, stop, err = fakeOrg(w); err != nil {
			return nil, "", nil, err
		}
	}
	cfg, err := client.ConfigFromEnv(getenv)
	if extID = getenv("SF_BULK_EXTERNAL_ID"); extID == "" {
		err = errors.Join(errors.New("set SF_BULK_EXTERNAL_ID to an external id field of Account for the upsert"), err)
	}
	if err == nil {
		c, err = client.New(cfg)
	}
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	return c, extID, func() { _ = c.Close(); stop() }, nil
}

// fakeOrg starts a fake org with the external id field Account.External_Id__c,
// writes its keystores and returns the SF_* settings that point at them.
func fakeOrg(w io.Writer) (getenv func(string) string, stop func(), err error) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-bulk-")
	if err != nil {
		org.Close()
		return nil, nil, err
	}
	stop = func() { org.Close(); os.RemoveAll(dir) }
	if err := org.Setup().DefineFields("Account", salesforcetest.Field{Name: "External_Id__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true}); err != nil {
		stop()
		return nil, nil, err
	}
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	pw := hex.EncodeToString(raw)
	files, err := org.PKI.WriteFiles(dir, pw)
	if err != nil {
		stop()
		return nil, nil, err
	}
	fmt.Fprintf(w, "No SF_* settings: using a fake org at %s.\n", org.URL)
	env := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_MTLS_PORT": strconv.Itoa(org.Port), "SF_AUDIENCE": org.Audience,
		"SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSPKCS12, "SF_MTLS_KEYSTORE_PASSWORD": pw,
		"SF_JWT_KEYSTORE": files.JWTPKCS12, "SF_JWT_KEYSTORE_PASSWORD": pw,
		"SF_CA_FILE":          files.ServerCA, // the fake org's server is signed by its own CA
		"SF_BULK_EXTERNAL_ID": "External_Id__c",
	}
	return func(k string) string { return env[k] }, stop, nil
}
