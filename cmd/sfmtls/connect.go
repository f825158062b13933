package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
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

func cmdFakeOrg(args []string, e *env) int {
	fs := newFlagSet("fake-org", "[--dir DIR]", e)
	dir := fs.String("dir", "", "write the keystores here (default: a new temporary directory)")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) > 0 {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "sfmtls-fake-org-"); err != nil {
			return fail(e, err)
		}
	} else if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fail(e, err)
	}
	org, err := salesforcetest.Start(salesforcetest.Config{PageSize: 200})
	if err != nil {
		return fail(e, err)
	}
	defer org.Close()
	org.Insert("Account",
		map[string]any{"Name": "Acme", "Industry": "Energy"},
		map[string]any{"Name": "Globex", "Industry": "Manufacturing"},
		map[string]any{"Name": "Initech", "Industry": "Technology"})

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
	w := e.stdout
	fmt.Fprintf(w, "# sfmtls fake org at %s (stop with Ctrl-C); keystores in %s\n", org.URL, *dir)
	for _, kv := range [][2]string{
		{"SF_LOGIN_URL", org.URL}, {"SF_CONSUMER_KEY", org.ConsumerKey}, {"SF_USERNAME", org.Username},
		{"SF_MTLS_KEYSTORE", files.MTLSJKS}, {"SF_JWT_KEYSTORE", files.JWTJKS},
		{"SF_CA_FILE", files.ServerCA}, {"SF_MTLS_PORT", fmt.Sprint(org.Port)},
	} {
		fmt.Fprintf(w, "export %s=%s\n", kv[0], kv[1])
	}
	fmt.Fprintf(w, "export SF_MTLS_KEYSTORE_PASSWORD=\"$(cat %s)\"\n", pwFile)
	fmt.Fprintf(w, "export SF_JWT_KEYSTORE_PASSWORD=\"$(cat %s)\"\n", pwFile)
	fmt.Fprintf(w, "# then: sfmtls check; sfmtls query 'SELECT Id, Name FROM Account'\n")
	<-e.ctx.Done()
	return exitOK
}
