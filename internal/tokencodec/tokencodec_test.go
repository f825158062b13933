package tokencodec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/keystore"
)

func sample(access string) *Token {
	at := time.UnixMilli(time.Now().UnixMilli())
	return &Token{AccessToken: keystore.Secret(access), InstanceURL: "https://acme.my.salesforce.com",
		ID: "https://login.salesforce.com/id/00D/005", Scope: "api", TokenType: "Bearer", IssuedAt: at, ReceivedAt: at}
}

func TestEncodeRefusesNoToken(t *testing.T) {
	for _, tok := range []*Token{nil, {InstanceURL: "https://a"}} {
		_, err := Encode(tok)
		require.ErrorIs(t, err, ErrStoredToken)
	}
}

// FuzzDecode: the stores read these bytes from disk or Redis.
func FuzzDecode(f *testing.F) {
	good, err := Encode(sample("00Dseed!token"))
	require.NoError(f, err)
	f.Add(good)
	f.Add([]byte(`{"format":1,"access_token":"","instance_url":""}`))
	f.Add([]byte(`{"format":1,"access_token":"x","instance_url":"https://a","issued_at_ms":-9223372036854775808}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Decode(data)
		if err != nil {
			require.ErrorIs(t, err, ErrStoredToken)
			assert.Nil(t, tok)
			return
		}
		require.NotEmpty(t, tok.AccessToken)
		again, err := Encode(tok)
		require.NoError(t, err)
		back, err := Decode(again)
		require.NoError(t, err)
		assert.Equal(t, tok.AccessToken, back.AccessToken)
		assert.Equal(t, tok.InstanceURL, back.InstanceURL)
	})
}
