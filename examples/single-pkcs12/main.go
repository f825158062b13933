// Single-pkcs12 uses one CA-signed RSA certificate for both jobs: it is uploaded
// as Mutual Authentication Certificate and to the app for the JWT, and its key
// lives in one PKCS#12 file (.p12/.pfx, as OpenSSL or Windows export it).
//
//	go run ./examples/single-pkcs12
//
// Against a real org: SF_MTLS_KEYSTORE=client.p12 and no SF_JWT_KEYSTORE (the
// JWT identity defaults to the mTLS one); without settings, a fake org.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/demo"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	return demo.Run(ctx, w, getenv, func(env *demo.Env) (client.Config, error) {
		// One RSA identity, registered both ways in the (fake) org's setup.
		both, err := env.Org.PKI.NewRSAClientIdentity("integration.user@example.com")
		if err != nil {
			return client.Config{}, err
		}
		env.Org.RegisterMutualAuthCertificate(both.Leaf())
		env.Org.SetAppCertificate(both.Leaf())
		path := filepath.Join(env.Dir, "client.p12")
		if err := salesforcetest.WritePKCS12(path, both, env.Password); err != nil {
			return client.Config{}, err
		}

		id, err := keystore.LoadFile(path, keystore.Options{Password: keystore.Secret(env.Password)})
		if err != nil {
			return client.Config{}, err
		}
		fmt.Fprintf(w, "client.p12 (%s): %s, chain of %d, one key for mutual TLS and the JWT\n",
			id.SourceFormat(), id.Leaf().Subject.CommonName, len(id.Chain()))
		cfg := env.FakeClientConfig()
		cfg.MTLS = id // JWT left nil: the same identity signs the assertion
		return cfg, nil
	})
}
