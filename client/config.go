package client

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/certfile"
	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/internal/secretfile"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/transport"
)

// Config is everything a Client needs: the one value a program writes. Only
// LoginURL, ConsumerKey, Username and MTLS are required; every other field's
// zero value is the usual choice. ConfigFromEnv reads it from SF_* variables.
type Config struct {
	// ——— The org and its user ———

	// LoginURL is the org's My Domain URL, e.g. https://acme.my.salesforce.com.
	// Mutual TLS needs it: login.salesforce.com and test.salesforce.com do not
	// serve it. Optional with TokenSource.
	LoginURL string
	// ConsumerKey is the connected (or external client) app's consumer key,
	// the JWT's issuer. Not needed with TokenSource.
	ConsumerKey string
	// Username is the integration user, the JWT's subject. Not needed with
	// TokenSource.
	Username string
	// Audience overrides the JWT's audience: by default https://test.salesforce.com
	// for sandbox My Domains, else https://login.salesforce.com.
	Audience string
	// APIVersion such as "65.0"; empty means the newest the org lists.
	APIVersion string

	// ——— The identities ———

	// MTLS is the CA-signed identity uploaded as the org's Mutual
	// Authentication Certificate, presented on every connection to the org.
	MTLS *keystore.Identity
	// JWT is the identity whose certificate is uploaded to the app (Use
	// digital signatures) to sign the JWT bearer assertion; nil means MTLS.
	// Its key must be RSA of 2,048 bits or more: the flow signs with RS256.
	JWT *keystore.Identity

	// ——— The connection ———

	// Port is the mutual TLS port of the token request and API calls when the
	// URL names none; 0 means 8443, where Salesforce asks for the certificate.
	Port int
	// RootCAs verifies Salesforce's servers; nil means the system's roots. For
	// a TLS-inspecting proxy or a test org, start from x509.SystemCertPool and
	// add its CA (ConfigFromEnv does so with SF_CA_FILE).
	RootCAs *x509.CertPool
	// InstanceHosts are hosts a token's instance_url may name besides the login
	// host and Salesforce's own domains: a private or test setup's. "host"
	// matches exactly; ".example.com" or "*.example.com" matches its
	// subdomains. A token naming any other host is refused before it is cached
	// or used, and that host never gets the token or the client certificate.
	InstanceHosts []string
	// Header holds fixed headers added to every request for the org (API calls
	// and the token request), such as Sforce-Call-Options: client=acme. A
	// header the request sets itself wins; other hosts never get them. It may
	// not set Authorization or Host.
	Header http.Header
	// MaxConnsPerHost bounds the HTTP/2 connections to each Salesforce host; 0
	// means 4. A host that answers in HTTP/1.1 carries one request per
	// connection, so its connections follow the callers instead.
	MaxConnsPerHost int
	// HTTP2 tunes the HTTP/2 connections. Its health check pings a connection
	// that received nothing for SendPingTimeout and closes it when no answer
	// comes within PingTimeout, so calls on a silent connection fail fast; nil
	// or zero values mean 30s and 15s, a negative SendPingTimeout turns it off.
	HTTP2 *http.HTTP2Config
	// WrapBase, when set, wraps each base transport (the mutual TLS ones for
	// the org and the plain one for other hosts) for instrumentation such as
	// otelhttp.NewTransport: it sees every attempt, retries included. It
	// receives an *http.Transport not yet used, whose DialContext or Proxy it
	// may replace, and must not return nil. Each base is built, and wrapped,
	// when first needed: the org's HTTP/2 one in New, the others (for a host
	// that answers in HTTP/1.1, for other hosts) on the first request for them.
	WrapBase func(http.RoundTripper) http.RoundTripper

	// ——— The session ———

	// TokenSource, when set, supplies the access tokens in place of the JWT
	// bearer exchange (then JWT, ConsumerKey and Username are not needed). Its
	// tokens are cached and refreshed on INVALID_SESSION_ID like the
	// exchange's; it must be safe for concurrent use.
	TokenSource auth.TokenSource
	// Store shares the session with other processes of the same login
	// (auth.NewFileStore, or the redisstore module), so that a fleet logs in
	// once; nil keeps it in this process. The SDK names the session's entry
	// from LoginURL, ConsumerKey and Username (hashed; case, a trailing slash
	// and port 443 do not matter), so every process of one identity, the
	// sfmtls tool included, finds the same one. With a TokenSource, Username
	// is then required: the SDK cannot tell whose tokens the source gives.
	Store auth.Store
	// SessionTimeout is the org's session timeout, to log in again before it
	// runs out; 0 logs in again only when Salesforce answers
	// INVALID_SESSION_ID. Every call extends the session, as Salesforce's
	// inactivity timeout does.
	SessionTimeout time.Duration

	// ——— Retries and limits ———

	// LoginRetry paces the retries of the token request after a failure
	// without an answer, a 429 or a 5xx (an OAuth refusal is never retried);
	// nil means 4 attempts, exponential backoff with jitter from 200ms, at
	// least the answer's Retry-After, and a transport.Backoff's zero fields
	// take these defaults. Its retries spend from the same RetryBudget as
	// API calls'.
	LoginRetry transport.RetryPolicy
	// CallRetry decides how API calls that failed transiently are sent again;
	// nil means transport.Backoff{}: 3 attempts, exponential backoff with
	// jitter from 100ms, at least the answer's Retry-After. A call that may
	// have been processed is never sent again (transport.MaybeProcessedError).
	// transport.WithRetryPolicy overrides it for one call.
	CallRetry transport.RetryPolicy
	// RetryBudget is how many retries the client may spend before calls that
	// succeed earn more (a tenth of a retry each), so that retries cannot
	// multiply the load on a failing org; 0 means 10, negative means none.
	RetryBudget int
	// UsageCap, when set, refuses new calls locally with
	// *transport.UsageCapError once the org's API usage (or the app's quota)
	// in Sforce-Limit-Info reaches this fraction of its allocation, such as
	// 0.9; one call every 30 seconds still goes out to read the usage again.
	// 0 means no cap.
	UsageCap float64
	// MaxResponseBytes bounds a decoded answer; a longer one fails with
	// *ResponseTooLargeError. 0 means 256 MiB: far above a full query page
	// of ordinary records, and a stop for an answer that never ends.
	MaxResponseBytes int64

	// Logger receives debug records of logins, refreshes and retries, and API
	// usage as it passes 50, 75, 90 and 95% of the allocation; nil logs nothing.
	Logger *slog.Logger
}

// defaultMaxResponseBytes bounds decoded answers unless configured.
const defaultMaxResponseBytes = 256 << 20

// Format prints the configuration for every verb without key material: the
// identities print as their summaries, the token source as its type, and the
// headers as their names only, since a header may carry a credential.
func (c Config) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "client.Config{APIVersion:%q MaxResponseBytes:%d ", c.APIVersion, c.MaxResponseBytes)
	c.transport().Format(f, verb)
	fmt.Fprint(f, "}")
}

// transport is the transport's share of c.
func (c Config) transport() transport.Config {
	return transport.Config{
		LoginURL: c.LoginURL, Audience: c.Audience, ConsumerKey: c.ConsumerKey, Username: c.Username,
		MTLS: c.MTLS, JWT: c.JWT,
		Port: c.Port, RootCAs: c.RootCAs, InstanceHosts: c.InstanceHosts, Header: c.Header,
		MaxConnsPerHost: c.MaxConnsPerHost, HTTP2: c.HTTP2, WrapBase: c.WrapBase,
		TokenSource: c.TokenSource, Store: c.Store, SessionTimeout: c.SessionTimeout,
		LoginRetry: c.LoginRetry, CallRetry: c.CallRetry, RetryBudget: c.RetryBudget, UsageCap: c.UsageCap,
		Logger: c.Logger,
	}
}

// checkOwn returns the problems of the fields only the client reads, joined;
// transport.Config.Validate checks the others.
func (c Config) checkOwn() error {
	var problems []error
	if c.APIVersion != "" && !versionForm(strings.TrimPrefix(c.APIVersion, "v")) {
		problems = append(problems, errs.New("APIVersion", fmt.Sprintf("%q is not a Salesforce API version", c.APIVersion),
			"give it in the form NN.0, such as 65.0, as GET /services/data/ lists them, or leave it empty for the newest the org lists"))
	}
	if c.MaxResponseBytes < 0 {
		problems = append(problems, errs.New("MaxResponseBytes", fmt.Sprintf("%d is negative", c.MaxResponseBytes),
			fmt.Sprintf("give a bound in bytes, or 0 for %d", defaultMaxResponseBytes)))
	}
	return errors.Join(problems...)
}

// versionForm reports whether v is written as Salesforce numbers its API
// versions, "65.0": a whole number without leading zeros, then ".0" (REST API
// Developer Guide, "Versions": every version is listed as "NN.0", its URL as
// /services/data/vNN.0). Anything else ("65", "65.1") is a 404 at the first call.
func versionForm(v string) bool {
	major, ok := strings.CutSuffix(v, ".0")
	if !ok || major == "" || major[0] == '0' {
		return false
	}
	for _, r := range major {
		if r < '0' || r > '9' {
			return false
		}
	}
	return len(major) <= 4
}

// ConfigFromEnv reads a Config from the SF_* variables through getenv (nil
// means os.Getenv): the settings docs/setup.md lists, the same ones the
// sfmtls tool reads. It loads both keystores and the CA file. Every setting
// that is missing or cannot be read comes back at once, each a *ConfigError
// naming the field and the variable; New then checks what the values mean.
//
// The keystores, key files and password files are secret files: on Unix, one
// that other users (group or others) can write is refused, a *ConfigError
// whose Fix is chmod 600; one they can read is used, with a warning logged on
// slog.Default(), since ConfigFromEnv has no Logger.
//
//	SF_LOGIN_URL, SF_CONSUMER_KEY, SF_USERNAME      required
//	SF_AUDIENCE, SF_API_VERSION, SF_MTLS_PORT, SF_INSTANCE_HOSTS (comma-separated)
//	SF_MTLS_KEYSTORE                                required: JKS, JCEKS, PKCS#12 or PEM
//	SF_MTLS_KEYSTORE_PASSWORD or …_PASSWORD_FILE    its store password
//	SF_MTLS_KEY_PASSWORD or …_PASSWORD_FILE         its key password (default: the store's)
//	SF_MTLS_ALIAS, SF_MTLS_KEY_FILE                 the key's alias; PEM only: a separate key file
//	SF_JWT_KEYSTORE and the same SF_JWT_* variables the JWT identity (default: the mTLS one)
//	SF_CA_FILE                                      PEM roots trusted besides the system's
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var problems []error
	missing := func(field, setting, what string) {
		problems = append(problems, &ConfigError{Field: field, Setting: setting, Problem: "not set", Remedy: "set " + setting + " to " + what})
	}
	cfg := Config{
		LoginURL:    strings.TrimSpace(getenv("SF_LOGIN_URL")),
		ConsumerKey: strings.TrimSpace(getenv("SF_CONSUMER_KEY")),
		Username:    strings.TrimSpace(getenv("SF_USERNAME")),
		Audience:    strings.TrimSpace(getenv("SF_AUDIENCE")),
		APIVersion:  strings.TrimSpace(getenv("SF_API_VERSION")),
	}
	if cfg.LoginURL == "" {
		missing("LoginURL", "SF_LOGIN_URL", "the org's My Domain URL, such as https://acme.my.salesforce.com")
	}
	if cfg.ConsumerKey == "" {
		missing("ConsumerKey", "SF_CONSUMER_KEY", "the app's consumer key")
	}
	if cfg.Username == "" {
		missing("Username", "SF_USERNAME", "the integration user's username")
	}
	if v := strings.TrimSpace(getenv("SF_MTLS_PORT")); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			problems = append(problems, &ConfigError{Field: "Port", Setting: "SF_MTLS_PORT",
				Problem: fmt.Sprintf("%q is not a TCP port", v), Remedy: "set SF_MTLS_PORT to a port such as 8443, or unset it"})
		} else {
			cfg.Port = port
		}
	}
	if v := getenv("SF_INSTANCE_HOSTS"); strings.TrimSpace(v) != "" {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				cfg.InstanceHosts = append(cfg.InstanceHosts, h)
			}
		}
	}
	if strings.TrimSpace(getenv("SF_MTLS_KEYSTORE")) == "" {
		missing("MTLS", "SF_MTLS_KEYSTORE", "the keystore of the CA-signed client certificate")
	} else if id, err := loadIdentity("MTLS", "SF_MTLS_", getenv); err != nil {
		problems = append(problems, err)
	} else {
		cfg.MTLS = id
	}
	if strings.TrimSpace(getenv("SF_JWT_KEYSTORE")) != "" {
		if id, err := loadIdentity("JWT", "SF_JWT_", getenv); err != nil {
			problems = append(problems, err)
		} else {
			cfg.JWT = id
		}
	}
	if path := strings.TrimSpace(getenv("SF_CA_FILE")); path != "" {
		pool, err := rootsWith(path)
		if err != nil {
			problems = append(problems, &ConfigError{Field: "RootCAs", Setting: "SF_CA_FILE", Err: err,
				Remedy: "set SF_CA_FILE to a PEM file of the CA certificates to trust, or unset it"})
		} else {
			cfg.RootCAs = pool
		}
	}
	return cfg, errors.Join(problems...)
}

// loadIdentity loads the keystore the variables under prefix name. The
// keystore, its key file and its password files are secret files
// (checkSecretFile): one others can write is refused, one others can read is
// used with a warning.
func loadIdentity(field, prefix string, getenv func(string) string) (*keystore.Identity, error) {
	setting := prefix + "KEYSTORE"
	path := strings.TrimSpace(getenv(setting))
	opts := keystore.Options{Alias: strings.TrimSpace(getenv(prefix + "ALIAS")), KeyFile: strings.TrimSpace(getenv(prefix + "KEY_FILE"))}
	// With a separate key file, the keystore file holds only certificates:
	// others may read it, not write it.
	if err := checkSecretFile(field, setting, path, opts.KeyFile == ""); err != nil {
		return nil, err
	}
	if opts.KeyFile != "" {
		if err := checkSecretFile(field, prefix+"KEY_FILE", opts.KeyFile, true); err != nil {
			return nil, err
		}
	}
	var err error
	for _, pw := range []struct {
		name string
		to   *keystore.Secret
	}{{prefix + "KEYSTORE_PASSWORD", &opts.Password}, {prefix + "KEY_PASSWORD", &opts.KeyPassword}} {
		if file := strings.TrimSpace(getenv(pw.name + "_FILE")); file != "" {
			if err := checkSecretFile(field, pw.name+"_FILE", file, true); err != nil {
				return nil, err
			}
		}
		if *pw.to, err = secretSetting(pw.name, getenv); err != nil {
			return nil, &ConfigError{Field: field, Setting: pw.name + "_FILE", Err: err,
				Remedy: fmt.Sprintf("create the file %s names, or unset %s_FILE and set %s", pw.name+"_FILE", pw.name, pw.name)}
		}
	}
	id, err := keystore.LoadFile(path, opts)
	if err == nil {
		return id, nil
	}
	ce := &ConfigError{Field: field, Setting: setting, Err: err}
	if errors.Is(err, keystore.ErrWrongPassword) {
		if opts.Password == "" && opts.KeyPassword == "" {
			ce.Remedy = fmt.Sprintf("the keystore needs a password: set %sKEYSTORE_PASSWORD, or %sKEYSTORE_PASSWORD_FILE to a file holding it",
				prefix, prefix)
		} else {
			ce.Remedy = fmt.Sprintf("check %sKEYSTORE_PASSWORD (keytool -list -keystore FILE tells whether it is right); "+
				"a key under its own password needs %sKEY_PASSWORD", prefix, prefix)
		}
	}
	return nil, ce
}

// secretSetting reads a password from NAME, or from the file NAME_FILE names.
// Neither the password nor the file's content ever reaches an error.
func secretSetting(name string, getenv func(string) string) (keystore.Secret, error) {
	file := strings.TrimSpace(getenv(name + "_FILE"))
	if file == "" {
		return keystore.Secret(getenv(name)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return "", fmt.Errorf("client: cannot read the password file %s: %w", file, pe.Err)
		}
		return "", errors.New("client: cannot read the password file " + file)
	}
	return keystore.Secret(strings.TrimRight(string(b), "\r\n")), nil
}

// checkSecretFile refuses, as a *ConfigError naming the setting, a secret
// file other users (group or others) can write: they could put their own key
// or password in it. When secret, a file others can read is used with a
// warning on slog.Default() (ConfigFromEnv has no Logger; a program that
// routes slog elsewhere gets it there), as ssh warns about a key. A file that
// cannot be stat'ed is left to the reader, which says why. Skipped where files
// have no Unix modes (Windows, Plan 9, js, wasip1): their ACLs decide.
func checkSecretFile(field, setting, path string, secret bool) error {
	switch exposure, perm := secretfile.Check(path); {
	case exposure == secretfile.Writable:
		return &ConfigError{Field: field, Setting: setting,
			Problem: fmt.Sprintf("%s has mode %04o: other users can write it", path, perm), Remedy: secretfile.Fix(path)}
	case exposure == secretfile.Readable && secret:
		slog.Default().Warn("client: other users can read a secret file", slog.String("setting", setting),
			slog.String("file", path), slog.String("mode", fmt.Sprintf("%04o", perm)), slog.String("fix", "chmod 600 "+path))
	}
	return nil
}

// rootsWith returns the system's roots plus every certificate of a PEM file
// (or one DER certificate).
func rootsWith(path string) (*x509.CertPool, error) {
	certs, err := certfile.Read(path)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		return nil, fmt.Errorf("client: the system's roots: %w", err)
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}
