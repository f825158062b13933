// Package storekey names the entry of one login identity in a token store
// (auth.FileStore, redisstore): the transport derives it from the login URL,
// consumer key and username, so a run of the sfmtls tool and a service that
// log in as the same user share one session.
package storekey

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/url"
	"strings"
)

// Key names the shared token of one login identity: the login URL's scheme and
// host (lower case, default port dropped), the consumer key and the username
// (lower case), hashed to 32 hex digits. Stored sessions are named by it:
// changing it orphans every stored session.
func Key(loginURL, consumerKey, username string) string {
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
