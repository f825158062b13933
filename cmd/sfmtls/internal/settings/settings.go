// Package settings reads the sfmtls configuration from flags and the
// environment: every flag --x-y has the variable SF_X_Y, and the flag wins.
// Passwords come only from the environment or from files named by flags, never
// from a flag's value, so they stay out of shell history and process listings.
package settings

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/transport"
)

// Settings is the configuration of a connection.
type Settings struct {
	LoginURL    string
	Audience    string
	ConsumerKey string
	Username    string
	MTLS        Store
	JWT         Store // empty Path: the MTLS store serves the JWT too
	CAFile      string
	MTLSPort    int
	APIVersion  string
	// InstanceHosts are hosts a token's instance_url may name besides the login
	// host and Salesforce's domains (transport.Config.InstanceHosts).
	InstanceHosts []string
}

// Store names a keystore and how to open it.
type Store struct {
	Path, Alias, KeyFile          string
	PasswordFile, KeyPasswordFile string
	passwordVar, keyPasswordVar   string
	passwordFlag                  string
}

// ErrMissing lists required settings that are not set.
var ErrMissing = errors.New("missing settings")

// ErrNoPassword: a keystore that needs a password was opened without one; the
// error names the variable and the flag that supply it.
var ErrNoPassword = errors.New("no password given")

// Register adds the flags to fs, each defaulting to its SF_ variable.
func (s *Settings) Register(fs *pflag.FlagSet, getenv func(string) string) {
	str := func(p *string, name, usage string) {
		fs.StringVar(p, name, getenv(envName(name)), usage+" ($"+envName(name)+")")
	}
	str(&s.LoginURL, "login-url", "the org's My Domain `URL`, e.g. https://acme.my.salesforce.com")
	str(&s.Audience, "audience", "JWT audience `URL` (default: https://login.salesforce.com, or https://test.salesforce.com for sandboxes)")
	str(&s.ConsumerKey, "consumer-key", "the app's consumer `KEY`")
	str(&s.Username, "username", "the integration user's `NAME`")
	for _, st := range []struct {
		store  *Store
		prefix string
		what   string
	}{{&s.MTLS, "mtls", "the CA-signed client certificate's"}, {&s.JWT, "jwt", "the JWT signing key's (default: the mtls keystore)"}} {
		p := st.prefix
		st.store.passwordVar = envName(p + "-keystore-password")
		st.store.keyPasswordVar = envName(p + "-key-password")
		st.store.passwordFlag = "--" + p + "-keystore-password-file"
		str(&st.store.Path, p+"-keystore", st.what+" keystore `FILE`: JKS, JCEKS, PKCS#12 or PEM")
		str(&st.store.Alias, p+"-alias", "`ALIAS` of the private key in the "+p+" keystore")
		str(&st.store.KeyFile, p+"-key-file", "PEM only: the private key `FILE` when the keystore file holds only certificates")
		fs.StringVar(&st.store.PasswordFile, p+"-keystore-password-file", "", "`FILE` holding the "+p+" keystore password (default: $"+st.store.passwordVar+")")
		fs.StringVar(&st.store.KeyPasswordFile, p+"-key-password-file", "", "`FILE` holding the "+p+" key password (default: $"+st.store.keyPasswordVar+", else the keystore password)")
	}
	str(&s.CAFile, "ca-file", "extra trusted root certificates (PEM `FILE`), for a proxy or a test org")
	port := getenv("SF_MTLS_PORT")
	n, _ := strconv.Atoi(port)
	fs.IntVar(&s.MTLSPort, "mtls-port", n, "the mutual TLS `PORT` (default 8443) ($SF_MTLS_PORT)")
	str(&s.APIVersion, "api-version", "API `VERSION` such as 65.0 (default: the newest the org lists)")
	var hosts []string
	if v := getenv("SF_INSTANCE_HOSTS"); v != "" {
		hosts = strings.Split(v, ",")
	}
	fs.StringSliceVar(&s.InstanceHosts, "instance-hosts", hosts,
		"`HOSTS` (comma-separated) a token's instance URL may name besides the login host and Salesforce's domains; .example.com matches subdomains ($SF_INSTANCE_HOSTS)")
}

// FromEnv reads the settings from the environment alone.
func FromEnv(getenv func(string) string) *Settings {
	s := &Settings{}
	fs := pflag.NewFlagSet("env", pflag.ContinueOnError)
	s.Register(fs, getenv)
	return s
}

func envName(flagName string) string {
	return "SF_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Any reports whether any connection setting is set, to tell a configured run
// from one that should use the fake org.
func (s *Settings) Any() bool {
	return s.LoginURL != "" || s.ConsumerKey != "" || s.Username != "" || s.MTLS.Path != ""
}

// Check returns ErrMissing naming what a connection needs and lacks.
func (s *Settings) Check() error {
	var missing []string
	for _, m := range []struct{ v, name string }{
		{s.LoginURL, "--login-url/SF_LOGIN_URL"}, {s.ConsumerKey, "--consumer-key/SF_CONSUMER_KEY"},
		{s.Username, "--username/SF_USERNAME"}, {s.MTLS.Path, "--mtls-keystore/SF_MTLS_KEYSTORE"},
	} {
		if m.v == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissing, strings.Join(missing, ", "))
	}
	return nil
}

// Options returns how to open the store, with its passwords read.
func (st *Store) Options(getenv func(string) string) (keystore.Options, error) {
	pw, err := secret(st.PasswordFile, st.passwordVar, getenv)
	if err != nil {
		return keystore.Options{}, err
	}
	kpw, err := secret(st.KeyPasswordFile, st.keyPasswordVar, getenv)
	if err != nil {
		return keystore.Options{}, err
	}
	return keystore.Options{Password: pw, KeyPassword: kpw, Alias: st.Alias, KeyFile: st.KeyFile}, nil
}

// Load opens the store. A store that needs a password opened without any
// gives an error that is also ErrNoPassword and names where it comes from.
func (st *Store) Load(getenv func(string) string) (*keystore.Identity, error) {
	opts, err := st.Options(getenv)
	if err != nil {
		return nil, err
	}
	id, err := keystore.LoadFile(st.Path, opts)
	if err != nil && opts.Password == "" && opts.KeyPassword == "" && errors.Is(err, keystore.ErrWrongPassword) {
		return nil, fmt.Errorf("%w; %w: %s", err, ErrNoPassword, st.PasswordSource())
	}
	return id, err
}

// PasswordSource says where the store's password comes from, for a fix line.
func (st *Store) PasswordSource() string {
	return fmt.Sprintf("set %s or give %s FILE", st.passwordVar, st.passwordFlag)
}

func secret(file, variable string, getenv func(string) string) (keystore.Secret, error) {
	if file == "" {
		return keystore.Secret(getenv(variable)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("cannot read password file: %w", err)
	}
	return keystore.Secret(strings.TrimRight(string(b), "\r\n")), nil
}

// ExtraRoots reads CAFile.
func (s *Settings) ExtraRoots() ([]*x509.Certificate, error) {
	if s.CAFile == "" {
		return nil, nil
	}
	certs, err := ReadCertificates(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("CA file (--ca-file, SF_CA_FILE): %w", err)
	}
	return certs, nil
}

// ReadCertificates reads every certificate of a PEM file (or one DER
// certificate), leaf first as a CA delivers them.
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the certificate file: %w", err)
	}
	var certs []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate file %s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		if c, err := x509.ParseCertificate(data); err == nil {
			return []*x509.Certificate{c}, nil
		}
		return nil, fmt.Errorf("certificate file %s holds no PEM certificate (nor one DER certificate)", path)
	}
	return certs, nil
}

// ClientConfig loads both identities and the roots into a client.Config.
func (s *Settings) ClientConfig(getenv func(string) string) (client.Config, error) {
	if err := s.Check(); err != nil {
		return client.Config{}, err
	}
	mtls, err := s.MTLS.Load(getenv)
	if err != nil {
		return client.Config{}, err
	}
	jwt := mtls
	if s.JWT.Path != "" {
		if jwt, err = s.JWT.Load(getenv); err != nil {
			return client.Config{}, err
		}
	}
	roots, err := s.ExtraRoots()
	if err != nil {
		return client.Config{}, err
	}
	return client.Config{Config: transport.Config{
		LoginURL: s.LoginURL, Audience: s.Audience, ConsumerKey: s.ConsumerKey, Username: s.Username,
		MTLS: mtls, JWT: jwt, ExtraRoots: roots, Port: s.MTLSPort, InstanceHosts: s.InstanceHosts,
	}, APIVersion: s.APIVersion}, nil
}
