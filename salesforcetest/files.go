package salesforcetest

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"

	"github.com/sfmtls/sfmtls/internal/atomicfile"
	"github.com/sfmtls/sfmtls/keystore"
)

// Files names the keystores WriteFiles wrote.
type Files struct {
	MTLSJKS    string // the CA-signed client identity, alias "mtls" (MuleSoft's mtls.jks)
	JWTJKS     string // the JWT identity, alias "mulesoft" (MuleSoft's mulesoft.jks)
	MTLSPKCS12 string // the client identity as PKCS#12 (one key, no friendlyName)
	JWTPKCS12  string // the JWT identity as PKCS#12
	MTLSCert   string // PEM: client certificate and intermediate
	MTLSKey    string // PEM: client key, PKCS#8
	JWTCert    string // PEM
	JWTKey     string // PEM, PKCS#8
	ServerCA   string // PEM: the CA to trust for the org's server certificate
}

// WriteFiles writes the org's client and JWT identities into dir as JKS, PKCS#12
// and PEM, all keystores protected with password, for tests and examples that
// need files.
func (p *PKI) WriteFiles(dir, password string) (*Files, error) {
	f := &Files{
		MTLSJKS: filepath.Join(dir, "mtls.jks"), JWTJKS: filepath.Join(dir, "mulesoft.jks"),
		MTLSPKCS12: filepath.Join(dir, "mtls.p12"), JWTPKCS12: filepath.Join(dir, "jwt.p12"),
		MTLSCert: filepath.Join(dir, "mtls-cert.pem"), MTLSKey: filepath.Join(dir, "mtls-key.pem"),
		JWTCert: filepath.Join(dir, "jwt-cert.pem"), JWTKey: filepath.Join(dir, "jwt-key.pem"),
		ServerCA: filepath.Join(dir, "server-ca.pem"),
	}
	steps := []func() error{
		func() error { return writeStore(f.MTLSJKS, keystore.FormatJKS, "mtls", p.ClientIdentity, password) },
		func() error { return writeStore(f.JWTJKS, keystore.FormatJKS, "mulesoft", p.JWTIdentity, password) },
		func() error { return writeStore(f.MTLSPKCS12, keystore.FormatPKCS12, "", p.ClientIdentity, password) },
		func() error { return writeStore(f.JWTPKCS12, keystore.FormatPKCS12, "", p.JWTIdentity, password) },
		func() error { return writePEM(f.MTLSCert, certBlocks(p.ClientIdentity.Chain()...)) },
		func() error { return writeKeyPEM(f.MTLSKey, p.ClientIdentity) },
		func() error { return writePEM(f.JWTCert, certBlocks(p.JWTIdentity.Chain()...)) },
		func() error { return writeKeyPEM(f.JWTKey, p.JWTIdentity) },
		func() error { return writePEM(f.ServerCA, certBlocks(p.ServerCA)) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// writeStore writes id as the only private-key entry of a keystore, replacing
// any file at path.
func writeStore(path string, format keystore.Format, alias string, id *keystore.Identity, password string) error {
	return keystore.WriteFile(path, id, keystore.WriteOptions{Format: format, Alias: alias,
		Password: keystore.Secret(password), Overwrite: true})
}

func certBlocks(certs ...*x509.Certificate) []*pem.Block {
	blocks := make([]*pem.Block, len(certs))
	for i, c := range certs {
		blocks[i] = &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}
	}
	return blocks
}

func writeKeyPEM(path string, id *keystore.Identity) error {
	der, err := x509.MarshalPKCS8PrivateKey(id.Signer())
	if err != nil {
		return err
	}
	return writePEM(path, []*pem.Block{{Type: "PRIVATE KEY", Bytes: der}})
}

func writePEM(path string, blocks []*pem.Block) error {
	var buf bytes.Buffer
	for _, b := range blocks {
		if err := pem.Encode(&buf, b); err != nil {
			return err
		}
	}
	// Not os.WriteFile: a file that already exists keeps its mode under
	// os.WriteFile, and these files hold private keys.
	return atomicfile.WriteSecret(path, buf.Bytes(), true)
}
