package keystore

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRC2MatchesRFC2268Vectors checks the cipher against the eight test vectors
// of RFC 2268 section 5 ("A Description of the RC2(r) Encryption Algorithm",
// https://www.rfc-editor.org/rfc/rfc2268#section-5), both ways.
func TestRC2MatchesRFC2268Vectors(t *testing.T) {
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		require.NoError(t, err)
		return b
	}
	for _, v := range []struct {
		bits            int
		key, plain, enc string
	}{
		{63, "00000000 00000000", "00000000 00000000", "ebb773f9 93278eff"},
		{64, "ffffffff ffffffff", "ffffffff ffffffff", "278b27e4 2e2f0d49"},
		{64, "30000000 00000000", "10000000 00000001", "30649edf 9be7d2c2"},
		{64, "88", "00000000 00000000", "61a8a244 adacccf0"},
		{64, "88bca90e 90875a", "00000000 00000000", "6ccf4308 974c267f"},
		{64, "88bca90e 90875a7f 0f79c384 627bafb2", "00000000 00000000", "1a807d27 2bbe5db1"},
		{128, "88bca90e 90875a7f 0f79c384 627bafb2", "00000000 00000000", "2269552a b0f85ca6"},
		{129, "88bca90e 90875a7f 0f79c384 627bafb2 16f80a6f 85920584 c42fceb0 be255daf 1e", "00000000 00000000", "5b78d3a4 3dfff1f1"},
	} {
		c, err := newRC2(unhex(v.key), v.bits)
		require.NoError(t, err)
		got := make([]byte, 8)
		c.Encrypt(got, unhex(v.plain))
		assert.Equal(t, v.enc, hex.EncodeToString(got[:4])+" "+hex.EncodeToString(got[4:]), "encrypt %s/%d", v.key, v.bits)
		c.Decrypt(got, unhex(v.enc))
		assert.Equal(t, unhex(v.plain), got, "decrypt %s/%d", v.key, v.bits)
	}
	for _, bad := range []struct {
		key  []byte
		bits int
	}{{nil, 40}, {make([]byte, 129), 40}, {[]byte{1}, 0}, {[]byte{1}, 1025}} {
		_, err := newRC2(bad.key, bad.bits)
		assert.Error(t, err)
	}
}
