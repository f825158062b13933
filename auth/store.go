package auth

import (
	"context"
)

// Store shares tokens between processes that log in as the same user: a file
// for command-line runs and cron jobs (NewFileStore), Redis for a fleet
// (module github.com/sfmtls/sfmtls/redisstore). One Store holds the tokens of
// many login identities, each under its own key; the transport derives the
// key from the login URL, consumer key and username, so every process of one
// identity names the same entry. The client uses a Store behind its in-memory
// token: without one (the default) nothing changes and nothing is added to the
// per-request path.
//
// Every method is bounded by ctx and must be safe for concurrent use. The client
// treats any error as "the store is not available now": it logs a warning and
// logs in by itself, so a store that is down never fails a call that could
// succeed without it. Stored bytes that do not decode are an ErrStoredToken
// error; a store that cannot be reached is an ErrStoreUnavailable error.
type Store interface {
	// Load returns key's token, or nil and no error when there is none.
	Load(ctx context.Context, key string) (*Token, error)
	// Save makes tok key's token.
	Save(ctx context.Context, key string, tok *Token) error
	// CompareAndDelete deletes key's token only if it still equals old
	// (Token.Equal): a caller that saw old rejected must not delete a newer
	// token another process saved meanwhile.
	CompareAndDelete(ctx context.Context, key string, old *Token) error
	// Lock takes key's cross-process login lock, waiting until it is free or
	// ctx ends, so that one process logs in while the others wait. The lock
	// must not outlive a process that dies holding it (a file lock dies with
	// its process; a Redis lock has a TTL). Waiters should be woken when the
	// lock is released, not poll tightly. unlock is safe to call once.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}
