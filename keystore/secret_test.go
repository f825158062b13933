package keystore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyMaterial returns strings that would show if a private key leaked: its secret
// scalar in decimal and hex.
func keyMaterial(t *testing.T, id *Identity) []string {
	t.Helper()
	switch k := id.Signer().(type) {
	case *rsa.PrivateKey:
		return []string{k.D.String(), k.D.Text(16), k.Primes[0].String()}
	case *ecdsa.PrivateKey:
		return []string{k.D.Text(16), k.D.String()}
	}
	t.Fatalf("unexpected key type %T", id.Signer())
	return nil
}

func TestSecretsNeverPrint(t *testing.T) {
	const password = "s3cr3t-Passw0rd"
	opts := Options{Password: password, KeyPassword: password, Alias: "a"}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("opts", "opts", opts, "pw", opts.Password)
	js, err := json.Marshal(opts)
	require.NoError(t, err)
	outputs := []string{logs.String(), string(js)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, opts), fmt.Sprintf(verb, opts.Password), fmt.Sprintf(verb, &opts))
	}
	hexPW := fmt.Sprintf("%x", password)
	for _, out := range outputs {
		assert.NotContains(t, out, password)
		assert.NotContains(t, out, hexPW)
	}
	assert.Equal(t, "[REDACTED]", fmt.Sprint(opts.Password))
}

func TestIdentityNeverPrintsItsKey(t *testing.T) {
	for _, name := range []string{"client-openssl.p12", "ecclient-openssl.p12"} {
		id, err := LoadFile(fixture(name), Options{Password: storePW})
		require.NoError(t, err)
		secrets := keyMaterial(t, id)
		var logs bytes.Buffer
		slog.New(slog.NewTextHandler(&logs, nil)).Info("loaded", "identity", id)
		outputs := []string{logs.String()}
		holder := struct{ ID *Identity }{id}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
			outputs = append(outputs, fmt.Sprintf(verb, id), fmt.Sprintf(verb, holder))
		}
		for _, out := range outputs {
			assert.Contains(t, out, "keystore.Identity{")
			for _, s := range secrets {
				assert.NotContains(t, out, s)
			}
			assert.False(t, strings.Contains(out, "PRIVATE KEY"))
		}
	}
}
