// Single-pkcs12 uses one CA-signed RSA certificate for both jobs: it is uploaded
// as Mutual Authentication Certificate and to the app for the JWT, and its key
// lives in one PKCS#12 file (.p12/.pfx, as OpenSSL or Windows export it).
//
//	go run ./examples/single-pkcs12
//
// It reads the SF_* settings with client.ConfigFromEnv. Against a real org:
// SF_LOGIN_URL, SF_CONSUMER_KEY, SF_USERNAME, SF_MTLS_KEYSTORE=client.p12 and
// SF_MTLS_KEYSTORE_PASSWORD, no SF_JWT_KEYSTORE (the JWT identity defaults to
// the mTLS one). Without SF_LOGIN_URL it starts a fake org that registers one
// identity both ways, writes it as client.p12 and reads the same settings
// pointed at it. It imports only public packages: copy it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
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
	cfg, err := client.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	// cfg.JWT is nil (no SF_JWT_KEYSTORE): the same identity signs the assertion.
	fmt.Fprintf(w, "client.p12 (%s): %s, chain of %d, one key for mutual TLS and the JWT\n",
		cfg.MTLS.SourceFormat(), cfg.MTLS.Leaf().Subject.CommonName, len(cfg.MTLS.Chain()))

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

// fakeOrg starts a fake org with two Accounts and one RSA identity registered
// both ways, writes it as client.p12 and returns the SF_* settings that point
// at it.
func fakeOrg(w io.Writer) (getenv func(string) string, stop func(), err error) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-single-pkcs12-")
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
	// One RSA identity, registered both ways in the (fake) org's setup.
	both, err := org.PKI.NewRSAClientIdentity(org.Username)
	if err != nil {
		stop()
		return nil, nil, err
	}
	org.Setup().RegisterMutualAuthCertificate(both.Leaf())
	org.Setup().SetAppCertificate(both.Leaf())
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	pw := hex.EncodeToString(raw)
	path := filepath.Join(dir, "client.p12")
	if err := keystore.WriteFile(path, both, keystore.WriteOptions{Format: keystore.FormatPKCS12, Password: keystore.Secret(pw), Overwrite: true}); err != nil {
		stop()
		return nil, nil, err
	}
	files, err := org.PKI.WriteFiles(dir, pw) // for files.ServerCA
	if err != nil {
		stop()
		return nil, nil, err
	}
	fmt.Fprintf(w, "No SF_LOGIN_URL: using a fake org at %s (keystore in %s).\n", org.URL, dir)
	env := map[string]string{
		"SF_LOGIN_URL": org.URL, "SF_MTLS_PORT": strconv.Itoa(org.Port), "SF_AUDIENCE": org.Audience,
		"SF_CONSUMER_KEY": org.ConsumerKey, "SF_USERNAME": org.Username,
		"SF_MTLS_KEYSTORE": path, "SF_MTLS_KEYSTORE_PASSWORD": pw,
		"SF_CA_FILE": files.ServerCA, // the fake org's server is signed by its own CA
	}
	return func(k string) string { return env[k] }, stop, nil
}
