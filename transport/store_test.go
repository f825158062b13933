package transport_test

// Separate OS processes sharing one token through auth's file store, through
// the real transport: the test binary re-executes itself as a child (TestMain
// sees childEnv), each child a Transport with Config.Store and its callers
// making API calls to one fake org in the parent. The org ends every session
// ten times during the run (401 INVALID_SESSION_ID, REST API Developer Guide,
// "Status Codes and Error Responses").

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/storekey"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/transport"
)

const childEnv = "SFMTLS_TRANSPORT_TEST_CHILD"

func TestMain(m *testing.M) {
	if raw := os.Getenv(childEnv); raw != "" {
		os.Exit(runChild(raw))
	}
	os.Exit(m.Run())
}

// childConfig is what a child needs to reach the parent's org and the store.
type childConfig struct {
	LoginURL, ConsumerKey, Username string
	Port                            int
	MTLSCert, MTLSKey               string
	JWTCert, JWTKey                 string
	ServerCA                        string
	StoreDir                        string
	Callers                         int
}

// childResult is the child's last line.
type childResult struct {
	OK, Failed        int64
	Logins, Refreshes int64
	Replays, Retries  int64
	Errors            []string
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
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in %s", cfg.ServerCA)
	}
	store, err := auth.NewFileStore(cfg.StoreDir)
	if err != nil {
		return nil, err
	}
	tr, err := transport.New(transport.Config{LoginURL: cfg.LoginURL, Port: cfg.Port, ConsumerKey: cfg.ConsumerKey,
		Username: cfg.Username, MTLS: mtls, JWT: jwtID, RootCAs: roots, Store: store,
		LoginRetry: transport.Backoff{BaseDelay: 10 * time.Millisecond}})
	if err != nil {
		return nil, err
	}
	defer tr.CloseIdleConnections()
	base, err := tr.InstanceURL(context.Background())
	if err != nil {
		return nil, err
	}
	url := base.String() + "/services/data/v65.0/limits"

	// The parent closes stdin to end the run.
	ctx, stop := context.WithCancel(context.Background())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop() }()

	res := &childResult{}
	var mu sync.Mutex
	var ready sync.Once
	var wg sync.WaitGroup
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	for range cfg.Callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := getOK(c, url); err != nil {
					atomic.AddInt64(&res.Failed, 1)
					mu.Lock()
					if len(res.Errors) < 5 {
						res.Errors = append(res.Errors, err.Error())
					}
					mu.Unlock()
				} else {
					atomic.AddInt64(&res.OK, 1)
					ready.Do(func() { fmt.Println("ready") })
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	st := tr.Stats()
	res.Logins, res.Refreshes, res.Replays, res.Retries = st.TokenFetches, st.Refreshes, st.Replays, st.Retries
	return res, nil
}

// TestProcessesShareOneTokenThroughTheStore: 8 processes × 50 callers, one
// file store, one org that ends every session 10 times: at most 11 token
// requests in all (the first login and one per ended session), and no call fails.
func TestProcessesShareOneTokenThroughTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 8 processes; run without -short")
	}
	const processes, callers, expiries = 8, 50, 10
	org := startOrg(t)
	files, err := org.PKI.WriteFiles(t.TempDir(), password)
	require.NoError(t, err)
	cfg, err := json.Marshal(childConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username, Port: org.Port,
		MTLSCert: files.MTLSCert, MTLSKey: files.MTLSKey, JWTCert: files.JWTCert, JWTKey: files.JWTKey, ServerCA: files.ServerCA,
		StoreDir: t.TempDir(), Callers: callers})
	require.NoError(t, err)

	type proc struct {
		cmd    *exec.Cmd
		stdin  io.Closer
		lines  chan string
		stderr strings.Builder
	}
	procs := make([]*proc, processes)
	for i := range procs {
		p := &proc{lines: make(chan string, 4)}
		p.cmd = exec.Command(os.Args[0], "-test.run=^$")
		p.cmd.Env = append(os.Environ(), childEnv+"="+string(cfg))
		p.cmd.Stderr = &p.stderr
		stdin, err := p.cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := p.cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, p.cmd.Start())
		p.stdin = stdin
		go func() {
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<16), 1<<20)
			for sc.Scan() {
				p.lines <- sc.Text()
			}
			close(p.lines)
		}()
		procs[i] = p
		t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	}
	for i, p := range procs {
		select {
		case line := <-p.lines:
			require.Equal(t, "ready", line, "child %d: %s", i, p.stderr.String())
		case <-time.After(60 * time.Second):
			t.Fatalf("child %d not ready: %s", i, p.stderr.String())
		}
	}
	// Each session ends only once the one before it has been replaced and is
	// in use: a call replays once per ended session, at most 3 times, so
	// ending sessions faster than a loaded machine can refresh them would test
	// the machine's speed, not the sharing. Progress, not a clock, paces it.
	settled := func(issued int64) {
		calls := org.Stats().APIRequests
		require.Eventually(t, func() bool {
			return org.Stats().TokensIssued > issued
		}, time.Minute, 10*time.Millisecond, "no new session after an expiry")
		require.Eventually(t, func() bool {
			return org.Stats().APIRequests >= calls+6*processes*callers
		}, time.Minute, 10*time.Millisecond, "calls did not resume on the new session")
	}
	settled(0)
	for range expiries {
		issued := org.Stats().TokensIssued
		org.Faults().ExpireAllSessions()
		settled(issued)
	}
	for _, p := range procs {
		p.stdin.Close()
	}
	var total childResult
	for i, p := range procs {
		var res childResult
		select {
		case line, ok := <-p.lines:
			require.True(t, ok, "child %d ended without a result: %s", i, p.stderr.String())
			raw, found := strings.CutPrefix(line, "result ")
			require.True(t, found, "child %d: %q", i, line)
			require.NoError(t, json.Unmarshal([]byte(raw), &res))
		case <-time.After(60 * time.Second):
			t.Fatalf("child %d gave no result: %s", i, p.stderr.String())
		}
		require.NoError(t, p.cmd.Wait())
		assert.Zero(t, res.Failed, "child %d: %v", i, res.Errors)
		total.OK += res.OK
		total.Failed += res.Failed
		total.Logins += res.Logins
		total.Refreshes += res.Refreshes
		total.Replays += res.Replays
	}
	st := org.Stats()
	t.Logf("%d processes × %d callers, %d expiries: %d calls ok, %d failed; token requests %d (logins by the children %d); "+
		"refreshes %d, replays %d", processes, callers, expiries, total.OK, total.Failed, st.TokenRequests, total.Logins,
		total.Refreshes, total.Replays)
	assert.Zero(t, total.Failed)
	assert.Positive(t, total.OK)
	assert.LessOrEqual(t, st.TokenRequests, int64(1+expiries), "one login to start and one per ended session")
}

// The transport names the session's entry from LoginURL, ConsumerKey and
// Username: a second transport of the same identity, written differently
// (case, trailing slash), finds the first one's token; another user does not.
func TestStoreEntryIsNamedByTheLoginIdentity(t *testing.T) {
	org := startOrg(t)
	store, err := auth.NewFileStore(t.TempDir())
	require.NoError(t, err)
	url := org.InstanceURL + "/services/data/v65.0/limits"

	cfg := configFor(org)
	cfg.Store = store
	require.NoError(t, getOK(newTransport(t, cfg).Client(), url))
	require.Equal(t, int64(1), org.Stats().TokenRequests)
	stored, err := store.Load(t.Context(), storekey.Key(org.URL, org.ConsumerKey, org.Username))
	require.NoError(t, err)
	require.NotNil(t, stored, "saved under the identity's key")

	same := configFor(org)
	same.Store = store
	same.LoginURL = strings.ToUpper(org.URL) + "/"
	same.Username = strings.ToUpper(org.Username)
	tr := newTransport(t, same)
	require.NoError(t, getOK(tr.Client(), url))
	assert.Equal(t, int64(1), org.Stats().TokenRequests, "the same identity shares the session")
	assert.Zero(t, tr.Stats().TokenFetches)

	// A TokenSource's user is named by Username; without it there is no entry
	// to share.
	bearer, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey,
		Username: org.Username, Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: org.HTTPClient(nil)})
	require.NoError(t, err)
	src := transport.Config{LoginURL: org.URL, MTLS: org.PKI.ClientIdentity, RootCAs: org.RootCAs(), Port: org.Port,
		TokenSource: bearer, Store: store}
	_, err = transport.New(src)
	require.ErrorIs(t, err, client.ErrConfig)
	src.ConsumerKey, src.Username = org.ConsumerKey, org.Username
	tr = newTransport(t, src)
	require.NoError(t, getOK(tr.Client(), url))
	assert.Zero(t, tr.Stats().TokenFetches, "a TokenSource naming the same identity shares the session")
	assert.Equal(t, int64(1), org.Stats().TokenRequests)
}
