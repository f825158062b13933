package transport_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// recorder collects everything the suite produces that a user could see: log
// records, error strings, and the printed form of every config and token.
type recorder struct {
	mu  sync.Mutex
	out []string
}

func (r *recorder) Write(p []byte) (int, error) { r.add(string(p)); return len(p), nil }

func (r *recorder) add(s ...string) {
	r.mu.Lock()
	r.out = append(r.out, s...)
	r.mu.Unlock()
}

// printed adds v under every verb that could leak.
func (r *recorder) printed(vs ...any) {
	for _, v := range vs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
			r.add(fmt.Sprintf(verb, v))
		}
	}
}

func (r *recorder) err(err error) {
	if err != nil {
		r.add(err.Error(), fmt.Sprintf("%+v", err))
	}
}

func keySecrets(id *keystore.Identity) []string {
	switch k := id.Signer().(type) {
	case *rsa.PrivateKey:
		return []string{k.D.String(), k.D.Text(16), k.Primes[0].String()}
	case *ecdsa.PrivateKey:
		return []string{k.D.String(), k.D.Text(16)}
	}
	return nil
}

// TestSecretHygiene runs the flows of the SDK, successful and failing, with
// everything captured, and looks for passwords, access tokens, JWT assertions
// and private key material in what was captured.
func TestSecretHygiene(t *testing.T) {
	const password = "Hygiene-Passw0rd-7731"
	rec := &recorder{}
	logger := slog.New(slog.NewJSONHandler(rec, &slog.HandlerOptions{Level: slog.LevelDebug}))
	org := startOrg(t)
	ctx := t.Context()

	// Keystores: load, mistype the password, print what was loaded.
	files, err := org.PKI.WriteFiles(t.TempDir(), password)
	require.NoError(t, err)
	mtls, err := keystore.LoadFile(files.MTLSJKS, keystore.Options{Password: password})
	require.NoError(t, err)
	jwtID, err := keystore.LoadFile(files.JWTPKCS12, keystore.Options{Password: password})
	require.NoError(t, err)
	for _, path := range []string{files.MTLSJKS, files.JWTPKCS12} {
		_, err = keystore.LoadFile(path, keystore.Options{Password: password + "x"})
		rec.err(err)
		_, err = keystore.LoadFile(path, keystore.Options{Password: password, KeyPassword: password + "x"})
		rec.err(err)
	}
	rec.printed(mtls, jwtID, keystore.Options{Password: password, KeyPassword: password})

	// The happy path, a session expiry, and the configs and tokens involved.
	cfg := configFor(org)
	cfg.MTLS, cfg.JWT, cfg.Logger = mtls, jwtID, logger
	ccfg := org.ClientConfig()
	ccfg.MTLS, ccfg.JWT, ccfg.Logger = mtls, jwtID, logger
	c, err := client.New(ccfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	tr := c.Transport()
	_, err = c.Create(ctx, "Account", map[string]any{"Name": "Acme"})
	require.NoError(t, err)
	org.Faults().ExpireAllSessions()
	_, err = c.Limits(ctx)
	require.NoError(t, err)
	tok, err := tr.Token(ctx)
	require.NoError(t, err)
	rec.printed(cfg, tok, *tok, tr.Stats(), tr)
	rec.printed(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username, Signer: jwtID.Signer()})
	// A signer held by value (an ed25519 key is a byte slice) prints its bytes unless Config redacts it.
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rec.printed(auth.JWTBearerConfig{Signer: edKey})
	headerSecret := "hygiene-header-secret-value"
	rec.printed(client.Config{MTLS: mtls, JWT: jwtID, LoginURL: org.URL,
		TokenSource: tr, Header: http.Header{"X-Api-Key": {headerSecret}}})
	rec.printed(transport.Config{MTLS: mtls, JWT: jwtID, LoginURL: org.URL,
		TokenSource: tr, Header: http.Header{"X-Api-Key": {headerSecret}}})

	// REST errors.
	rec.err(c.Get(ctx, "Account", "001missing", nil, &struct{}{}))
	for _, err := range client.Query[map[string]any](ctx, c, "SELECT Name FROM Account WHERE Name = 'x' OR") {
		rec.err(err)
	}

	// Token endpoint failures, including a 200 whose body holds a token but is cut short.
	leaked := "00DLEAKED0000000!AQ4AQHygieneSecretToken"
	failures := []func(){
		func() { org.Setup().PreAuthorize(org.Username, false) },
		func() {
			org.Setup().PreAuthorize(org.Username, true)
			org.Setup().SetAppCertificate(org.PKI.ClientIdentity.Leaf())
		},
		func() {
			org.Setup().SetAppCertificate(jwtID.Leaf())
			org.Faults().FailTokenRequests(10, http.StatusServiceUnavailable)
		},
		func() {
			org.Faults().FailTokenRequestsWith(10, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"access_token":"`+leaked+`","instance_url":`)
			}))
		},
		func() { org.Faults().FailTokenRequestsWith(10, salesforcetest.AbortMidResponse) },
	}
	for _, fail := range failures {
		fail()
		cfg := configFor(org)
		cfg.JWT, cfg.Logger = jwtID, logger
		cfg.LoginRetry = transport.Backoff{MaxAttempts: 2, BaseDelay: 1}
		tr := newTransport(t, cfg)
		_, err := tr.Client().Get(org.InstanceURL + "/services/data/")
		require.Error(t, err)
		rec.err(err)
		_, err = tr.Token(ctx)
		rec.err(err)
	}

	// What must appear nowhere.
	secrets := map[string]string{"password": password, "fixed header value": headerSecret, "leaked token body": leaked, "assertion": "eyJhbGciOiJSUzI1NiIs", "PEM key": "PRIVATE KEY"}
	for i, tokn := range org.IssuedTokens() {
		secrets[fmt.Sprintf("access token %d", i)] = tokn
	}
	secrets["ed25519 key"] = strings.Trim(fmt.Sprint([]byte(edKey[:16])), "[]")
	for _, id := range []*keystore.Identity{mtls, jwtID} {
		for i, s := range keySecrets(id) {
			secrets[fmt.Sprintf("key of %s (%d)", id.Leaf().Subject.CommonName, i)] = s
		}
	}
	require.GreaterOrEqual(t, len(org.IssuedTokens()), 2)
	all := strings.Join(rec.out, "\n")
	require.Contains(t, all, "token fetched", "the capture works: log records are in it")
	require.Contains(t, all, "user hasn't approved this consumer", "the capture works: errors are in it")
	for what, s := range secrets {
		if i := strings.Index(all, s); i >= 0 {
			t.Errorf("%s found in the captured output: …%s…", what, all[max(0, i-80):min(len(all), i+80)])
		}
	}
	assert.Positive(t, len(rec.out))
	t.Logf("%d captured outputs, %d bytes, checked for %d secrets", len(rec.out), len(all), len(secrets))
}
