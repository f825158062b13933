// Mulesoft shows the layout of MuleSoft's Salesforce Connector setup: mtls.jks
// holds the CA-signed certificate uploaded as Mutual Authentication Certificate,
// mulesoft.jks the key whose certificate is uploaded to the app for the JWT,
// each chosen by its alias as Mule's Salesforce Config does.
//
//	go run ./examples/mulesoft
//
// It reads the SF_* settings with client.ConfigFromEnv. Against a real org:
// SF_LOGIN_URL, SF_CONSUMER_KEY, SF_USERNAME, SF_MTLS_KEYSTORE=mtls.jks with
// SF_MTLS_ALIAS=mtls, SF_JWT_KEYSTORE=mulesoft.jks with SF_JWT_ALIAS=mulesoft,
// and their SF_*_KEYSTORE_PASSWORD (SF_CA_FILE, SF_MTLS_PORT when needed).
// Without SF_LOGIN_URL it starts a fake org, writes the two stores for it and
// reads the same settings pointed at them. It imports only public packages:
// copy it.
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
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	if getenv("SF_LOGIN_URL") == "" {
		env, stop, err := fakeOrg(w)
		if err != nil {
			return err
		}
		defer stop()
		getenv = env
	}
	// The two stores Mule's Salesforce Config points at, each with its alias.
	cfg, err := client.ConfigFromEnv(getenv)
	if getenv("SF_JWT_KEYSTORE") == "" { // else ConfigFromEnv would sign with mtls.jks
		err = errors.Join(err, &client.ConfigError{Field: "JWT", Setting: "SF_JWT_KEYSTORE", Problem: "not set",
			Remedy: "set SF_JWT_KEYSTORE to mulesoft.jks, the key whose certificate the app holds"})
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "mtls.jks: %s, issued by %s\nmulesoft.jks: %s (self-signed: fine for the JWT)\n",
		cfg.MTLS.Leaf().Subject.CommonName, cfg.MTLS.Leaf().Issuer.CommonName, cfg.JWT.Leaf().Subject.CommonName)

	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := c.APIVersion(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, err := range client.Query[map[string]any](ctx, c, "SELECT Id, Name FROM Account LIMIT 10") {
		if err != nil {
			return err
		}
		n++
	}
	fmt.Fprintf(w, "connected over mutual TLS: API v%s, %d Account records read, %d token request(s)\n", v, n, c.Stats().TokenFetches)
	return nil
}

// fakeOrg starts a fake org with two Accounts, writes mtls.jks and mulesoft.jks
// for it and returns the SF_* settings that point at them.
func fakeOrg(w io.Writer) (getenv func(string) string, stop func(), err error) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-mulesoft-")
	if err != nil {
		org.Close()
		return nil, nil, err
	}
	stop = func() { org.Close(); os.RemoveAll(dir) }
	for _, name := range []string{"Acme", "Globex"} {
		if _, err := org.Data().Create("Account", map[string]any{"Name": name}); err != nil {
			stop()
			return nil, nil, err
		}
	}
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	pw := hex.EncodeToString(raw)
	files, err := org.PKI.WriteFiles(dir, pw)
	if err != nil {
		stop()
		return nil, nil, err
	}
	fmt.Fprintf(w, "No SF_LOGIN_URL: using a fake org at %s (keystores in %s).\n", org.URL, dir)
	env := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_MTLS_PORT": strconv.Itoa(org.Port), "SF_AUDIENCE": org.Audience,
		"SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSJKS, "SF_MTLS_KEYSTORE_PASSWORD": pw, "SF_MTLS_ALIAS": "mtls",
		"SF_JWT_KEYSTORE": files.JWTJKS, "SF_JWT_KEYSTORE_PASSWORD": pw, "SF_JWT_ALIAS": "mulesoft",
		"SF_CA_FILE": files.ServerCA, // the fake org's server is signed by its own CA
	}
	return func(k string) string { return env[k] }, stop, nil
}
