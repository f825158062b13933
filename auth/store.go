package auth

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// Store shares one token between processes that log in as the same user: a
// file for command-line runs and cron jobs (NewFileStore), Redis for a fleet
// (module github.com/sfmtls/sfmtls/redisstore). A Store holds the token of one
// login identity (see StoreKey). Cache uses it behind its in-memory token:
// without a Store (the default) nothing changes and nothing is added to the
// per-request path.
//
// Every method is bounded by ctx. Cache treats any error as "the store is not
// available now": it logs a warning and logs in by itself, so a store that is
// down never fails a call that could succeed without it.
type Store interface {
	// Load returns the shared token, or nil and no error when there is none.
	Load(ctx context.Context) (*Token, error)
	// Save makes tok the shared token.
	Save(ctx context.Context, tok *Token) error
	// CompareAndDelete deletes the shared token only if it still equals old
	// (Token.Equal): a caller that saw old rejected must not delete a newer
	// token another process saved meanwhile.
	CompareAndDelete(ctx context.Context, old *Token) error
	// Lock takes the identity's cross-process login lock, waiting until it is
	// free or ctx ends, so that one process logs in while the others wait.
	// The lock must not outlive a process that dies holding it (a file lock
	// dies with its process; a Redis lock has a TTL). Waiters should be woken
	// when the lock is released, not poll tightly. unlock is safe to call once.
	Lock(ctx context.Context) (unlock func(), err error)
}

// ErrStoreUnavailable marks a Store failure that says nothing about the token:
// the store cannot be reached or did not answer in time. A Store wraps its
// transport errors with it; Cache then stops asking the store for
// CacheOptions.StoreRetryAfter and logs in by itself meanwhile.
var ErrStoreUnavailable = errors.New("auth: token store unavailable")

// StoreKey names the shared token of one login identity: the login URL's
// scheme and host (lower case, default port dropped), the consumer key and the
// username, hashed. The file store and redisstore both name their entries with
// it, so a CLI run and a service that share a login share a token.
func StoreKey(loginURL, consumerKey, username string) string {
	login := strings.TrimRight(strings.TrimSpace(loginURL), "/")
	if u, err := url.Parse(login); err == nil && u.Host != "" {
		host := strings.ToLower(u.Hostname())
		if p := u.Port(); p != "" && p != "443" {
			host += ":" + p
		}
		login = strings.ToLower(u.Scheme) + "://" + host
	}
	h := sha256.New()
	for _, part := range []string{login, consumerKey, strings.ToLower(username)} {
		// Length-prefixed, so no choice of parts can collide with another.
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// tokenFormat is the stored form's version.
const tokenFormat = 1

// maxStoredToken bounds what DecodeToken accepts: a Salesforce token answer is
// well under a kilobyte.
const maxStoredToken = 16 << 10

// storedToken is the serialized form. It holds the access token in clear, so
// only encoders and decoders ever see it, never fmt.
type storedToken struct {
	Format      int    `json:"format"`
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
	ID          string `json:"id,omitempty"`
	Scope       string `json:"scope,omitempty"`
	TokenType   string `json:"token_type,omitempty"`
	IssuedAt    int64  `json:"issued_at_ms,omitempty"`
	ReceivedAt  int64  `json:"received_at_ms,omitempty"`
}

// ErrStoredToken marks stored bytes that are not a token DecodeToken can read.
var ErrStoredToken = errors.New("auth: stored token unreadable")

// EncodeToken serializes tok for a Store, access token included: whoever holds
// the bytes holds the session, so a store must protect them (file mode 0600,
// Redis AUTH/TLS or encryption).
func EncodeToken(tok *Token) ([]byte, error) {
	if tok == nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("%w: no token to encode", ErrStoredToken)
	}
	return json.Marshal(storedToken{
		Format: tokenFormat, AccessToken: string(tok.AccessToken), InstanceURL: tok.InstanceURL,
		ID: tok.ID, Scope: tok.Scope, TokenType: tok.TokenType,
		IssuedAt: unixMilli(tok.IssuedAt), ReceivedAt: unixMilli(tok.ReceivedAt),
	})
}

// DecodeToken reads what EncodeToken wrote. Bytes from disk or Redis are
// untrusted: anything malformed, oversized or of another format version is an
// ErrStoredToken error that never quotes the bytes.
func DecodeToken(data []byte) (*Token, error) {
	if len(data) > maxStoredToken {
		return nil, fmt.Errorf("%w: %d bytes, more than a token answer can be", ErrStoredToken, len(data))
	}
	var st storedToken
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%w: not the JSON this SDK writes", ErrStoredToken)
	}
	if st.Format != tokenFormat {
		return nil, fmt.Errorf("%w: format %d, expected %d (written by another version; it will be replaced)", ErrStoredToken, st.Format, tokenFormat)
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
