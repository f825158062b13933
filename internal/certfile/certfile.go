// Package certfile reads the certificates of a file, for the SDK's SF_CA_FILE
// and the sfmtls tool's certificate flags.
package certfile

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// maxFile bounds what is read: a chain or a CA bundle is a few hundred
// kilobytes at most.
const maxFile = 16 << 20

// Read returns every certificate of a PEM file (or its one DER certificate),
// in file order: leaf first, as a CA delivers a chain. Blocks of other types
// (a private key beside the certificates) are skipped.
func Read(path string) ([]*x509.Certificate, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the certificate file: %w", err)
	}
	if fi.Size() > maxFile {
		return nil, fmt.Errorf("certificate file %s is %d bytes: no certificate file is that large", path, fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the certificate file: %w", err)
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate file %s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("certificate file %s holds no PEM certificate (nor one DER certificate)", path)
		}
		certs = append(certs, c)
	}
	return certs, nil
}
