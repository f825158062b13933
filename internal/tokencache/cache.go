package tokencache

import (
	"github.com/sfmtls/sfmtls/auth"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Options.
const (
	defaultFetchTimeout   = time.Minute
	defaultRefusalWindow  = 5 * time.Second
	defaultRateLimitPause = 5 * time.Minute
	defaultLockWait       = 20 * time.Second
	defaultStoreTimeout   = 2 * time.Second
	defaultStoreRetry     = 5 * time.Second
)

// Options tune a Cache. Zero values take the defaults.
type Options struct {
	// SessionTimeout is the org's session timeout (Setup → Session Settings).
	// Salesforce's is an inactivity timeout: every successful call extends the
	// session, which the transport reports with Touch. When set, a token whose
	// session is near its end is refreshed in the background while callers keep
	// using it, and a token whose session has ended is not handed out.
	SessionTimeout time.Duration
	// Check vets every token before it is cached, stored or handed out; the
	// transport sets one that refuses a token naming a host that is not the
	// org's. A token that fails is dropped and its error goes to the callers.
	// nil accepts every token.
	Check func(*auth.Token) error
	// Store shares the token with other processes (NewFileStore, redisstore).
	// nil keeps it in this process only.
	Store auth.Store
	// StoreKey names this cache's login identity in Store: every process that
	// logs in as the same user must give the same key, and no other process
	// that key. The transport derives it from the login URL, consumer key and
	// username. Required with Store: a Store without a StoreKey is not used.
	StoreKey string
	// FetchTimeout bounds one fetch (store, lock and login) however long its
	// callers wait: a fetch every caller gave up on still completes and caches
	// its token. Default 1m.
	FetchTimeout time.Duration
	// RefusalWindow is the longest time a non-retryable refusal (an OAuth
	// error other than 429/5xx, or a token that fails Check) is remembered:
	// callers meanwhile get the same error without a new login. The window is
	// drawn at random from [RefusalWindow/5, RefusalWindow]. Default 5s (1–5 s).
	RefusalWindow time.Duration
	// RateLimitPause is how long no login is tried after Salesforce answered
	// "login rate exceeded". Default 5m.
	RateLimitPause time.Duration
	// LockWait bounds the wait for the Store's lock while another process logs
	// in; past it this process logs in itself. Default 20s.
	LockWait time.Duration
	// StoreTimeout bounds each Store call other than Lock. Default 2s.
	StoreTimeout time.Duration
	// StoreRetryAfter is how long the Store is left alone after it was
	// unavailable (ErrStoreUnavailable or a timeout): fetches meanwhile log in
	// without it, paying no store timeouts. Default 5s.
	StoreRetryAfter time.Duration
	// Logger receives warnings when the Store fails and debug records of
	// refreshes; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Cache holds one token for all callers of a process, optionally shared with
// other processes through a Store.
//
//   - Callers that need a token while one is being fetched wait for that same
//     fetch, so a burst of callers costs one request.
//   - A fetch runs on its own context bounded by FetchTimeout: callers that give
//     up do not cancel it, and its token is cached for the next caller.
//   - Non-retryable refusals are remembered for a short jittered window;
//     "login rate exceeded" stops logins for RateLimitPause.
//   - With SessionTimeout, the token is refreshed in the background near the
//     end of its session; callers keep the valid token meanwhile, and a failed
//     early refresh never fails a call.
//
// The per-call path (Token with a valid token, then Touch) takes no lock and
// allocates nothing.
type Cache struct {
	src   auth.TokenSource
	opts  Options
	log   *slog.Logger
	now   func() time.Time
	store auth.Store
	key   string // StoreKey

	cur atomic.Pointer[entry]

	mu              sync.Mutex
	inflight        *fetch
	rejected        *auth.Token // last token dropped by Invalidate: a stored copy of it is not reused
	refusal         *refusal    // remembered error, nil when none
	backgroundAfter time.Time   // no early refresh before this, after one failed

	logins    atomic.Int64
	storeDown atomic.Int64 // unix nanoseconds until which the Store is skipped
}

// entry is the cached token and when its session was last known in use.
type entry struct {
	tok     *auth.Token
	lastUse atomic.Int64 // unix nanoseconds
}

// fetch is one token fetch in flight; done closes when tok or err is set.
type fetch struct {
	done chan struct{}
	tok  *auth.Token
	err  error
}

type refusal struct {
	err   error
	until time.Time
}

// New returns a cache over src.
func New(src auth.TokenSource, opts Options) *Cache {
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = defaultFetchTimeout
	}
	if opts.RefusalWindow <= 0 {
		opts.RefusalWindow = defaultRefusalWindow
	}
	if opts.RateLimitPause <= 0 {
		opts.RateLimitPause = defaultRateLimitPause
	}
	if opts.LockWait <= 0 {
		opts.LockWait = defaultLockWait
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = defaultStoreTimeout
	}
	if opts.StoreRetryAfter <= 0 {
		opts.StoreRetryAfter = defaultStoreRetry
	}
	c := &Cache{src: src, opts: opts, log: opts.Logger, now: opts.Now, store: opts.Store, key: opts.StoreKey}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.store != nil && c.key == "" {
		c.log.LogAttrs(context.Background(), slog.LevelWarn, "sfmtls: Options.Store without a StoreKey; the token is not shared")
		c.store = nil
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Fetches returns how many token requests (logins) the cache has made through
// its TokenSource. Tokens loaded from the Store are not counted.
func (c *Cache) Fetches() int64 { return c.logins.Load() }

// Current returns the cached token, if any, without fetching.
func (c *Cache) Current() *auth.Token {
	if e := c.cur.Load(); e != nil {
		return e.tok
	}
	return nil
}

// freshness of a cached token.
const (
	fresh = iota
	refreshSoon
	expired
)

func (c *Cache) freshness(e *entry, now time.Time) int {
	timeout := c.opts.SessionTimeout
	if timeout <= 0 {
		return fresh
	}
	end := e.lastUse.Load() + int64(timeout)
	margin := int64(min(timeout/10, time.Minute))
	switch t := now.UnixNano(); {
	case t >= end:
		return expired
	case t >= end-margin:
		return refreshSoon
	}
	return fresh
}

// Token returns the cached token, or waits for one fetch shared by every caller.
func (c *Cache) Token(ctx context.Context) (*auth.Token, error) {
	if e := c.cur.Load(); e != nil {
		if c.opts.SessionTimeout <= 0 {
			return e.tok, nil
		}
		switch c.freshness(e, c.now()) {
		case fresh:
			return e.tok, nil
		case refreshSoon:
			c.refreshEarly(ctx, e)
			return e.tok, nil
		}
	}
	return c.wait(ctx)
}

// Touch records that a call with tok succeeded: with SessionTimeout set, the
// session counts as extended from now. It is a pointer comparison and at most
// one atomic store, for the per-request path; tok must be the pointer Token
// returned. Touching an older token does nothing.
func (c *Cache) Touch(tok *auth.Token) {
	if c.opts.SessionTimeout <= 0 {
		return
	}
	e := c.cur.Load()
	if e == nil || e.tok != tok {
		return
	}
	now := c.now().UnixNano()
	// Skip the store when recent: every request writing one cache line costs
	// more under load than a second of precision is worth.
	if now-e.lastUse.Load() >= int64(time.Second) {
		e.lastUse.Store(now)
	}
}

// Invalidate drops tok if it is still the cached token, compared by value (see
// Token.Equal). Compare-and-swap: a late 401 for an old token leaves a newer
// token in place. With a Store, the next fetch deletes tok there too, unless
// another process has already replaced it.
func (c *Cache) Invalidate(tok *auth.Token) {
	if tok == nil {
		return
	}
	c.mu.Lock()
	if e := c.cur.Load(); e != nil && (e.tok == tok || e.tok.Equal(tok)) {
		c.cur.Store(nil)
		c.rejected = e.tok
	} else if e == nil {
		c.rejected = tok
	}
	c.mu.Unlock()
}

func (c *Cache) wait(ctx context.Context) (*auth.Token, error) {
	c.mu.Lock()
	now := c.now()
	if e := c.cur.Load(); e != nil && c.freshness(e, now) != expired {
		c.mu.Unlock()
		return e.tok, nil
	}
	if r := c.refusal; r != nil && now.Before(r.until) {
		c.mu.Unlock()
		return nil, r.err
	}
	avoid := c.rejected
	if e := c.cur.Load(); e != nil {
		avoid = e.tok // its session ended: a stored copy of it is no use either
	}
	f := c.startLocked(ctx, avoid)
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("auth: gave up waiting for a token (the fetch goes on and caches its result): %w", ctx.Err())
	}
}

// refreshEarly starts a background fetch unless one runs, or one failed lately.
func (c *Cache) refreshEarly(ctx context.Context, e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.inflight != nil || c.cur.Load() != e || now.Before(c.backgroundAfter) {
		return
	}
	if r := c.refusal; r != nil && now.Before(r.until) {
		return
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "sfmtls: session near its timeout, refreshing the token in the background")
	c.startLocked(ctx, e.tok)
}

// startLocked joins the fetch in flight or starts one. avoid is the token being
// replaced: a Store holding it is not trusted to have a better one.
func (c *Cache) startLocked(ctx context.Context, avoid *auth.Token) *fetch {
	if c.inflight != nil {
		return c.inflight
	}
	f := &fetch{done: make(chan struct{})}
	c.inflight = f
	// The fetch keeps the first caller's values (trace IDs) but not its
	// cancellation, and has its own bound.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.FetchTimeout)
	go func() {
		defer cancel()
		tok, err := c.obtain(fctx, avoid)
		c.finish(f, tok, err)
	}()
	return f
}

func (c *Cache) finish(f *fetch, tok *auth.Token, err error) {
	c.mu.Lock()
	c.inflight = nil
	now := c.now()
	if err == nil {
		e := &entry{tok: tok}
		received := tok.ReceivedAt
		if received.IsZero() || received.After(now) {
			received = now
		}
		e.lastUse.Store(received.UnixNano())
		c.cur.Store(e)
		c.refusal = nil
	} else {
		c.backgroundAfter = now.Add(c.jitter())
		err = c.rememberLocked(err, now)
	}
	f.tok, f.err = tok, err
	c.mu.Unlock()
	close(f.done)
}

// jitter returns a refusal window in [RefusalWindow/5, RefusalWindow].
func (c *Cache) jitter() time.Duration {
	lo := c.opts.RefusalWindow / 5
	return lo + rand.N(c.opts.RefusalWindow-lo+1)
}

// rememberLocked records err in the negative cache and returns the error the
// callers get.
func (c *Cache) rememberLocked(err error, now time.Time) error {
	switch classify(err) {
	case rateLimited:
		until := now.Add(c.opts.RateLimitPause)
		var oe *auth.OAuthError
		errors.As(err, &oe)
		c.refusal = &refusal{err: &auth.LoginRateExceededError{Until: until, Pause: c.opts.RateLimitPause, Err: oe}, until: until}
		c.log.LogAttrs(context.Background(), slog.LevelWarn, "sfmtls: Salesforce answered login rate exceeded; no login until the pause ends",
			slog.Time("until", until))
		return c.refusal.err
	case refused:
		c.refusal = &refusal{err: err, until: now.Add(c.jitter())}
	}
	return err
}

// Error classes for the negative cache.
const (
	transient = iota
	refused
	rateLimited
)

// descLoginRateExceeded is Salesforce's error_description, with error
// invalid_grant, once a user logs in more than 3,600 times in an hour
// (Salesforce Help: "Sign In Error 'Login Rate Exceeded'", 000381578).
const descLoginRateExceeded = "login rate exceeded"

func classify(err error) int {
	var oe *auth.OAuthError
	if errors.As(err, &oe) {
		if oe.Code == "invalid_grant" && strings.EqualFold(strings.TrimSpace(oe.Description), descLoginRateExceeded) {
			return rateLimited
		}
		if oe.StatusCode == http.StatusTooManyRequests || oe.StatusCode >= 500 {
			return transient
		}
		return refused
	}
	var ite *auth.InvalidTokenError
	if errors.As(err, &ite) {
		return refused
	}
	return transient
}

// obtain gets a token: from the Store when it has one this cache may use, else
// by logging in, under the Store's lock so that one process logs in for all.
// Once the Store proves unavailable, the rest of the fetch (and the fetches of
// the next StoreRetryAfter) log in without it.
func (c *Cache) obtain(ctx context.Context, avoid *auth.Token) (*auth.Token, error) {
	if c.store == nil || c.now().UnixNano() < c.storeDown.Load() {
		return c.login(ctx)
	}
	if tok, ok := c.loadUsable(ctx, avoid); tok != nil || !ok {
		if tok != nil {
			return tok, nil
		}
		return c.login(ctx)
	}
	lctx, cancel := context.WithTimeout(ctx, c.opts.LockWait)
	unlock, err := c.store.Lock(lctx, c.key)
	cancel()
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "sfmtls: token store lock unavailable; logging in without it", slog.String("error", err.Error()))
		if errors.Is(err, auth.ErrStoreUnavailable) {
			c.storeFailed()
			return c.login(ctx)
		}
		// The holder took longer than LockWait: look once more, then log in.
		if tok, ok := c.loadUsable(ctx, avoid); tok != nil || !ok {
			if tok != nil {
				return tok, nil
			}
			return c.login(ctx)
		}
		return c.loginAndSave(ctx, avoid)
	}
	defer unlock()
	// Another process may have logged in while this one waited.
	if tok, ok := c.loadUsable(ctx, avoid); tok != nil || !ok {
		if tok != nil {
			return tok, nil
		}
		return c.login(ctx)
	}
	return c.loginAndSave(ctx, avoid)
}

// storeFailed leaves the Store alone for StoreRetryAfter.
func (c *Cache) storeFailed() {
	c.storeDown.Store(c.now().Add(c.opts.StoreRetryAfter).UnixNano())
}

// unavailable: the error says the store could not be reached in time, not
// that its content is bad.
func unavailable(err error) bool {
	return errors.Is(err, auth.ErrStoreUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

func (c *Cache) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opts.StoreTimeout)
}

// loadUsable returns the stored token if it is not avoid, passes Check, and
// (with SessionTimeout) its session has not run out. ok is false when the
// store is unavailable: the caller should log in without it.
func (c *Cache) loadUsable(ctx context.Context, avoid *auth.Token) (tok *auth.Token, ok bool) {
	sctx, cancel := c.storeCtx(ctx)
	defer cancel()
	tok, err := c.store.Load(sctx, c.key)
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "sfmtls: token store unreadable; logging in instead", slog.String("error", err.Error()))
		if unavailable(err) {
			c.storeFailed()
			return nil, false
		}
		return nil, true
	}
	if tok == nil || tok.Equal(avoid) {
		return nil, true
	}
	if c.opts.Check != nil {
		if err := c.opts.Check(tok); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "sfmtls: stored token refused; replacing it", slog.String("error", err.Error()))
			_ = c.store.CompareAndDelete(sctx, c.key, tok)
			return nil, true
		}
	}
	if timeout := c.opts.SessionTimeout; timeout > 0 && !tok.ReceivedAt.IsZero() {
		if !c.now().Before(tok.ReceivedAt.Add(timeout - min(timeout/10, time.Minute))) {
			return nil, true
		}
	}
	return tok, true
}

func (c *Cache) loginAndSave(ctx context.Context, avoid *auth.Token) (*auth.Token, error) {
	if avoid != nil {
		sctx, cancel := c.storeCtx(ctx)
		if err := c.store.CompareAndDelete(sctx, c.key, avoid); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "sfmtls: could not delete the rejected token from the store", slog.String("error", err.Error()))
			if unavailable(err) {
				c.storeFailed()
			}
		}
		cancel()
	}
	tok, err := c.login(ctx)
	if err != nil {
		return nil, err
	}
	sctx, cancel := c.storeCtx(ctx)
	defer cancel()
	if c.now().UnixNano() < c.storeDown.Load() {
		return tok, nil
	}
	if err := c.store.Save(sctx, c.key, tok); err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "sfmtls: could not save the token to the store", slog.String("error", err.Error()))
		if unavailable(err) {
			c.storeFailed()
		}
	}
	return tok, nil
}

// login asks the TokenSource and checks the answer.
func (c *Cache) login(ctx context.Context) (*auth.Token, error) {
	c.logins.Add(1)
	tok, err := c.src.Token(ctx)
	if err != nil {
		return nil, err
	}
	if c.opts.Check != nil {
		if err := c.opts.Check(tok); err != nil {
			return nil, err
		}
	} else if tok == nil {
		return nil, &auth.InvalidTokenError{Field: "access_token", Reason: "no token",
			Remedy: "the token source returned neither a token nor an error: fix the auth.TokenSource"}
	}
	return tok, nil
}

// Format prints the cache's state without its token, for every verb.
func (c *Cache) Format(f fmt.State, _ rune) {
	state := "none"
	if c.Current() != nil {
		state = "cached (redacted)"
	}
	fmt.Fprintf(f, "auth.Cache{token: %s, logins: %d, store: %t}", state, c.logins.Load(), c.store != nil)
}
