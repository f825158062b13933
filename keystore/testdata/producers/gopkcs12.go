//go:build ignore

// Writes PKCS#12 files with go-pkcs12's encoders, for gen.sh: go run gopkcs12.go WORKDIR.
package main

import (
	"crypto/x509"
	"encoding/pem"
	"log"
	"os"

	"software.sslmate.com/src/go-pkcs12"
)

func main() {
	work := os.Args[1]
	key, err := x509.ParsePKCS8PrivateKey(block(work + "/rsa.key"))
	if err != nil {
		log.Fatal(err)
	}
	cert := certificate(work + "/rsa.crt")
	inter := certificate(work + "/inter.crt")
	root := certificate(work + "/root.crt")
	for name, enc := range map[string]*pkcs12.Encoder{
		"gopkcs12-modern2023.p12": pkcs12.Modern2023,
		"gopkcs12-legacydes.p12":  pkcs12.LegacyDES,
		"gopkcs12-legacyrc2.p12":  pkcs12.LegacyRC2,
	} {
		write(name, must(enc.Encode(key, cert, []*x509.Certificate{inter}, "changeit")))
	}
	write("gopkcs12-passwordless.p12", must(pkcs12.Passwordless.Encode(key, cert, []*x509.Certificate{inter}, "")))
	write("gopkcs12-truststore.p12", must(pkcs12.Modern2023.EncodeTrustStore([]*x509.Certificate{root, inter}, "changeit")))
}

func block(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		log.Fatalf("%s: no PEM block", path)
	}
	return b.Bytes
}

func certificate(path string) *x509.Certificate {
	c, err := x509.ParseCertificate(block(path))
	if err != nil {
		log.Fatal(err)
	}
	return c
}

func must(b []byte, err error) []byte {
	if err != nil {
		log.Fatal(err)
	}
	return b
}

func write(name string, data []byte) {
	if err := os.WriteFile(name, data, 0o644); err != nil {
		log.Fatal(err)
	}
}
