package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/internal/tokencheck"
	"github.com/sfmtls/sfmtls/keystore"
)

// secretToken is the access token every sample below holds where it can.
const secretToken = "00DREDACTME!AQsecretAccessTokenValue"

type sourceFunc func(context.Context) (*auth.Token, error)

func (f sourceFunc) Token(ctx context.Context) (*auth.Token, error) { return f(ctx) }

// exportedTypes lists the exported type names declared in the package's
// non-test files.
func exportedTypes(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, e.Name(), nil, 0)
		require.NoError(t, err)
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				if ts := spec.(*ast.TypeSpec); ts.Name.IsExported() {
					names = append(names, ts.Name.Name)
				}
			}
		}
	}
	require.NotEmpty(t, names)
	return names
}

// Every exported type, in every fmt verb, prints no access token: the walk
// fails when a new exported type has no sample here.
func TestNoExportedTypePrintsTheToken(t *testing.T) {
	tok := &auth.Token{AccessToken: keystore.Secret(secretToken), InstanceURL: "https://acme.my.salesforce.com", ReceivedAt: time.Now()}
	src := sourceFunc(func(context.Context) (*auth.Token, error) { return tok, nil })
	store, err := auth.NewFileStore(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, store.Save(t.Context(), "k", tok))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	bearer, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: "https://acme.my.salesforce.com", ConsumerKey: "k", Username: "u",
		Signer: key, HTTPClient: http.DefaultClient})
	require.NoError(t, err)
	oe := &auth.OAuthError{StatusCode: 400, Code: "invalid_grant", Description: "login rate exceeded"}

	samples := map[string][]any{
		"Token":                  {tok, *tok},
		"TokenSource":            {src},
		"LoginRateExceededError": {&auth.LoginRateExceededError{Until: time.Now(), Pause: time.Minute, Err: oe}},
		"OAuthError":             {oe},
		"ResponseError":          {&auth.ResponseError{URL: "https://x", StatusCode: 500}},
		"NetworkError":           {&auth.NetworkError{URL: "https://x", Err: errors.New("reset")}},
		"FileStore":              {store},
		"StoreFileError":         {&auth.StoreFileError{Path: "/tmp/x", Reason: "mode 0644"}},
		"Store":                  {store},
		"JWTBearerConfig":        {auth.JWTBearerConfig{Username: "u"}},
		"JWTBearer":              {bearer},
		"InvalidTokenError":      {tokencheck.Check(&auth.Token{AccessToken: tok.AccessToken, InstanceURL: "https://other.example"}, "acme.my.salesforce.com", nil)},
	}
	for _, name := range exportedTypes(t) {
		values, ok := samples[name]
		if !assert.True(t, ok, "exported type %s has no sample in this test: add one", name) {
			continue
		}
		for _, v := range values {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
				out := fmt.Sprintf(verb, v)
				assert.NotContains(t, out, secretToken, "%s under %s", name, verb)
				assert.NotContains(t, out, fmt.Sprintf("%x", secretToken), "%s under %s (hex)", name, verb)
			}
		}
	}
}
