package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const storePW = "changeit"

// fixtureDir holds copies of keystore/testdata made 0600 by TestMain: git
// checks files out 0644, and the tool warns about keystores others can read.
var fixtureDir = filepath.Join("..", "..", "keystore", "testdata")

func fixture(name string) string { return filepath.Join(fixtureDir, name) }

// privateFixtures copies the fixtures into dir with mode 0600.
func privateFixtures(dir string) error {
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		return err
	}
	for _, en := range entries {
		if !en.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(fixtureDir, en.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, en.Name()), data, 0o600); err != nil {
			return err
		}
	}
	fixtureDir = dir
	return nil
}

type result struct {
	code           int
	stdout, stderr string
	prompted       []string
}

// sfmtls runs the command in-process with the given environment variables and,
// when promptAnswer is not nil, a terminal that answers it.
func sfmtls(t *testing.T, vars map[string]string, promptAnswer *string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	r := result{}
	e := &env{ctx: context.Background(), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	if promptAnswer != nil {
		e.prompt = func(label string) (string, bool, error) {
			r.prompted = append(r.prompted, label)
			return *promptAnswer, true, nil
		}
	}
	r.code = run(args, e)
	r.stdout, r.stderr = out.String(), errOut.String()
	return r
}

var withPW = map[string]string{"SF_KEYSTORE_PASSWORD": storePW}

func TestInspectText(t *testing.T) {
	r := sfmtls(t, map[string]string{"SF_KEYSTORE_PASSWORD": storePW, "SF_KEY_PASSWORD": "keypass"}, nil,
		"inspect", "--keystore", fixture("client-keypass.jks"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Format: JKS")
	assert.Contains(t, r.stdout, `private-key, alias "client"`)
	assert.Contains(t, r.stdout, `trusted-cert, alias "rootca"`)
	assert.Contains(t, r.stdout, "Subject:      CN=integration.user@example.com,O=sfmtls test")
	assert.Contains(t, r.stdout, "Key:          RSA 2048 bits")
	assert.Contains(t, r.stdout, "Chain:        2 certificate(s)")
	assert.Contains(t, r.stdout, "clientAuth:   yes")
	assert.NotContains(t, r.stdout, "WARNING")
	assert.Empty(t, r.stderr)
}

func TestInspectWarningsStillExitZero(t *testing.T) {
	r := sfmtls(t, withPW, nil, "inspect", "--keystore", fixture("mulesoft.jks"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "WARNING:      self-signed certificates are not valid for Salesforce mutual authentication")
	assert.Contains(t, r.stdout, "WARNING:      no clientAuth")
}

func TestInspectJSON(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pwFile, []byte(storePW+"\n"), 0o600))
	// Flags may follow the file.
	r := sfmtls(t, nil, nil, "inspect", "--keystore", fixture("multi-key.p12"), "--json", "--password-file", pwFile, "--alias", "ecclient")
	require.Equal(t, 0, r.code, r.stderr)
	var got struct {
		Format  string `json:"format"`
		Entries []struct {
			Alias       string   `json:"alias"`
			Kind        string   `json:"kind"`
			Subject     string   `json:"subject"`
			NotAfter    string   `json:"not_after"`
			KeyType     string   `json:"key_type"`
			KeyBits     int      `json:"key_bits"`
			ChainLength int      `json:"chain_length"`
			SelfSigned  bool     `json:"self_signed"`
			ClientAuth  bool     `json:"client_auth"`
			Warnings    []string `json:"warnings"`
		} `json:"entries"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Equal(t, "PKCS12", got.Format)
	require.Len(t, got.Entries, 1)
	e := got.Entries[0]
	assert.Equal(t, "ecclient", e.Alias)
	assert.Equal(t, "private-key", e.Kind)
	assert.Equal(t, "EC", e.KeyType)
	assert.Equal(t, 256, e.KeyBits)
	assert.Equal(t, 2, e.ChainLength)
	assert.True(t, e.ClientAuth)
	assert.NotNil(t, e.Warnings)
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, e.NotAfter)
}

func TestInspectFailuresAreOneLine(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"wrong password", map[string]string{"SF_KEYSTORE_PASSWORD": "not-the-password"}, []string{fixture("mtls.jks")}, "wrong password"},
		{"wrong key password", map[string]string{"SF_KEYSTORE_PASSWORD": storePW, "SF_KEY_PASSWORD": "not-the-password"}, []string{fixture("client-keypass.jceks")}, "wrong password"},
		{"corrupt", withPW, []string{fixture("truncated.p12")}, "corrupt or truncated"},
		{"unsupported format", withPW, []string{fixture("random.bin")}, "unknown keystore format"},
		{"alias not found", withPW, []string{"--alias", "nobody", fixture("client.jks")}, "alias not found"},
		{"mismatch", nil, []string{fixture("mismatch.pem")}, "does not match"},
		{"missing file", nil, []string{fixture("nope.jks")}, "cannot read"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			last := len(c.args) - 1
			args := append(append([]string{"inspect"}, c.args[:last]...), "--keystore", c.args[last])
			r := sfmtls(t, c.vars, nil, args...)
			assert.Equal(t, 1, r.code)
			assert.Empty(t, r.stdout)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			assert.True(t, strings.HasPrefix(r.stderr, "sfmtls: keystore: "+c.args[len(c.args)-1]), r.stderr)
			assert.Contains(t, r.stderr, c.want)
			assert.NotContains(t, r.stderr, "not-the-password")
			assert.NotContains(t, r.stderr, "goroutine")
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"inspect"},
		{"inspect", "a", "b"},
		{"inspect", "--password", "secret", fixture("mtls.jks")}, // no literal password flag
		{"export-cert", "--nope", fixture("mtls.jks")},
	} {
		r := sfmtls(t, nil, nil, args...)
		assert.Equal(t, 2, r.code, "%v", args)
		assert.Contains(t, r.stderr, "usage", "%v", args)
	}
	assert.Equal(t, 0, sfmtls(t, nil, nil, "help").code)
}

func TestPromptsOnTerminalOnly(t *testing.T) {
	answer := storePW
	r := sfmtls(t, nil, &answer, "inspect", "--keystore", fixture("mtls.jks"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{"Keystore password for " + fixture("mtls.jks") + ": "}, r.prompted)

	// The environment wins over the prompt.
	r = sfmtls(t, withPW, &answer, "inspect", "--keystore", fixture("mtls.jks"))
	require.Equal(t, 0, r.code)
	assert.Empty(t, r.prompted)
}

func TestExportCert(t *testing.T) {
	r := sfmtls(t, withPW, nil, "export-cert", "--keystore", fixture("mtls.jks"))
	require.Equal(t, 0, r.code, r.stderr)
	certs := decodePEMCerts(t, r.stdout)
	require.Len(t, certs, 1)
	assert.Equal(t, "integration.user@example.com", certs[0].Subject.CommonName)

	r = sfmtls(t, withPW, nil, "export-cert", "--chain", "--alias", "ECCLIENT", "--keystore", fixture("client.jceks"))
	require.Equal(t, 0, r.code, r.stderr)
	certs = decodePEMCerts(t, r.stdout)
	require.Len(t, certs, 2)
	assert.Equal(t, "ec.integration.user@example.com", certs[0].Subject.CommonName)
	assert.Equal(t, "sfmtls Test Intermediate CA", certs[1].Subject.CommonName)
	assert.NotContains(t, r.stdout, "PRIVATE KEY")

	r = sfmtls(t, map[string]string{"SF_KEYSTORE_PASSWORD": "bad"}, nil, "export-cert", "--keystore", fixture("mtls.jks"))
	assert.Equal(t, 1, r.code)
}

func decodePEMCerts(t *testing.T, s string) []*x509.Certificate {
	t.Helper()
	var certs []*x509.Certificate
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		require.Equal(t, "CERTIFICATE", b.Type)
		c, err := x509.ParseCertificate(b.Bytes)
		require.NoError(t, err)
		certs = append(certs, c)
	}
	return certs
}
