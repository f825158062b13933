package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/settings"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// connect loads the settings' keystores and builds a client.
func connect(s *settings.Settings, e *env) (*client.Client, func(), error) {
	cfg, err := s.ClientConfig(e.getenv)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return c, func() { _ = c.Close() }, nil
}

func cmdToken(args []string, e *env) int {
	var show bool
	s, pos, code, ok := connectionFlags("token", "[--show-token] [connection flags]", args, e, func(fs *flag.FlagSet) {
		fs.BoolVar(&show, "show-token", false, "print the access token instead of [REDACTED]")
	})
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(e.stderr, "sfmtls token: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	cfg, err := s.ClientConfig(e.getenv)
	if err != nil {
		return fail(e, err)
	}
	c, err := client.New(cfg)
	if err != nil {
		return fail(e, err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(e.ctx, checkTimeout)
	defer cancel()
	tok, err := c.Token(ctx)
	if err != nil {
		return fail(e, err)
	}
	access := "[REDACTED]"
	if show {
		access = string(tok.AccessToken)
	}
	out := map[string]string{
		"access_token": access, "instance_url": tok.InstanceURL, "id": tok.ID, "scope": tok.Scope,
		"token_type": tok.TokenType, "issued_at": tok.IssuedAt.UTC().Format(time.RFC3339),
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fail(e, err)
	}
	return exitOK
}

func cmdQuery(args []string, e *env) int {
	s, pos, code, ok := connectionFlags("query", "[connection flags] SOQL", args, e, nil)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "sfmtls query: expected one SOQL argument, e.g. 'SELECT Id, Name FROM Account'")
		return exitUsage
	}
	c, done, err := connect(s, e)
	if err != nil {
		return fail(e, err)
	}
	defer done()
	enc := json.NewEncoder(e.stdout)
	for rec, err := range client.Query[json.RawMessage](e.ctx, c, pos[0]) {
		if err != nil {
			return fail(e, err)
		}
		if err := enc.Encode(rec); err != nil {
			return fail(e, err)
		}
	}
	return exitOK
}

// fakeOrgSynopsis is fake-org's usage line.
const fakeOrgSynopsis = "[--dir DIR] [--session-lifetime D] [--api-limit N] [--seed FILE]"

// cmdFakeOrg runs a fake org for clients in any language: it writes the
// keystores, PEM files and a fresh access token into a directory (removed on
// exit unless --dir names it), and prints the SF_* settings, the instance URL
// with its port and a curl line that works.
func cmdFakeOrg(args []string, e *env) int {
	fs := newFlagSet("fake-org", fakeOrgSynopsis, e)
	dir := fs.String("dir", "", "write the keystores here and keep them (default: a temporary directory, removed on exit)")
	lifetime := fs.Duration("session-lifetime", 0, "end sessions this long after login, e.g. 2m (default: never)")
	apiLimit := fs.Int64("api-limit", salesforcetest.DefaultDailyAPIRequests, "daily API allocation; later calls get 403 REQUEST_LIMIT_EXCEEDED")
	seedFile := fs.String("seed", "", "JSON file of custom objects and records to load (default: three Accounts)")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage // flag printed the problem and the usage
	}
	if len(pos) > 0 || *lifetime < 0 || *apiLimit <= 0 {
		switch {
		case len(pos) > 0:
			fmt.Fprintf(e.stderr, "sfmtls fake-org: unexpected argument %q\n", pos[0])
		case *lifetime < 0:
			fmt.Fprintln(e.stderr, "sfmtls fake-org: --session-lifetime must not be negative")
		default:
			fmt.Fprintln(e.stderr, "sfmtls fake-org: --api-limit must be at least 1")
		}
		fs.Usage()
		return exitUsage
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "sfmtls-fake-org-"); err != nil {
			return fail(e, err)
		}
		// The directory holds private keys, the password and a token.
		defer os.RemoveAll(*dir)
	} else if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fail(e, err)
	}
	org, err := salesforcetest.Start(salesforcetest.Config{
		SessionLifetime: *lifetime, DailyAPIRequests: *apiLimit, InstanceURLWithPort: true,
	})
	if err != nil {
		return fail(e, err)
	}
	defer org.Close()
	if err := seedFakeOrg(org, *seedFile); err != nil {
		return fail(e, err)
	}

	// The keystore password goes to a file: it is printed nowhere.
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	password := hex.EncodeToString(raw)
	pwFile := filepath.Join(*dir, "keystore-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return fail(e, err)
	}
	files, err := org.PKI.WriteFiles(*dir, password)
	if err != nil {
		return fail(e, err)
	}
	tokenFile := filepath.Join(*dir, "access-token")
	if err := writeFakeOrgToken(e.ctx, org, tokenFile); err != nil {
		return fail(e, err)
	}
	w := e.stdout
	fmt.Fprintf(w, "# sfmtls fake org at %s (stop with Ctrl-C); files in %s\n", org.URL, *dir)
	fmt.Fprintf(w, "# instance URL (token responses carry it with the port): %s\n", org.InstanceURL)
	for _, kv := range [][2]string{
		{"SF_LOGIN_URL", org.URL}, {"SF_CONSUMER_KEY", org.ConsumerKey}, {"SF_USERNAME", org.Username},
		{"SF_MTLS_KEYSTORE", files.MTLSJKS}, {"SF_JWT_KEYSTORE", files.JWTJKS},
		{"SF_CA_FILE", files.ServerCA}, {"SF_MTLS_PORT", fmt.Sprint(org.Port)},
	} {
		fmt.Fprintf(w, "export %s=%s\n", kv[0], kv[1])
	}
	fmt.Fprintf(w, "export SF_MTLS_KEYSTORE_PASSWORD=\"$(cat %s)\"\n", pwFile)
	fmt.Fprintf(w, "export SF_JWT_KEYSTORE_PASSWORD=\"$(cat %s)\"\n", pwFile)
	fmt.Fprintf(w, "# PEM for other clients: certificate %s, key %s; JWT key %s; consumer key above\n",
		files.MTLSCert, files.MTLSKey, files.JWTKey)
	fmt.Fprintf(w, "# a token from the JWT bearer flow is in %s; with curl:\n", tokenFile)
	fmt.Fprintf(w, "curl --silent --cert %s --key %s --cacert %s -H \"Authorization: Bearer $(cat %s)\" %s\n",
		shellQuote(files.MTLSCert), shellQuote(files.MTLSKey), shellQuote(files.ServerCA), shellQuote(tokenFile),
		shellQuote(org.InstanceURL+"/services/data/v"+salesforcetest.APIVersion+"/limits"))
	fmt.Fprintf(w, "# the fake's own control endpoint (not Salesforce's): GET %s/__sfmtls/stats, POST %s/__sfmtls/expire-sessions\n",
		org.URL, org.URL)
	fmt.Fprintf(w, "# then: sfmtls check; sfmtls query 'SELECT Id, Name FROM Account'\n")
	<-e.ctx.Done()
	return exitOK
}

// seedFakeOrg loads the seed file, or the three default Accounts.
func seedFakeOrg(org *salesforcetest.Org, path string) error {
	if path == "" {
		for _, a := range []map[string]any{
			{"Name": "Acme", "Industry": "Energy"},
			{"Name": "Globex", "Industry": "Manufacturing"},
			{"Name": "Initech", "Industry": "Technology"},
		} {
			if _, err := org.Create("Account", a); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return org.LoadSeed(f)
}

// writeFakeOrgToken logs in with the org's own JWT identity, as any client
// would, and writes the access token to path (0600) for curl.
func writeFakeOrgToken(ctx context.Context, org *salesforcetest.Org, path string) error {
	c, err := client.New(client.Config{Config: org.TransportConfig()})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	tok, err := c.Token(ctx)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(string(tok.AccessToken)), 0o600)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
