// Quickstart runs the whole flow: load the keystores, get a token over mutual
// TLS, query with paging, then create, update and delete a record.
//
//	go run ./examples/quickstart
//
// With no SF_* settings it starts a fake org in-process (salesforcetest),
// writes a JKS and a PKCS#12 keystore for it in a temporary folder, runs
// against it, and removes the folder at the end.
//
// To run it against a real org, set at least SF_LOGIN_URL (the My Domain URL),
// SF_CONSUMER_KEY, SF_USERNAME, SF_MTLS_KEYSTORE and
// SF_MTLS_KEYSTORE_PASSWORD, and SF_JWT_KEYSTORE with its
// SF_JWT_KEYSTORE_PASSWORD when another key signs the JWT: it reads them with
// client.ConfigFromEnv (docs/setup.md lists every SF_* setting). The Account
// it creates there is deleted at the end.
//
// It imports only the SDK's public packages: copy it into your own module.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
		log.Fatal(err)
	}
}

type account struct {
	ID   string `json:"Id,omitempty"`
	Name string `json:"Name"`
}

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	cfg, stop, err := configure(w, getenv)
	if err != nil {
		return err
	}
	defer stop()
	jwt := cfg.JWT
	if jwt == nil { // no SF_JWT_KEYSTORE: the mTLS identity signs the JWT too
		jwt = cfg.MTLS
	}
	fmt.Fprintf(w, "1. keystores: mTLS %s (%s), JWT %s (%s)\n",
		cfg.MTLS.Leaf().Subject.CommonName, cfg.MTLS.SourceFormat(), jwt.Leaf().Subject.CommonName, jwt.SourceFormat())

	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tok, err := c.Token(ctx)
	if err != nil {
		return err
	}
	base, err := c.InstanceURL(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "2. token over mutual TLS from %s; API calls go to %s\n", c.Transport().TokenURL(), base)

	n := 0
	for a, err := range client.Query[account](ctx, c, "SELECT Id, Name FROM Account ORDER BY Name LIMIT 5") {
		if err != nil {
			return err
		}
		n++
		fmt.Fprintf(w, "3. query: %s\n", a.Name)
	}
	fmt.Fprintf(w, "3. query: %d records (pages fetched as the loop went)\n", n)

	id, err := c.Create(ctx, "Account", account{Name: "sfmtls quickstart"})
	if err != nil {
		return err
	}
	if err := c.Update(ctx, "Account", id, map[string]any{"Name": "sfmtls quickstart (updated)"}); err != nil {
		return err
	}
	var got account
	if err := c.Get(ctx, "Account", id, []string{"Name"}, &got); err != nil {
		return err
	}
	if err := c.Delete(ctx, "Account", id); err != nil {
		return err
	}
	fmt.Fprintf(w, "4. created, updated to %q, and deleted Account %s\n", got.Name, id)
	st := c.Stats()
	fmt.Fprintf(w, "5. done: %d token request(s), %d refresh(es); token type %s\n", st.TokenFetches, st.Refreshes, tok.TokenType)
	if getenv("SF_LOGIN_URL") == "" && getenv("SF_MTLS_KEYSTORE") == "" {
		fmt.Fprintln(w, "That was a fake org. To run against your org, set SF_LOGIN_URL (its My Domain URL),")
		fmt.Fprintln(w, "SF_CONSUMER_KEY, SF_USERNAME, SF_MTLS_KEYSTORE and SF_MTLS_KEYSTORE_PASSWORD, plus")
		fmt.Fprintln(w, "SF_JWT_KEYSTORE and SF_JWT_KEYSTORE_PASSWORD if another key signs the JWT (docs/setup.md).")
	}
	return nil
}

// configure reads the SF_* settings, from a fake org's when none are set.
// stop ends the fake org.
func configure(w io.Writer, getenv func(string) string) (cfg client.Config, stop func(), err error) {
	stop = func() {}
	if getenv("SF_LOGIN_URL") == "" && getenv("SF_MTLS_KEYSTORE") == "" {
		if getenv, stop, err = fakeOrg(w); err != nil {
			return cfg, nil, err
		}
	}
	if cfg, err = client.ConfigFromEnv(getenv); err != nil {
		stop()
		return cfg, nil, err
	}
	return cfg, stop, nil
}

// fakeOrg starts a fake org with five Accounts, writes its keystores and
// returns the SF_* settings that point at them.
func fakeOrg(w io.Writer) (getenv func(string) string, stop func(), err error) {
	org, err := salesforcetest.Start(salesforcetest.Config{PageSize: 2})
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-quickstart-")
	if err != nil {
		org.Close()
		return nil, nil, err
	}
	stop = func() { org.Close(); os.RemoveAll(dir) }
	for _, name := range []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli"} {
		if _, err := org.Data().Create("Account", map[string]any{"Name": name}); err != nil {
			stop()
			return nil, nil, err
		}
	}
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	password := hex.EncodeToString(raw)
	files, err := org.PKI.WriteFiles(dir, password)
	if err != nil {
		stop()
		return nil, nil, err
	}
	fmt.Fprintf(w, "No SF_* settings: using a fake org at %s, with keystores made for it.\n", org.URL)
	env := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_MTLS_PORT": strconv.Itoa(org.Port), "SF_AUDIENCE": org.Audience,
		"SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSJKS, "SF_MTLS_KEYSTORE_PASSWORD": password,
		"SF_JWT_KEYSTORE": files.JWTPKCS12, "SF_JWT_KEYSTORE_PASSWORD": password,
		"SF_CA_FILE": files.ServerCA, // the fake org's server is signed by its own CA
	}
	return func(k string) string { return env[k] }, stop, nil
}
