package keystore_test

import (
	"crypto/tls"
	"os"
	"testing"

	"github.com/sfmtls/sfmtls/keystore"
)

// BenchmarkLoadPEM: a PEM certificate chain and its key, through Load and
// through crypto/tls.X509KeyPair (which parses the same and orders nothing),
// for the cold start's share of loading an identity.
func BenchmarkLoadPEM(b *testing.B) {
	for _, tc := range []struct{ name, certs, key string }{
		{"chain", "testdata/client-chain.pem", "testdata/client-key-pkcs8.pem"},
		{"ec-chain", "testdata/ecclient-chain.pem", "testdata/ecclient-key-sec1.pem"},
		{"self-signed", "testdata/jwt-cert.pem", "testdata/jwt-key.pem"},
	} {
		certs, err := os.ReadFile(tc.certs)
		if err != nil {
			b.Fatal(err)
		}
		key, err := os.ReadFile(tc.key)
		if err != nil {
			b.Fatal(err)
		}
		combined := append(append(append([]byte(nil), certs...), '\n'), key...)
		b.Run(tc.name+"/impl=keystore", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := keystore.Load(combined, keystore.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/impl=x509keypair", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tls.X509KeyPair(certs, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
