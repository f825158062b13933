// Bulk upserts a CSV of Accounts with Bulk API 2.0, keyed by an external id
// field, streams the per-record results, then extracts the Accounts again with
// a Bulk API 2.0 query into your own struct, page by page.
//
//	go run ./examples/bulk
//
// With no SF_* settings it starts a fake org in-process, declares the external
// id field Account.External_Id__c there and runs against it. Against a real
// org (the SF_* settings of the README), set SF_BULK_EXTERNAL_ID to an
// external id field of Account; the example's Accounts are deleted at the end.
package main

import (
	"context"
	"crypto/x509"
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
	"github.com/sfmtls/sfmtls/keystore"
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

// connect uses the SF_* settings, or a fake org with Account.External_Id__c.
func connect(w io.Writer, getenv func(string) string) (*client.Client, string, func(), error) {
	if getenv("SF_LOGIN_URL") != "" || getenv("SF_MTLS_KEYSTORE") != "" {
		extID := getenv("SF_BULK_EXTERNAL_ID")
		if extID == "" {
			return nil, "", nil, fmt.Errorf("set SF_BULK_EXTERNAL_ID to an external id field of Account for the upsert")
		}
		cfg, err := fromEnv(getenv)
		if err != nil {
			return nil, "", nil, err
		}
		c, err := client.New(cfg)
		if err != nil {
			return nil, "", nil, err
		}
		return c, extID, func() { _ = c.Close() }, nil
	}
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		return nil, "", nil, err
	}
	if err := org.DefineFields("Account", salesforcetest.Field{Name: "External_Id__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true}); err != nil {
		org.Close()
		return nil, "", nil, err
	}
	fmt.Fprintf(w, "No SF_* settings: using a fake org at %s.\n", org.URL)
	c, err := client.New(client.Config{Config: org.TransportConfig()})
	if err != nil {
		org.Close()
		return nil, "", nil, err
	}
	return c, "External_Id__c", func() { _ = c.Close(); org.Close() }, nil
}

// fromEnv reads the settings the README's Configuration lists. Passwords come
// from the environment only (the sfmtls tool also reads password files).
func fromEnv(getenv func(string) string) (client.Config, error) {
	var missing []string
	need := func(name string) string {
		v := getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	var cfg client.Config
	cfg.LoginURL = need("SF_LOGIN_URL")
	cfg.ConsumerKey = need("SF_CONSUMER_KEY")
	cfg.Username = need("SF_USERNAME")
	mtlsPath := need("SF_MTLS_KEYSTORE")
	if len(missing) > 0 {
		return cfg, fmt.Errorf("missing settings: %s (see the README's Configuration)", strings.Join(missing, ", "))
	}
	cfg.Audience = getenv("SF_AUDIENCE")
	cfg.APIVersion = getenv("SF_API_VERSION")
	if p := getenv("SF_MTLS_PORT"); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil {
			return cfg, fmt.Errorf("SF_MTLS_PORT %q is not a port number", p)
		}
		cfg.Port = port
	}
	if f := getenv("SF_CA_FILE"); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return cfg, fmt.Errorf("SF_CA_FILE: %w", err)
		}
		if cfg.RootCAs, err = x509.SystemCertPool(); err != nil {
			return cfg, err
		}
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return cfg, errors.New("SF_CA_FILE holds no PEM certificate")
		}
	}
	var err error
	if cfg.MTLS, err = load(getenv, "MTLS", mtlsPath); err != nil {
		return cfg, err
	}
	cfg.JWT = cfg.MTLS
	if p := getenv("SF_JWT_KEYSTORE"); p != "" {
		if cfg.JWT, err = load(getenv, "JWT", p); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// load opens the keystore at path with the SF_<ROLE>_* password, alias and key file.
func load(getenv func(string) string, role, path string) (*keystore.Identity, error) {
	return keystore.LoadFile(path, keystore.Options{
		Password:    keystore.Secret(getenv("SF_" + role + "_KEYSTORE_PASSWORD")),
		KeyPassword: keystore.Secret(getenv("SF_" + role + "_KEY_PASSWORD")),
		Alias:       getenv("SF_" + role + "_ALIAS"),
		KeyFile:     getenv("SF_" + role + "_KEY_FILE"),
	})
}
