// Pem-files loads PEM files as a CA hands them out: the certificate with its
// intermediates in one file, the private key in another.
//
//	go run ./examples/pem-files
//
// It reads the SF_* settings with client.ConfigFromEnv. Against a real org:
// SF_LOGIN_URL, SF_CONSUMER_KEY, SF_USERNAME, SF_MTLS_KEYSTORE=client-chain.pem
// SF_MTLS_KEY_FILE=client.key (SF_MTLS_KEY_PASSWORD when the key is
// encrypted), likewise SF_JWT_KEYSTORE and SF_JWT_KEY_FILE. Without
// SF_LOGIN_URL it starts a fake org, writes its PEM files and reads the same
// settings pointed at them. It imports only public packages: copy it.
package main

import (
	"context"
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
	// Certificates (leaf first, then intermediates) in one file, the key in
	// another: ConfigFromEnv loads SF_*_KEYSTORE with SF_*_KEY_FILE.
	cfg, err := client.ConfigFromEnv(getenv)
	for _, s := range []struct{ field, setting, what string }{
		{"MTLS", "SF_MTLS_KEY_FILE", "the PEM file of the client certificate's key"},
		{"JWT", "SF_JWT_KEYSTORE", "the PEM file of the certificate the app holds"},
		{"JWT", "SF_JWT_KEY_FILE", "the PEM file of its key"},
	} {
		if getenv(s.setting) == "" { // the layout this example shows
			err = errors.Join(err, &client.ConfigError{Field: s.field, Setting: s.setting, Problem: "not set",
				Remedy: "set " + s.setting + " to " + s.what})
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "PEM: %s with %d certificate(s) to send; JWT key for %s\n",
		cfg.MTLS.Leaf().Subject.CommonName, len(cfg.MTLS.Chain()), cfg.JWT.Leaf().Subject.CommonName)

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

// fakeOrg starts a fake org with two Accounts, writes its PEM files and
// returns the SF_* settings that point at them.
func fakeOrg(w io.Writer) (getenv func(string) string, stop func(), err error) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-pem-files-")
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
	files, err := org.PKI.WriteFiles(dir, "unused: the PEM keys are not encrypted")
	if err != nil {
		stop()
		return nil, nil, err
	}
	fmt.Fprintf(w, "No SF_LOGIN_URL: using a fake org at %s (PEM files in %s).\n", org.URL, dir)
	env := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_MTLS_PORT": strconv.Itoa(org.Port), "SF_AUDIENCE": org.Audience,
		"SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": files.MTLSCert, "SF_MTLS_KEY_FILE": files.MTLSKey,
		"SF_JWT_KEYSTORE": files.JWTCert, "SF_JWT_KEY_FILE": files.JWTKey,
		"SF_CA_FILE": files.ServerCA, // the fake org's server is signed by its own CA
	}
	return func(k string) string { return env[k] }, stop, nil
}
