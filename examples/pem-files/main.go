// Pem-files loads PEM files as a CA hands them out: the certificate with its
// intermediates in one file, the private key in another.
//
//	go run ./examples/pem-files
//
// Against a real org: SF_LOGIN_URL, SF_CONSUMER_KEY, SF_USERNAME,
// SF_MTLS_KEYSTORE=client-chain.pem SF_MTLS_KEY_FILE=client.key
// (SF_MTLS_KEY_PASSWORD when the key is encrypted), likewise SF_JWT_KEYSTORE
// and SF_JWT_KEY_FILE; without SF_LOGIN_URL, a fake org. It imports only public
// packages: copy it.
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

// pemFiles are the certificate chains and keys, and the key password if any.
type pemFiles struct {
	mtlsCert, mtlsKey, jwtCert, jwtKey string
	mtlsKeyPW, jwtKeyPW                keystore.Secret
}

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	cfg, files, stop, err := setup(w, getenv)
	if err != nil {
		return err
	}
	defer stop()

	// Certificates (leaf first, then intermediates) in one file, the key in another.
	if cfg.MTLS, err = keystore.LoadFile(files.mtlsCert, keystore.Options{KeyFile: files.mtlsKey, KeyPassword: files.mtlsKeyPW}); err != nil {
		return err
	}
	if cfg.JWT, err = keystore.LoadFile(files.jwtCert, keystore.Options{KeyFile: files.jwtKey, KeyPassword: files.jwtKeyPW}); err != nil {
		return err
	}
	fmt.Fprintf(w, "PEM: %s with %d certificate(s) to send; JWT key for %s\n",
		cfg.MTLS.Leaf().Subject.CommonName, len(cfg.MTLS.Chain()), cfg.JWT.Leaf().Subject.CommonName)

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

// setup returns where to connect and the PEM files: from the SF_* settings, or
// without SF_LOGIN_URL from a fake org, which writes its own.
func setup(w io.Writer, getenv func(string) string) (transport.Config, pemFiles, func(), error) {
	if getenv("SF_LOGIN_URL") != "" {
		cfg, err := fromEnv(getenv, "SF_MTLS_KEYSTORE", "SF_MTLS_KEY_FILE", "SF_JWT_KEYSTORE", "SF_JWT_KEY_FILE")
		files := pemFiles{mtlsCert: getenv("SF_MTLS_KEYSTORE"), mtlsKey: getenv("SF_MTLS_KEY_FILE"),
			jwtCert: getenv("SF_JWT_KEYSTORE"), jwtKey: getenv("SF_JWT_KEY_FILE"),
			mtlsKeyPW: keystore.Secret(getenv("SF_MTLS_KEY_PASSWORD")), jwtKeyPW: keystore.Secret(getenv("SF_JWT_KEY_PASSWORD"))}
		return cfg, files, func() {}, err
	}
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		return transport.Config{}, pemFiles{}, nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-pem-files-")
	if err != nil {
		org.Close()
		return transport.Config{}, pemFiles{}, nil, err
	}
	stop := func() { org.Close(); os.RemoveAll(dir) }
	for _, name := range []string{"Acme", "Globex"} {
		if _, err := org.Create("Account", map[string]any{"Name": name}); err != nil {
			stop()
			return transport.Config{}, pemFiles{}, nil, err
		}
	}
	written, err := org.PKI.WriteFiles(dir, "unused: the PEM keys are not encrypted")
	if err != nil {
		stop()
		return transport.Config{}, pemFiles{}, nil, err
	}
	fmt.Fprintf(w, "No SF_LOGIN_URL: using a fake org at %s (PEM files in %s).\n", org.URL, dir)
	cfg := org.TransportConfig()
	cfg.MTLS, cfg.JWT = nil, nil // loaded from the files below, as from a real org's
	return cfg, pemFiles{mtlsCert: written.MTLSCert, mtlsKey: written.MTLSKey, jwtCert: written.JWTCert, jwtKey: written.JWTKey}, stop, nil
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
