// Quickstart runs the whole flow: load the keystores, get a token over mutual
// TLS, query with paging, then create, update and delete a record.
//
//	go run ./examples/quickstart
//
// With no SF_* settings it starts a fake org in-process and writes a JKS and a
// PKCS#12 keystore for it. With SF_LOGIN_URL, SF_CONSUMER_KEY, SF_USERNAME,
// SF_MTLS_KEYSTORE (and the rest of the settings in the README) it runs the same
// against a real org: the Account it creates is deleted at the end.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/demo"
	"github.com/sfmtls/sfmtls/keystore"
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
	cfg, done, err := configure(w, getenv)
	if err != nil {
		return err
	}
	defer done()
	fmt.Fprintf(w, "1. keystores: mTLS %s (%s), JWT %s (%s)\n",
		cfg.MTLS.Leaf().Subject.CommonName, cfg.MTLS.SourceFormat(), cfg.JWT.Leaf().Subject.CommonName, cfg.JWT.SourceFormat())

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
	base, _ := c.InstanceURL(ctx)
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
	return nil
}

// configure uses the SF_* settings, or a fake org with a JKS for mutual TLS and
// a PKCS#12 for the JWT.
func configure(w io.Writer, getenv func(string) string) (client.Config, func(), error) {
	if s := demo.Settings(getenv); s != nil {
		cfg, err := s.ClientConfig(getenv)
		return cfg, func() {}, err
	}
	env, err := demo.StartFakeOrg(w, 2)
	if err != nil {
		return client.Config{}, nil, err
	}
	cfg := env.FakeClientConfig()
	pw := keystore.Secret(env.Password)
	if cfg.MTLS, err = keystore.LoadFile(env.Files.MTLSJKS, keystore.Options{Password: pw}); err != nil {
		env.Close()
		return client.Config{}, nil, err
	}
	if cfg.JWT, err = keystore.LoadFile(env.Files.JWTPKCS12, keystore.Options{Password: pw}); err != nil {
		env.Close()
		return client.Config{}, nil, err
	}
	return cfg, env.Close, nil
}
