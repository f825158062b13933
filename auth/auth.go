// Package auth implements Salesforce's OAuth 2.0 JWT bearer flow: it signs the
// assertion (RS256; iss = consumer key, sub = username, aud = login URL, exp at
// most 3 minutes ahead), exchanges it at /services/oauth2/token, and caches the
// resulting token. The client's transport caches it for all callers.
//
// Salesforce's JWT bearer response carries no expires_in and no refresh token: a
// session lasts as long as the org's session timeout. The transport therefore
// keeps a token until Salesforce rejects it or, when told the org's session
// timeout, refreshes it shortly before that.
package auth

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/internal/jwtbearer"
)

// mtlsPort is where Salesforce enforces client certificates.
const mtlsPort = 8443

func configError(format string, args ...any) error {
	return fmt.Errorf("auth: %w: %s", errs.ErrConfig, fmt.Sprintf(format, args...))
}

// defaultAudience returns the audience Salesforce expects for a login URL:
// test.salesforce.com for sandboxes (test.salesforce.com itself, or a My Domain
// under .sandbox.my.salesforce.com), login.salesforce.com otherwise.
func defaultAudience(loginURL string) string {
	u, err := url.Parse(loginURL)
	if err != nil {
		return jwtbearer.ProductionAudience
	}
	host := strings.ToLower(u.Hostname())
	if host == "test.salesforce.com" || strings.HasSuffix(host, ".sandbox.my.salesforce.com") {
		return jwtbearer.SandboxAudience
	}
	return jwtbearer.ProductionAudience
}

// loginTokenURL returns the token endpoint for a My Domain login URL: its own port when
// it names one, else port (0 means mtlsPort, 8443).
func loginTokenURL(loginURL string, port int) (string, error) {
	u, err := url.Parse(loginURL)
	if err != nil || u.Host == "" {
		return "", configError("login URL %q is not an absolute URL such as https://acme.my.salesforce.com", loginURL)
	}
	if u.Scheme != "https" {
		return "", configError("login URL %q must use https", loginURL)
	}
	if port == 0 {
		port = mtlsPort
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), fmt.Sprint(port))
	}
	return (&url.URL{Scheme: "https", Host: host, Path: jwtbearer.TokenPath}).String(), nil
}

// TokenSource gives an access token for the org. Implementations must be safe
// for concurrent use. *JWTBearer fetches a new one on every call; the client's transport keeps
// one for all callers. A user can supply their own, e.g. one that reads tokens
// minted elsewhere.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}
