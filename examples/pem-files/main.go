// Pem-files loads PEM files as a CA hands them out: the certificate with its
// intermediates in one file, the private key in another.
//
//	go run ./examples/pem-files
//
// Against a real org: SF_MTLS_KEYSTORE=client-chain.pem SF_MTLS_KEY_FILE=client.key
// (SF_MTLS_KEY_PASSWORD when the key is encrypted), likewise SF_JWT_KEYSTORE and
// SF_JWT_KEY_FILE; without settings, a fake org.
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
		mtls, err := keystore.LoadFile(env.Files.MTLSCert, keystore.Options{KeyFile: env.Files.MTLSKey})
		if err != nil {
			return client.Config{}, err
		}
		jwt, err := keystore.LoadFile(env.Files.JWTCert, keystore.Options{KeyFile: env.Files.JWTKey})
		if err != nil {
			return client.Config{}, err
		}
		fmt.Fprintf(w, "PEM: %s with %d certificate(s) to send; JWT key for %s\n",
			mtls.Leaf().Subject.CommonName, len(mtls.Chain()), jwt.Leaf().Subject.CommonName)
		cfg := env.FakeClientConfig()
		cfg.MTLS, cfg.JWT = mtls, jwt
		return cfg, nil
	})
}
