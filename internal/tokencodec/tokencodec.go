// Package tokencodec is the stored form of an access token, shared by the
// token stores (auth.FileStore, redisstore) so that both write and read the
// same bytes.
package tokencodec

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// Token has auth.Token's fields, in its order and of its types, so that each
// converts to the other ((*tokencodec.Token)(tok)): a field added to one and
// not the other stops the stores from compiling instead of being lost.
type Token struct {
	AccessToken keystore.Secret
	InstanceURL string
	ID          string
	Scope       string
	TokenType   string
	IssuedAt    time.Time
	ReceivedAt  time.Time
}

// ErrStoredToken marks stored bytes that are not a token Decode can read. It
// is exported to users as auth.ErrStoredToken.
var ErrStoredToken = errors.New("auth: stored token unreadable")

// format is the stored form's version.
const format = 1

// MaxSize bounds what Decode accepts: a Salesforce token answer is well under
// a kilobyte.
const MaxSize = 16 << 10

// stored is the serialized form. It holds the access token in clear, so only
// Encode and Decode ever see it, never fmt.
type stored struct {
	Format      int    `json:"format"`
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
	ID          string `json:"id,omitempty"`
	Scope       string `json:"scope,omitempty"`
	TokenType   string `json:"token_type,omitempty"`
	IssuedAt    int64  `json:"issued_at_ms,omitempty"`
	ReceivedAt  int64  `json:"received_at_ms,omitempty"`
}

// Encode serializes tok, access token included: whoever holds the bytes holds
// the session, so a store must protect them (file mode 0600, Redis AUTH/TLS or
// encryption).
func Encode(tok *Token) ([]byte, error) {
	if tok == nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("%w: no token to encode", ErrStoredToken)
	}
	return json.Marshal(stored{
		Format: format, AccessToken: string(tok.AccessToken), InstanceURL: tok.InstanceURL,
		ID: tok.ID, Scope: tok.Scope, TokenType: tok.TokenType,
		IssuedAt: unixMilli(tok.IssuedAt), ReceivedAt: unixMilli(tok.ReceivedAt),
	})
}

// Decode reads what Encode wrote. Bytes from disk or Redis are untrusted:
// anything malformed, oversized or of another format version is an
// ErrStoredToken error that never quotes the bytes.
func Decode(data []byte) (*Token, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than a token answer can be", ErrStoredToken, len(data))
	}
	var st stored
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%w: not the JSON this SDK writes", ErrStoredToken)
	}
	if st.Format != format {
		return nil, fmt.Errorf("%w: format %d, expected %d (written by another version; it will be replaced)", ErrStoredToken, st.Format, format)
	}
	if st.AccessToken == "" || st.InstanceURL == "" {
		return nil, fmt.Errorf("%w: access_token or instance_url missing", ErrStoredToken)
	}
	return &Token{
		AccessToken: keystore.Secret(st.AccessToken), InstanceURL: st.InstanceURL,
		ID: st.ID, Scope: st.Scope, TokenType: st.TokenType,
		IssuedAt: fromUnixMilli(st.IssuedAt), ReceivedAt: fromUnixMilli(st.ReceivedAt),
	}, nil
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromUnixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
