// Package settings reads the sfmtls configuration from flags and the
// environment: every flag --x-y has the variable SF_X_Y, and the flag wins.
// Passwords come only from the environment or from files named by flags, never
// from a flag's value, so they stay out of shell history and process listings.
package settings

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sfmtls/sfmtls/client"
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
	MTLSPort    string
	APIVersion  string
	// InstanceHosts are hosts a token's instance_url may name besides the login
	// host and Salesforce's domains (transport.Config.InstanceHosts).
	InstanceHosts []string
}

// Store names a keystore and how to open it.
type Store struct {
	Path, Alias, KeyFile          string
	PasswordFile, KeyPasswordFile string
}

// ErrMissing lists required settings that are not set.
var ErrMissing = errors.New("missing settings")

// Register adds the flags to fs, each defaulting to its SF_ variable. The
// help names the variable, never its value: a default drawn from the
// environment may be a secret (HideEnvDefault).
func (s *Settings) Register(fs *pflag.FlagSet, getenv func(string) string) {
	str := func(p *string, name, usage string) {
		fs.StringVar(p, name, getenv(envName(name)), usage+" ($"+envName(name)+")")
		HideEnvDefault(fs, name)
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
		str(&st.store.Path, p+"-keystore", st.what+" keystore `FILE`: JKS, JCEKS, PKCS#12 or PEM")
		str(&st.store.Alias, p+"-alias", "`ALIAS` of the private key in the "+p+" keystore")
		str(&st.store.KeyFile, p+"-key-file", "PEM only: the private key `FILE` when the keystore file holds only certificates")
		str(&st.store.PasswordFile, p+"-keystore-password-file", "`FILE` holding the "+p+" keystore password (default: $"+envName(p+"-keystore-password")+")")
		str(&st.store.KeyPasswordFile, p+"-key-password-file", "`FILE` holding the "+p+" key password (default: $"+envName(p+"-key-password")+", else the keystore password)")
	}
	str(&s.CAFile, "ca-file", "extra trusted root certificates (PEM `FILE`), for a proxy or a test org")
	str(&s.MTLSPort, "mtls-port", "the mutual TLS `PORT` (default 8443)")
	str(&s.APIVersion, "api-version", "API `VERSION` such as 65.0 (default: the newest the org lists)")
	var hosts []string
	if v := getenv("SF_INSTANCE_HOSTS"); v != "" {
		hosts = strings.Split(v, ",")
	}
	fs.StringSliceVar(&s.InstanceHosts, "instance-hosts", hosts,
		"`HOSTS` (comma-separated) a token's instance URL may name besides the login host and Salesforce's domains; .example.com matches subdomains ($SF_INSTANCE_HOSTS)")
	HideEnvDefault(fs, "instance-hosts")
}

// HideEnvDefault keeps the default of the flag name, drawn from an SF_
// variable, out of the help: pflag prints a flag's DefValue as "(default …)",
// and the value of a variable such as SF_TOKEN_STORE may hold a password. The
// flag keeps its value, so the flag still wins over the variable; the usage
// text names the variable instead.
func HideEnvDefault(fs *pflag.FlagSet, name string) {
	f := fs.Lookup(name)
	if f == nil {
		return
	}
	switch f.Value.Type() {
	case "stringSlice", "stringArray":
		f.DefValue = "[]"
	default:
		f.DefValue = ""
	}
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

// Getenv returns getenv overlaid with the flags: each variable SF_X_Y of a
// connection flag --x-y reads as the flag's value, which defaults to the
// variable, so that client.ConfigFromEnv reads flags and variables alike.
func (s *Settings) Getenv(getenv func(string) string) func(string) string {
	vals := map[string]string{
		"SF_LOGIN_URL": s.LoginURL, "SF_AUDIENCE": s.Audience, "SF_CONSUMER_KEY": s.ConsumerKey,
		"SF_USERNAME": s.Username, "SF_CA_FILE": s.CAFile, "SF_MTLS_PORT": s.MTLSPort,
		"SF_API_VERSION": s.APIVersion, "SF_INSTANCE_HOSTS": strings.Join(s.InstanceHosts, ","),
	}
	for prefix, st := range map[string]*Store{"SF_MTLS_": &s.MTLS, "SF_JWT_": &s.JWT} {
		vals[prefix+"KEYSTORE"] = st.Path
		vals[prefix+"ALIAS"] = st.Alias
		vals[prefix+"KEY_FILE"] = st.KeyFile
		vals[prefix+"KEYSTORE_PASSWORD_FILE"] = st.PasswordFile
		vals[prefix+"KEY_PASSWORD_FILE"] = st.KeyPasswordFile
	}
	return func(name string) string {
		if v, ok := vals[name]; ok {
			return v
		}
		return getenv(name)
	}
}

// ClientConfig reads the settings into a client.Config with
// client.ConfigFromEnv: the SDK's one reader of SF_* settings.
func (s *Settings) ClientConfig(getenv func(string) string) (client.Config, error) {
	return client.ConfigFromEnv(s.Getenv(getenv))
}
