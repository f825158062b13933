// Single-pkcs12 uses one CA-signed RSA certificate for both jobs: it is uploaded
// as Mutual Authentication Certificate and to the app for the JWT, and its key
// lives in one PKCS#12 file (.p12/.pfx, as OpenSSL or Windows export it).
//
//	go run ./examples/single-pkcs12
//
// Against a real org: SF_LOGIN_URL, SF_CONSUMER_KEY, SF_USERNAME,
// SF_MTLS_KEYSTORE=client.p12 and SF_MTLS_KEYSTORE_PASSWORD, no SF_JWT_KEYSTORE
// (the JWT identity defaults to the mTLS one); without SF_LOGIN_URL, a fake
// org. It imports only public packages: copy it.
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
	"path/filepath"
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

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	cfg, path, password, stop, err := setup(w, getenv)
	if err != nil {
		return err
	}
	defer stop()

	id, err := keystore.LoadFile(path, keystore.Options{Password: password})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "client.p12 (%s): %s, chain of %d, one key for mutual TLS and the JWT\n",
		id.SourceFormat(), id.Leaf().Subject.CommonName, len(id.Chain()))
	cfg.MTLS = id // JWT left nil: the same identity signs the assertion

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

// setup returns where to connect and the PKCS#12 file with its password: from
// the SF_* settings, or without SF_LOGIN_URL from a fake org set up for one
// identity registered both ways.
func setup(w io.Writer, getenv func(string) string) (transport.Config, string, keystore.Secret, func(), error) {
	if getenv("SF_LOGIN_URL") != "" {
		cfg, err := fromEnv(getenv, "SF_MTLS_KEYSTORE")
		return cfg, getenv("SF_MTLS_KEYSTORE"), keystore.Secret(getenv("SF_MTLS_KEYSTORE_PASSWORD")), func() {}, err
	}
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		return transport.Config{}, "", "", nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-single-pkcs12-")
	if err != nil {
		org.Close()
		return transport.Config{}, "", "", nil, err
	}
	stop := func() { org.Close(); os.RemoveAll(dir) }
	for _, name := range []string{"Acme", "Globex"} {
		if _, err := org.Create("Account", map[string]any{"Name": name}); err != nil {
			stop()
			return transport.Config{}, "", "", nil, err
		}
	}
	// One RSA identity, registered both ways in the (fake) org's setup.
	both, err := org.PKI.NewRSAClientIdentity("integration.user@example.com")
	if err != nil {
		stop()
		return transport.Config{}, "", "", nil, err
	}
	org.RegisterMutualAuthCertificate(both.Leaf())
	org.SetAppCertificate(both.Leaf())
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	pw := hex.EncodeToString(raw)
	path := filepath.Join(dir, "client.p12")
	if err := keystore.WriteFile(path, both, keystore.WriteOptions{Format: keystore.FormatPKCS12, Password: keystore.Secret(pw), Overwrite: true}); err != nil {
		stop()
		return transport.Config{}, "", "", nil, err
	}
	fmt.Fprintf(w, "No SF_LOGIN_URL: using a fake org at %s (keystore in %s).\n", org.URL, dir)
	cfg := org.TransportConfig()
	cfg.MTLS, cfg.JWT = nil, nil // loaded from the file, as from a real org's
	return cfg, path, keystore.Secret(pw), stop, nil
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
