package keystore_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/internal/testtool"
	"github.com/sfmtls/sfmtls/keystore"
)

// These tests hand what Encode writes to the real keytool and OpenSSL, the tools
// users maintain their keystores with. CI installs both (openjdk-17-jre-headless,
// openssl); a missing tool fails the test rather than skipping it.

// wTool runs a command and returns its combined output; it fails the test when
// the tool is missing or exits non-zero.
func wTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := wToolErr(t, name, args...)
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return out
}

func wToolErr(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	testtool.Need(t, name)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // never hang CI on a stuck tool
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

func wWrite(t *testing.T, id *keystore.Identity, name string, opts keystore.WriteOptions) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, keystore.WriteFile(path, id, opts))
	return path
}

// wPEMCerts returns the certificates in PEM text, in order.
func wPEMCerts(t *testing.T, text string) []*x509.Certificate {
	t.Helper()
	var certs []*x509.Certificate
	for rest := []byte(text); ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return certs
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			require.NoError(t, err)
			certs = append(certs, c)
		}
	}
}

func TestKeytoolReadsWrittenJKS(t *testing.T) {
	for name, id := range wIdentities(t) {
		t.Run(name, func(t *testing.T) {
			path := wWrite(t, id, "mtls.jks", keystore.WriteOptions{Format: keystore.FormatJKS, Alias: "mtls", Password: wStorePW, KeyPassword: wKeyPW})
			out := wTool(t, "keytool", "-list", "-v", "-keystore", path, "-storetype", "JKS", "-storepass", string(wStorePW))
			assert.Contains(t, out, "Keystore type: JKS")
			assert.Contains(t, out, "Alias name: mtls")
			assert.Contains(t, out, "Entry type: PrivateKeyEntry")
			assert.Contains(t, out, fmt.Sprintf("Certificate chain length: %d", len(id.Chain())))

			// A wrong store password fails the integrity check.
			out, err := wToolErr(t, "keytool", "-list", "-keystore", path, "-storepass", "wrong-password")
			require.Error(t, err, out)

			// The key password is needed, and enough, to copy the key out: keytool
			// -importkeystore decrypts it with -srckeypass.
			dest := filepath.Join(t.TempDir(), "copy.p12")
			out, err = wToolErr(t, "keytool", "-importkeystore", "-noprompt", "-srckeystore", path, "-srcstoretype", "JKS",
				"-srcstorepass", string(wStorePW), "-srcalias", "mtls", "-srckeypass", string(wStorePW),
				"-destkeystore", dest, "-deststoretype", "PKCS12", "-deststorepass", "copy-secret")
			require.Error(t, err, "keytool opened the key with the store password:\n%s", out)
			wTool(t, "keytool", "-importkeystore", "-noprompt", "-srckeystore", path, "-srcstoretype", "JKS",
				"-srcstorepass", string(wStorePW), "-srcalias", "mtls", "-srckeypass", string(wKeyPW),
				"-destkeystore", dest, "-deststoretype", "PKCS12", "-deststorepass", "copy-secret")
			copied, err := keystore.LoadFile(dest, keystore.Options{Password: "copy-secret", Alias: "mtls"})
			require.NoError(t, err)
			wSameIdentity(t, id, copied)
		})
	}
}

func TestKeytoolAndOpenSSLReadWrittenPKCS12(t *testing.T) {
	for name, id := range wIdentities(t) {
		t.Run(name, func(t *testing.T) {
			path := wWrite(t, id, "client.p12", keystore.WriteOptions{Format: keystore.FormatPKCS12, Alias: "mtls", Password: wStorePW})

			out := wTool(t, "keytool", "-list", "-v", "-keystore", path, "-storepass", string(wStorePW))
			assert.Contains(t, out, "Keystore type: PKCS12")
			assert.Contains(t, out, "Alias name: mtls")
			assert.Contains(t, out, "Entry type: PrivateKeyEntry")
			assert.Contains(t, out, fmt.Sprintf("Certificate chain length: %d", len(id.Chain())))

			out = wTool(t, "openssl", "pkcs12", "-in", path, "-passin", "pass:"+string(wStorePW), "-nodes", "-info")
			assert.Contains(t, out, "MAC: sha256")
			assert.Contains(t, out, "PBES2, PBKDF2, AES-256-CBC")
			assert.Contains(t, out, "friendlyName: mtls")
			certs := wPEMCerts(t, out)
			require.Len(t, certs, len(id.Chain()))
			for i, c := range id.Chain() {
				assert.True(t, c.Equal(certs[i]), "certificate %d", i)
			}
			// OpenSSL's MAC check fails with a wrong password.
			_, err := wToolErr(t, "openssl", "pkcs12", "-in", path, "-passin", "pass:wrong-password", "-nodes", "-info")
			require.Error(t, err)

			// The key OpenSSL extracted is the identity's key.
			keyOut := wTool(t, "openssl", "pkcs12", "-in", path, "-passin", "pass:"+string(wStorePW), "-nodes", "-nocerts")
			got, err := keystore.Load([]byte(keyOut+string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Leaf().Raw}))), keystore.Options{})
			require.NoError(t, err, "the key OpenSSL extracted does not match the leaf")
			assert.True(t, got.Leaf().Equal(id.Leaf()))
		})
	}
}

func TestOpenSSLDecryptsWrittenPEMKey(t *testing.T) {
	for name, id := range wIdentities(t) {
		t.Run(name, func(t *testing.T) {
			path := wWrite(t, id, "client.pem", keystore.WriteOptions{Format: keystore.FormatPEM, Password: wKeyPW, KeyIterations: 2048})
			data, err := os.ReadFile(path)
			require.NoError(t, err)

			// The key: PBES2 with the documented parameters, and OpenSSL decrypts it.
			keyFile := filepath.Join(t.TempDir(), "key.pem")
			start := bytes.Index(data, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
			require.GreaterOrEqual(t, start, 0)
			require.NoError(t, os.WriteFile(keyFile, data[start:], 0o600))
			params := wTool(t, "openssl", "asn1parse", "-in", keyFile)
			for _, want := range []string{"PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc", ":0800"} { // 2048 iterations
				assert.Contains(t, params, want)
			}
			plain := wTool(t, "openssl", "pkcs8", "-in", keyFile, "-passin", "pass:"+string(wKeyPW))
			assert.Contains(t, plain, "-----BEGIN PRIVATE KEY-----")
			_, err = wToolErr(t, "openssl", "pkcs8", "-in", keyFile, "-passin", "pass:wrong-password")
			require.Error(t, err)

			// OpenSSL pairs the decrypted key with the written leaf certificate.
			leafPub := wTool(t, "openssl", "x509", "-in", path, "-noout", "-pubkey")
			keyPub := wTool(t, "openssl", "pkey", "-in", keyFile, "-passin", "pass:"+string(wKeyPW), "-pubout")
			assert.Equal(t, leafPub, keyPub)

			// The chain is in order, leaf first, as openssl verify checks it.
			certs := wPEMCerts(t, string(data))
			require.Len(t, certs, len(id.Chain()))
			for i, c := range id.Chain() {
				assert.True(t, c.Equal(certs[i]), "certificate %d", i)
			}
		})
	}
}

func TestOpenSSLDecryptsEncryptPKCS8WithDefaults(t *testing.T) {
	id := wIdentities(t)["rsa-client"]
	block, err := keystore.EncryptPKCS8(id.Signer(), wKeyPW)
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600))
	params := wTool(t, "openssl", "asn1parse", "-in", keyFile)
	assert.Contains(t, params, ":0927C0") // the default iteration count, 600000
	keyPub := wTool(t, "openssl", "pkey", "-in", keyFile, "-passin", "pass:"+string(wKeyPW), "-pubout")
	der, err := x509.MarshalPKIXPublicKey(id.Signer().Public())
	require.NoError(t, err)
	assert.Equal(t, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), keyPub)
}
