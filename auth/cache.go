package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// TokenSource gives an access token for the org. Implementations must be safe
// for concurrent use. *JWTBearer fetches a new one on every call; *Cache keeps
// one for all callers. A user can supply their own, e.g. one that reads tokens
// minted elsewhere.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// CacheOptions tune a Cache. Zero values take the defaults.
type CacheOptions struct {
	// SessionTimeout is the org's session timeout (Setup → Session Settings). When
	// set, a token is refreshed before it runs out instead of after a 401.
	SessionTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Cache holds one token for all callers. Callers that need a token while one is
// being fetched wait for that same fetch, so a burst of callers costs one request.
// A fetch runs on its own context, cancelled only when every caller waiting for it
// has given up, so one impatient caller does not fail the others.
type Cache struct {
	src     TokenSource
	timeout time.Duration
	now     func() time.Time

	mu       sync.Mutex
	current  *Token
	inflight *fetch

	fetches atomic.Int64
}

// fetch is one token request in flight and the callers waiting for it.
type fetch struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int
	tok     *Token
	err     error
}

// NewCache returns a cache over src.
func NewCache(src TokenSource, opts CacheOptions) *Cache {
	c := &Cache{src: src, timeout: opts.SessionTimeout, now: opts.Now}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Fetches returns how many token requests the cache has started.
func (c *Cache) Fetches() int64 { return c.fetches.Load() }

// Token returns the cached token, or waits for one fetch shared by every caller.
func (c *Cache) Token(ctx context.Context) (*Token, error) {
	c.mu.Lock()
	if tok := c.current; tok != nil && !c.stale(tok) {
		c.mu.Unlock()
		return tok, nil
	}
	f := c.inflight
	if f == nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &fetch{done: make(chan struct{}), cancel: cancel}
		c.inflight = f
		c.fetches.Add(1)
		go c.run(fctx, f)
	}
	f.waiters++
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 && c.inflight == f {
			// Nobody wants this fetch any more; the next caller starts afresh.
			c.inflight = nil
			f.cancel()
		}
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (c *Cache) run(ctx context.Context, f *fetch) {
	defer f.cancel()
	tok, err := c.src.Token(ctx)
	c.mu.Lock()
	if c.inflight == f {
		c.inflight = nil
		if err == nil {
			c.current = tok
		}
	}
	f.tok, f.err = tok, err
	c.mu.Unlock()
	close(f.done)
}

// Invalidate drops tok if it is still the cached token, compared by value (see
// Token.Equal). Compare-and-swap: a late 401 for an old token leaves a newer
// token in place.
func (c *Cache) Invalidate(tok *Token) {
	c.mu.Lock()
	if c.current.Equal(tok) {
		c.current = nil
	}
	c.mu.Unlock()
}

// Current returns the cached token, if any, without fetching.
func (c *Cache) Current() *Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current
}

// stale reports whether the session timeout is near: within a tenth of it, at
// most a minute.
func (c *Cache) stale(tok *Token) bool {
	if c.timeout <= 0 {
		return false
	}
	margin := min(c.timeout/10, time.Minute)
	return !c.now().Before(tok.ReceivedAt.Add(c.timeout - margin))
}
