// Quickstart runs the whole flow: load the keystores, get a token over mutual
// TLS, query with paging, then create, update and delete a record.
//
//	go run ./examples/quickstart
//
// With no SF_LOGIN_URL it starts a fake org in-process (salesforcetest) and
// writes a JKS and a PKCS#12 keystore for it. With SF_LOGIN_URL,
// SF_CONSUMER_KEY, SF_USERNAME, SF_MTLS_KEYSTORE and the other SF_* settings
// of the README it runs the same against a real org: the Account it creates is
// deleted at the end.
//
// It imports only the SDK's public packages: copy it into your own module.
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
	return nil
}

// configure reads the SF_* settings, or without SF_LOGIN_URL starts a fake org
// with a JKS for mutual TLS and a PKCS#12 for the JWT. stop ends the fake org.
func configure(w io.Writer, getenv func(string) string) (cfg client.Config, stop func(), err error) {
	if getenv("SF_LOGIN_URL") != "" || getenv("SF_MTLS_KEYSTORE") != "" {
		cfg, err = fromEnv(getenv)
		return cfg, func() {}, err
	}
	org, err := salesforcetest.Start(salesforcetest.Config{PageSize: 2})
	if err != nil {
		return cfg, nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-quickstart-")
	if err != nil {
		org.Close()
		return cfg, nil, err
	}
	stop = func() { org.Close(); os.RemoveAll(dir) }
	for _, name := range []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli"} {
		if _, err := org.Create("Account", map[string]any{"Name": name}); err != nil {
			stop()
			return cfg, nil, err
		}
	}
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	password := hex.EncodeToString(raw)
	files, err := org.PKI.WriteFiles(dir, password)
	if err != nil {
		stop()
		return cfg, nil, err
	}
	fmt.Fprintf(w, "No SF_* settings: using a fake org at %s (keystores in %s).\n", org.URL, dir)

	// What a real configuration does: load the two keystores from files.
	cfg = client.Config{Config: org.TransportConfig()}
	if cfg.MTLS, err = keystore.LoadFile(files.MTLSJKS, keystore.Options{Password: keystore.Secret(password)}); err != nil {
		stop()
		return cfg, nil, err
	}
	if cfg.JWT, err = keystore.LoadFile(files.JWTPKCS12, keystore.Options{Password: keystore.Secret(password)}); err != nil {
		stop()
		return cfg, nil, err
	}
	return cfg, stop, nil
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
