package redisstore_test

// Proofs with separate OS processes: the test binary re-executes itself as a
// child (TestMain sees childEnv). Each child runs the SDK's token cache (internal/tokencache) over a JWTBearer
// and a shared Store, and its callers make real API calls to one fake org that
// lives in the parent: GET /services/data/v65.0/limits, invalidating the token
// and retrying on 401 INVALID_SESSION_ID (REST API Developer Guide, "Status
// Codes and Error Responses": the body is a JSON array of {message, errorCode}).

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/storekey"
	"github.com/sfmtls/sfmtls/internal/tokencache"
	"github.com/sfmtls/sfmtls/internal/tokencheck"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/redisstore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

const childEnv = "REDISSTORE_TEST_CHILD"

// childConfig is what a child needs to reach the parent's org and store.
type childConfig struct {
	OrgURL      string
	ConsumerKey string
	Username    string
	MTLSCert    string
	MTLSKey     string
	JWTCert     string
	JWTKey      string
	ServerCA    string
	Store       string // "redis" or "file"
	RedisAddr   string
	FileDir     string
	LockTTL     time.Duration
	Callers     int
	Pace        time.Duration // pause between one caller's calls
}

// childResult is the child's last line.
type childResult struct {
	OK, Failed, Logins, Unauthorized int64
	NetworkRetries                   int64 // GETs sent again after a dropped connection
	Errors                           []string
}

func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		os.Exit(runChild(cfg))
	}
	os.Exit(m.Run())
}

func runChild(raw string) int {
	var cfg childConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child config:", err)
		return 2
	}
	res, err := child(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	out, _ := json.Marshal(res)
	fmt.Printf("result %s\n", out)
	return 0
}

func child(cfg childConfig) (*childResult, error) {
	mtls, err := keystore.LoadFile(cfg.MTLSCert, keystore.Options{KeyFile: cfg.MTLSKey})
	if err != nil {
		return nil, err
	}
	jwtID, err := keystore.LoadFile(cfg.JWTCert, keystore.Options{KeyFile: cfg.JWTKey})
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(cfg.ServerCA)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	cert := mtls.TLSCertificate()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{
		RootCAs: roots, MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
	}}}
	src, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: cfg.OrgURL, ConsumerKey: cfg.ConsumerKey, Username: cfg.Username,
		Signer: jwtID.Signer(), HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	var store auth.Store
	switch cfg.Store {
	case "redis":
		rdb := redis.NewClient(clientOptions(cfg.RedisAddr))
		defer rdb.Close()
		store, err = redisstore.New(rdb, redisstore.Options{LockTTL: cfg.LockTTL, EncryptionKey: []byte(testKey)})
	case "file":
		store, err = auth.NewFileStore(cfg.FileDir)
	default:
		err = fmt.Errorf("unknown store %q", cfg.Store)
	}
	if err != nil {
		return nil, err
	}
	cache := tokencache.New(src, tokencache.Options{Store: store, StoreKey: storekey.Key(cfg.OrgURL, cfg.ConsumerKey, cfg.Username), Check: tokencheck.Checker(cfg.OrgURL, nil),
		StoreTimeout: 2 * time.Second, StoreRetryAfter: 2 * time.Second, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})

	// The parent closes stdin to end the run.
	ctx, stop := context.WithCancel(context.Background())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop() }()

	res := &childResult{}
	var mu sync.Mutex
	var ready sync.Once
	var wg sync.WaitGroup
	for range cfg.Callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				unauthorized, err := call(cache, hc, cfg.OrgURL, &res.NetworkRetries)
				atomic.AddInt64(&res.Unauthorized, int64(unauthorized))
				if err != nil {
					atomic.AddInt64(&res.Failed, 1)
					mu.Lock()
					if len(res.Errors) < 5 {
						res.Errors = append(res.Errors, err.Error())
					}
					mu.Unlock()
				} else {
					atomic.AddInt64(&res.OK, 1)
					ready.Do(func() { fmt.Printf("ready %d\n", time.Now().UnixMilli()) })
				}
				select {
				case <-ctx.Done():
				case <-time.After(cfg.Pace):
				}
			}
		}()
	}
	wg.Wait()
	res.Logins = cache.Fetches()
	return res, nil
}

// call makes one API call, invalidating and retrying on INVALID_SESSION_ID.
// A GET whose connection dropped is sent once more (it is idempotent).
func call(cache *tokencache.Cache, hc *http.Client, orgURL string, networkRetries *int64) (unauthorized int, err error) {
	netRetried := false
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		tok, err := cache.Token(ctx)
		if err != nil {
			cancel()
			return unauthorized, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, orgURL+"/services/data/v65.0/limits", nil)
		req.Header.Set("Authorization", "Bearer "+string(tok.AccessToken))
		resp, err := hc.Do(req)
		if err != nil {
			cancel()
			if !netRetried {
				netRetried = true
				atomic.AddInt64(networkRetries, 1)
				continue
			}
			return unauthorized, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		cancel()
		if resp.StatusCode == http.StatusOK {
			cache.Touch(tok)
			return unauthorized, nil
		}
		var errs []struct {
			ErrorCode string `json:"errorCode"`
		}
		if resp.StatusCode == http.StatusUnauthorized && json.Unmarshal(body, &errs) == nil && len(errs) > 0 && errs[0].ErrorCode == "INVALID_SESSION_ID" {
			unauthorized++
			cache.Invalidate(tok)
			continue
		}
		return unauthorized, fmt.Errorf("API call answered %d", resp.StatusCode)
	}
	return unauthorized, errors.New("session rejected five times in a row")
}

// proofEnv is the org, its files and the store the children share.
type proofEnv struct {
	t     *testing.T
	org   *salesforcetest.Org
	files *salesforcetest.Files
	redis *redisServer
	dir   string
}

func newProofEnv(t *testing.T, withRedis bool) *proofEnv {
	// The proofs make tens of thousands of calls: more than a Developer
	// Edition's daily allocation, which the fake org enforces.
	org, err := salesforcetest.Start(salesforcetest.Config{DailyAPIRequests: 10_000_000})
	require.NoError(t, err)
	t.Cleanup(org.Close)
	dir := t.TempDir()
	files, err := org.PKI.WriteFiles(dir, "changeit")
	require.NoError(t, err)
	e := &proofEnv{t: t, org: org, files: files, dir: filepath.Join(dir, "tokens")}
	if withRedis {
		e.redis = startRedis(t)
	}
	return e
}

// proc is one child process.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	ready  chan time.Time
	result chan childResult
	stderr *lockedBuilder
}

func (e *proofEnv) spawn(store string, callers int, lockTTL time.Duration) *proc {
	t := e.t
	cfg := childConfig{OrgURL: e.org.URL, ConsumerKey: e.org.ConsumerKey, Username: e.org.Username,
		MTLSCert: e.files.MTLSCert, MTLSKey: e.files.MTLSKey, JWTCert: e.files.JWTCert, JWTKey: e.files.JWTKey,
		ServerCA: e.files.ServerCA, Store: store, FileDir: e.dir, LockTTL: lockTTL, Callers: callers, Pace: 20 * time.Millisecond}
	if e.redis != nil {
		cfg.RedisAddr = e.redis.Addr()
	}
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	p := &proc{cmd: cmd, ready: make(chan time.Time, 1), result: make(chan childResult, 1), stderr: &lockedBuilder{b: &strings.Builder{}}}
	p.stdin, err = cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = p.stderr
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if ms, ok := strings.CutPrefix(line, "ready "); ok {
				n, _ := strconv.ParseInt(ms, 10, 64)
				p.ready <- time.UnixMilli(n)
			} else if js, ok := strings.CutPrefix(line, "result "); ok {
				var r childResult
				if json.Unmarshal([]byte(js), &r) == nil {
					p.result <- r
				}
			}
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

type lockedBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (p *proc) waitReady(t *testing.T, within time.Duration) time.Time {
	t.Helper()
	select {
	case at := <-p.ready:
		return at
	case <-time.After(within):
		t.Fatalf("child not ready within %s; stderr:\n%s", within, p.stderr.String())
	}
	return time.Time{}
}

// finish ends the child's run and returns its counts.
func (p *proc) finish(t *testing.T) childResult {
	t.Helper()
	p.stdin.Close()
	select {
	case r := <-p.result:
		return r
	case <-time.After(60 * time.Second):
		t.Fatalf("child did not finish; stderr:\n%s", p.stderr.String())
	}
	return childResult{}
}

// succeeded is how many API calls the org has answered with success.
func (e *proofEnv) succeeded() int64 {
	st := e.org.Stats()
	return st.APIRequests - st.Unauthorized
}

// settle waits until the org has issued a token after issued and, on it, the
// children's callers have made two successful calls each on average: the
// sessions are replaced and in use, however slow the machine.
func (e *proofEnv) settle(issued int64, callers int) {
	e.t.Helper()
	require.Eventually(e.t, func() bool { return e.org.Stats().TokensIssued > issued }, time.Minute, 5*time.Millisecond,
		"no new session after an expiry")
	calls := e.succeeded()
	require.Eventually(e.t, func() bool { return e.succeeded() >= calls+int64(2*callers) }, time.Minute, 5*time.Millisecond,
		"calls did not resume on the new session")
}

// expireRepeatedly ends every session n times, each time once the one before
// has been replaced and is in use (settle), so that each expiry lands on a
// live session: progress, not a clock, paces it. callers is how many callers
// the children run in all.
func (e *proofEnv) expireRepeatedly(n, callers int) {
	e.t.Helper()
	for range n {
		issued := e.org.Stats().TokensIssued
		e.org.Faults().ExpireAllSessions()
		e.settle(issued, callers)
	}
}

func sum(t *testing.T, procs []*proc) childResult {
	var total childResult
	for _, p := range procs {
		r := p.finish(t)
		total.OK += r.OK
		total.Failed += r.Failed
		total.Logins += r.Logins
		total.Unauthorized += r.Unauthorized
		total.NetworkRetries += r.NetworkRetries
		total.Errors = append(total.Errors, r.Errors...)
	}
	return total
}

// 8 processes × 50 concurrent callers; the org ends every session 10 times.
// Each expiry costs one login across all processes: ≤ 11 token requests in all.
func TestProofEightProcessesShareOneSession(t *testing.T) {
	for _, store := range []string{"redis", "file"} {
		t.Run(store, func(t *testing.T) {
			e := newProofEnv(t, store == "redis")
			var procs []*proc
			for range 8 {
				procs = append(procs, e.spawn(store, 50, 5*time.Second))
			}
			for _, p := range procs {
				p.waitReady(t, 60*time.Second)
			}
			e.expireRepeatedly(10, 8*50)
			total := sum(t, procs)
			st := e.org.Stats()
			t.Logf("%s store: %d calls ok, %d failed, %d 401s met, %d token requests (logins by the children: %d), %d GETs resent after a dropped connection",
				store, total.OK, total.Failed, total.Unauthorized, st.TokenRequests, total.Logins, total.NetworkRetries)
			assert.Zero(t, total.Failed, "errors: %v", total.Errors)
			if !assert.LessOrEqual(t, st.TokenRequests, int64(11)) {
				// A child that logged in alone said why (lock or store
				// unavailable, and the error) in its warnings.
				for i, p := range procs {
					t.Logf("child %d stderr:\n%s", i, p.stderr.String())
				}
			}
			assert.Greater(t, total.Unauthorized, int64(0), "the expiries were met")
			assert.Greater(t, total.OK, int64(1000))
		})
	}
}

// The process holding the lock is killed with SIGKILL in the middle of a
// login: the others get a token within the lock's TTL + 1 s.
func TestProofLockHolderKilledMidLogin(t *testing.T) {
	e := newProofEnv(t, true)
	const ttl = 2 * time.Second
	e.org.Faults().SetTokenDelay(time.Hour) // the holder's login hangs
	holder := e.spawn("redis", 1, ttl)
	raw := e.redis.Client(t)
	lockKey := "sfmtls:lock:" + storekey.Key(e.org.URL, e.org.ConsumerKey, e.org.Username)
	require.Eventually(t, func() bool { return raw.Exists(t.Context(), lockKey).Val() == 1 }, 30*time.Second, 5*time.Millisecond,
		"the first child takes the login lock")
	lockedAt := time.Now()
	require.Eventually(t, func() bool { return e.org.Stats().TokenRequests == 1 }, 10*time.Second, 5*time.Millisecond, "and is logging in")

	var waiters []*proc
	for range 3 {
		waiters = append(waiters, e.spawn("redis", 10, ttl))
	}
	// Each waiter subscribes to the identity's channel once it finds the lock
	// taken: then all three are blocked on it.
	channel := "sfmtls:events:" + storekey.Key(e.org.URL, e.org.ConsumerKey, e.org.Username)
	require.Eventually(t, func() bool { return raw.PubSubNumSub(t.Context(), channel).Val()[channel] == int64(len(waiters)) },
		30*time.Second, 5*time.Millisecond, "the waiters wait on the lock")
	require.NoError(t, holder.cmd.Process.Signal(syscall.SIGKILL))
	killedAt := time.Now()
	e.org.Faults().SetTokenDelay(0)

	for _, w := range waiters {
		at := w.waitReady(t, 30*time.Second)
		t.Logf("waiter got a token %s after the kill, %s after the lock was taken", at.Sub(killedAt).Round(time.Millisecond), at.Sub(lockedAt).Round(time.Millisecond))
		assert.LessOrEqual(t, at.Sub(lockedAt), ttl+time.Second, "within the lock's TTL + 1 s")
	}
	total := sum(t, waiters)
	assert.Zero(t, total.Failed, "errors: %v", total.Errors)
	st := e.org.Stats()
	t.Logf("token requests: %d (the killed holder's and one more)", st.TokenRequests)
	assert.Equal(t, int64(2), st.TokenRequests)
}

// Redis stopped in the middle of the run: 0 failed calls (each process logs in
// by itself meanwhile). Redis back: sharing resumes, one login per expiry.
func TestProofRedisStoppedMidRun(t *testing.T) {
	e := newProofEnv(t, true)
	var procs []*proc
	for range 4 {
		procs = append(procs, e.spawn("redis", 20, 5*time.Second))
	}
	for _, p := range procs {
		p.waitReady(t, 60*time.Second)
	}
	e.expireRepeatedly(2, 4*20)
	shared := e.org.Stats().TokenRequests
	t.Logf("with Redis: %d token requests for the start and 2 expiries", shared)
	assert.LessOrEqual(t, shared, int64(3))

	e.redis.Stop()
	before, apiBefore := e.org.Stats().TokenRequests, e.org.Stats().APIRequests
	e.expireRepeatedly(3, 4*20)
	down := e.org.Stats().TokenRequests - before
	t.Logf("Redis down: %d API requests", e.org.Stats().APIRequests-apiBefore)
	t.Logf("Redis down: %d token requests for 3 expiries across 4 processes", down)
	assert.LessOrEqual(t, down, int64(3*4), "each process logs in by itself, once per expiry")
	assert.GreaterOrEqual(t, down, int64(3), "and does log in while Redis is down")

	e.redis.Start()
	// The children leave the store alone for StoreRetryAfter (2 s) after it
	// failed, each logging in by itself meanwhile: end sessions until one
	// ending costs one login across the four, i.e. they share through Redis
	// again.
	deadline := time.Now().Add(time.Minute)
	for {
		before := e.org.Stats().TokenRequests
		e.expireRepeatedly(1, 4*20)
		if e.org.Stats().TokenRequests-before == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the children never shared through Redis again")
	}
	before = e.org.Stats().TokenRequests
	e.expireRepeatedly(3, 4*20)
	back := e.org.Stats().TokenRequests - before
	t.Logf("Redis back: %d token requests for 3 expiries", back)
	assert.LessOrEqual(t, back, int64(3), "sharing resumes: one login per expiry")

	total := sum(t, procs)
	t.Logf("calls: %d ok, %d failed, %d GETs resent after a dropped connection", total.OK, total.Failed, total.NetworkRetries)
	assert.Zero(t, total.Failed, "errors: %v", total.Errors)
}
