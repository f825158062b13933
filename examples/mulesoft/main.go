// Mulesoft shows the layout of MuleSoft's Salesforce Connector setup: mtls.jks
// holds the CA-signed certificate uploaded as Mutual Authentication Certificate,
// mulesoft.jks the key whose certificate is uploaded to the app for the JWT.
//
//	go run ./examples/mulesoft
//
// Against a real org: SF_MTLS_KEYSTORE=mtls.jks SF_JWT_KEYSTORE=mulesoft.jks and
// the other SF_* settings (README); without them, a fake org.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/demo"
	"github.com/sfmtls/sfmtls/keystore"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	return demo.Run(ctx, w, getenv, func(env *demo.Env) (client.Config, error) {
		// The two stores Mule's Salesforce Config points at, each with its alias.
		pw := keystore.Secret(env.Password)
		mtls, err := keystore.LoadFile(env.Files.MTLSJKS, keystore.Options{Password: pw, Alias: "mtls"})
		if err != nil {
			return client.Config{}, err
		}
		jwt, err := keystore.LoadFile(env.Files.JWTJKS, keystore.Options{Password: pw, Alias: "mulesoft"})
		if err != nil {
			return client.Config{}, err
		}
		fmt.Fprintf(w, "mtls.jks: %s, issued by %s\nmulesoft.jks: %s (self-signed: fine for the JWT)\n",
			mtls.Leaf().Subject.CommonName, mtls.Leaf().Issuer.CommonName, jwt.Leaf().Subject.CommonName)
		cfg := env.FakeClientConfig()
		cfg.MTLS, cfg.JWT = mtls, jwt
		return cfg, nil
	})
}
