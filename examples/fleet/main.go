// Fleet shows a service that shares one Salesforce session with the other
// processes of its fleet through Redis, so that the fleet logs in once instead
// of once per process.
//
//	cd examples/fleet && go run .
//
// Each process builds a Redis token store (github.com/sfmtls/sfmtls/redisstore)
// and gives it to the client, which names the session in it by its login
// identity (login URL, consumer key, username): the first process logs in
// and stores the token, the others find it there (or wait on the login
// lock while it is being fetched). When Salesforce ends the session, the first
// process to notice logs in once for all of them.
//
// Settings, from the environment:
//   - SF_LOGIN_URL, SF_CONSUMER_KEY, SF_USERNAME, SF_MTLS_KEYSTORE and the other
//     SF_* settings of docs/setup.md: the org. Without
//     SF_LOGIN_URL the program starts a fake org in-process (salesforcetest)
//     and runs three workers against it, each with its own client, as three
//     processes of a fleet would.
//   - SF_REDIS_URL: redis://[user:password@]host:6379/0, or rediss:// for TLS.
//     Required with a real org. With the fake org and no SF_REDIS_URL, the
//     program starts a throwaway redis-server from PATH on a free loopback port.
//   - SF_TOKEN_ENCRYPTION_KEY: optional, the base64 of 32 random bytes
//     (openssl rand -base64 32), the same in every process. The token is then
//     encrypted with AES-256-GCM in Redis. Without it the token is stored as
//     is: whoever can read Redis can call Salesforce as the integration user.
//
// The sfmtls tool shares the same session when given the same Redis and
// encryption key: SF_TOKEN_STORE=$SF_REDIS_URL with the same
// SF_TOKEN_ENCRYPTION_KEY.
//
// It imports only public packages: copy it into your own module.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/redisstore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
		log.Fatal(err)
	}
}

// demoWorkers is how many clients the fake-org demo runs, standing for the
// processes of a fleet.
const demoWorkers = 3

type account struct {
	Name string `json:"Name"`
}

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	cfg, org, err := configure(w, getenv)
	if err != nil {
		return err
	}
	if org != nil {
		defer org.Close()
	}

	redisURL := getenv("SF_REDIS_URL")
	if redisURL == "" {
		if org == nil {
			return errors.New("SF_REDIS_URL is not set: give the Redis the fleet shares, " +
				"e.g. SF_REDIS_URL=rediss://:password@redis.internal:6380/0 (rediss:// for TLS)")
		}
		srv, err := startRedis(ctx)
		if err != nil {
			return err
		}
		defer srv.stop()
		fmt.Fprintf(w, "No SF_REDIS_URL: started a throwaway redis-server on %s.\n", srv.addr)
		redisURL = "redis://" + srv.addr + "/0"
	}
	opts, err := redisOptions(redisURL)
	if err != nil {
		return err
	}
	encKey, err := encryptionKey(getenv("SF_TOKEN_ENCRYPTION_KEY"))
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	// The client names the session's entry from the login URL, consumer key
	// and username: every process of this identity finds the same one.
	store, err := redisstore.New(rdb, redisstore.Options{EncryptionKey: encKey})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Token store: Redis at %s (TLS: %s, AUTH: %s, token encrypted: %s).\n",
		opts.Addr, yesNo(opts.TLSConfig != nil), yesNo(opts.Password != ""), yesNo(encKey != nil))
	if encKey == nil {
		fmt.Fprintln(w, "  The token is stored unencrypted: protect Redis with AUTH and TLS, or set SF_TOKEN_ENCRYPTION_KEY.")
	}

	// Store warnings (Redis unreachable: each process logs in by itself for a while).
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg.Store = store

	if org == nil {
		return work(ctx, w, "this process", cfg)
	}
	// The fake org: several workers, each with its own client and so its own
	// in-memory cache, sharing the session only through Redis.
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, demoWorkers)
	errs := make([]error, demoWorkers)
	for i := range demoWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = work(ctx, &outs[i], fmt.Sprintf("worker %d", i+1), cfg)
		}()
	}
	wg.Wait()
	for i := range outs {
		if _, err := w.Write(outs[i].Bytes()); err != nil {
			return err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(w, "The fake org saw %d token request(s) for %d workers.\n", org.Stats().TokenRequests, demoWorkers)
	return nil
}

// work is what each process of the fleet does: a query and the org's limits,
// then what it cost.
func work(ctx context.Context, w io.Writer, name string, cfg client.Config) error {
	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()

	n := 0
	for a, err := range client.Query[account](ctx, c, "SELECT Name FROM Account ORDER BY Name LIMIT 5") {
		if err != nil {
			return fmt.Errorf("%s: query: %w", name, err)
		}
		n++
		fmt.Fprintf(w, "%s: query: %s\n", name, a.Name)
	}
	fmt.Fprintf(w, "%s: query: %d record(s)\n", name, n)

	limits, err := c.Limits(ctx)
	if err != nil {
		return fmt.Errorf("%s: limits: %w", name, err)
	}
	daily := limits["DailyApiRequests"]
	fmt.Fprintf(w, "%s: limits: DailyApiRequests %d of %d remaining\n", name, daily.Remaining, daily.Max)

	st := c.Stats()
	source := "from the shared store"
	if st.TokenFetches > 0 {
		source = fmt.Sprintf("logged in (%d token request(s)) and shared it", st.TokenFetches)
	}
	fmt.Fprintf(w, "%s: session %s; API usage %d of %d\n", name, source, st.APIUsage.Used, st.APIUsage.Max)
	return nil
}

// redisOptions parses SF_REDIS_URL; redisstore.ParseURL's errors never hold
// the password.
func redisOptions(raw string) (*redis.Options, error) {
	opts, err := redisstore.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("SF_REDIS_URL: %w", err)
	}
	return opts, nil
}

// encryptionKey decodes SF_TOKEN_ENCRYPTION_KEY: empty means no encryption.
func encryptionKey(b64 string) ([]byte, error) {
	if b64 == "" {
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(key) != 32 {
		return nil, errors.New("SF_TOKEN_ENCRYPTION_KEY must be the base64 of 32 random bytes " +
			"(openssl rand -base64 32), the same in every process")
	}
	return key, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// localRedis is a throwaway redis-server for the fake-org demo.
type localRedis struct {
	addr string
	dir  string
	cmd  *exec.Cmd
}

// startRedis starts redis-server from PATH on a free loopback port, with no
// persistence, and waits (at most 10 s) until it answers PING.
func startRedis(ctx context.Context) (*localRedis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("SF_REDIS_URL is not set and redis-server is not on PATH: " +
			"set SF_REDIS_URL=redis://localhost:6379/0, or install redis-server (apt-get install redis-server, brew install redis)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-fleet-redis-")
	if err != nil {
		return nil, err
	}
	logFile := filepath.Join(dir, "redis.log")
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--logfile", logFile, "--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	s := &localRedis{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir, cmd: cmd}
	rdb := redis.NewClient(&redis.Options{Addr: s.addr, DialTimeout: time.Second, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := rdb.Ping(pctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			logText, _ := os.ReadFile(logFile)
			s.stop()
			return nil, fmt.Errorf("redis-server on %s did not answer within 10s: %w\n%s", s.addr, err, logText)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *localRedis) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// configure reads the SF_* settings, or without SF_LOGIN_URL starts a fake
// org (returned, for the caller to close) holding a few Accounts.
func configure(w io.Writer, getenv func(string) string) (client.Config, *salesforcetest.Org, error) {
	if getenv("SF_LOGIN_URL") != "" || getenv("SF_MTLS_KEYSTORE") != "" {
		cfg, err := client.ConfigFromEnv(getenv)
		return cfg, nil, err
	}
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		return client.Config{}, nil, err
	}
	for _, name := range []string{"Acme", "Globex", "Initech"} {
		if _, err := org.Data().Create("Account", map[string]any{"Name": name}); err != nil {
			org.Close()
			return client.Config{}, nil, err
		}
	}
	fmt.Fprintf(w, "No SF_LOGIN_URL: using a fake org at %s.\n", org.URL)
	return org.ClientConfig(), org, nil
}
