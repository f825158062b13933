// Mulesoft shows the layout of MuleSoft's Salesforce Connector setup: mtls.jks
// holds the CA-signed certificate uploaded as Mutual Authentication Certificate,
// mulesoft.jks the key whose certificate is uploaded to the app for the JWT,
// each chosen by its alias as Mule's Salesforce Config does.
//
//	go run ./examples/mulesoft
//
// Against a real org: SF_LOGIN_URL, SF_CONSUMER_KEY, SF_USERNAME,
// SF_MTLS_KEYSTORE=mtls.jks, SF_JWT_KEYSTORE=mulesoft.jks and their
// SF_*_KEYSTORE_PASSWORD (SF_CA_FILE, SF_MTLS_PORT when needed); without
// SF_LOGIN_URL, a fake org. It imports only public packages: copy it.
package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
		log.Fatal(err)
	}
}

// stores are the two keystores of Mule's setup and their passwords.
type stores struct {
	mtls, jwt     string
	mtlsPW, jwtPW keystore.Secret
}

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	cfg, files, stop, err := setup(w, getenv)
	if err != nil {
		return err
	}
	defer stop()

	// The two stores Mule's Salesforce Config points at, each with its alias.
	if cfg.MTLS, err = keystore.LoadFile(files.mtls, keystore.Options{Password: files.mtlsPW, Alias: "mtls"}); err != nil {
		return err
	}
	if cfg.JWT, err = keystore.LoadFile(files.jwt, keystore.Options{Password: files.jwtPW, Alias: "mulesoft"}); err != nil {
		return err
	}
	fmt.Fprintf(w, "mtls.jks: %s, issued by %s\nmulesoft.jks: %s (self-signed: fine for the JWT)\n",
		cfg.MTLS.Leaf().Subject.CommonName, cfg.MTLS.Leaf().Issuer.CommonName, cfg.JWT.Leaf().Subject.CommonName)

	c, err := client.New(client.Config{Config: cfg})
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

// setup returns where to connect and the keystore files: from the SF_*
// settings, or without SF_LOGIN_URL from a fake org, which writes its own.
func setup(w io.Writer, getenv func(string) string) (transport.Config, stores, func(), error) {
	if getenv("SF_LOGIN_URL") != "" {
		cfg, err := fromEnv(getenv, "SF_MTLS_KEYSTORE", "SF_JWT_KEYSTORE")
		files := stores{mtls: getenv("SF_MTLS_KEYSTORE"), jwt: getenv("SF_JWT_KEYSTORE"),
			mtlsPW: keystore.Secret(getenv("SF_MTLS_KEYSTORE_PASSWORD")), jwtPW: keystore.Secret(getenv("SF_JWT_KEYSTORE_PASSWORD"))}
		return cfg, files, func() {}, err
	}
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		return transport.Config{}, stores{}, nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-mulesoft-")
	if err != nil {
		org.Close()
		return transport.Config{}, stores{}, nil, err
	}
	stop := func() { org.Close(); os.RemoveAll(dir) }
	for _, name := range []string{"Acme", "Globex"} {
		if _, err := org.Create("Account", map[string]any{"Name": name}); err != nil {
			stop()
			return transport.Config{}, stores{}, nil, err
		}
	}
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	pw := hex.EncodeToString(raw)
	written, err := org.PKI.WriteFiles(dir, pw)
	if err != nil {
		stop()
		return transport.Config{}, stores{}, nil, err
	}
	fmt.Fprintf(w, "No SF_LOGIN_URL: using a fake org at %s (keystores in %s).\n", org.URL, dir)
	cfg := org.TransportConfig()
	cfg.MTLS, cfg.JWT = nil, nil // loaded from the files below, as from a real org's
	return cfg, stores{mtls: written.MTLSJKS, jwt: written.JWTJKS, mtlsPW: keystore.Secret(pw), jwtPW: keystore.Secret(pw)}, stop, nil
}

// fromEnv reads where the org is and who logs in; required names the settings
// this example needs beyond those.
func fromEnv(getenv func(string) string, required ...string) (transport.Config, error) {
	var missing []string
	for _, name := range append([]string{"SF_LOGIN_URL", "SF_CONSUMER_KEY", "SF_USERNAME"}, required...) {
		if getenv(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return transport.Config{}, fmt.Errorf("missing settings: %s (see the README's Configuration)", strings.Join(missing, ", "))
	}
	cfg := transport.Config{LoginURL: getenv("SF_LOGIN_URL"), Audience: getenv("SF_AUDIENCE"),
		ConsumerKey: getenv("SF_CONSUMER_KEY"), Username: getenv("SF_USERNAME")}
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
	return cfg, nil
}
