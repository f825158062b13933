package salesforcetest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/sfmtls/sfmtls/internal/jwtbearer"
)

// expSkew is the tolerance on exp beyond the 3-minute limit.
const expSkew = 30 * time.Second

// The error descriptions Salesforce sends for the JWT bearer flow.
const (
	descNotApproved = "user hasn't approved this consumer"
	descAudience    = "audience is invalid"
	descAssertion   = "invalid assertion"
	descExpired     = "expired authorization code"
	descClientID    = "client identifier invalid"
	descGrantType   = "grant type not supported"
	descMutualAuth  = "mutual authentication failed: the client certificate is not a registered Mutual Authentication Certificate" // the docs give none; auth.OAuthError.Fix knows this one
	codeMutualAuth  = "MUTUAL_AUTHENTICATION_FAILED"
	// msgMutualAuth is the message of the REST API's 401 for a call that did
	// not come over mutual TLS by a user who must use it. Salesforce's pages
	// name the code but print no body; this message is the one clients
	// report (jsforce issue 27: "MUTUAL_AUTHENTICATION_FAILED: This session
	// could not be mutually authenticated for the use with REST API").
	msgMutualAuth    = "This session could not be mutually authenticated for the use with REST API"
	orgID15          = "00D8d0000000001" // the org's id; session ids start with it and "!"
	sessionIDPrefix  = orgID15 + "!"
	tokenContentType = "application/json;charset=UTF-8"
)

func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", tokenContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

func (o *Org) handleToken(w http.ResponseWriter, r *http.Request) {
	o.tokenRequests.Add(1)
	o.mu.Lock()
	delay := o.tokenDelay
	var fault http.Handler
	if len(o.tokenFaults) > 0 {
		fault, o.tokenFaults = o.tokenFaults[0], o.tokenFaults[1:]
	}
	appCert := o.appCert
	o.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if fault != nil {
		fault.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "must use HTTP POST")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", descGrantType)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != jwtbearer.GrantType {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", descGrantType)
		return
	}
	claims, code, desc := o.checkAssertion(r.PostForm.Get("assertion"), appCert)
	if code != "" {
		oauthError(w, http.StatusBadRequest, code, desc)
		return
	}
	if !o.mutualAuthOK(r) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", descMutualAuth)
		return
	}
	o.issueToken(w, claims.Subject)
}

// checkAssertion applies Salesforce's checks and returns the OAuth error code and
// description of the first that fails.
func (o *Org) checkAssertion(assertion string, appCert *x509.Certificate) (*jwt.RegisteredClaims, string, string) {
	var claims jwt.RegisteredClaims
	unverified, _, err := jwt.NewParser().ParseUnverified(assertion, &claims)
	if err != nil || unverified == nil {
		return nil, "invalid_grant", descAssertion
	}
	if claims.Issuer != o.ConsumerKey {
		return nil, "invalid_client_id", descClientID
	}
	pub, ok := appCert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, "invalid_grant", descAssertion
	}
	_, err = jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(assertion, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return pub, nil })
	if err != nil {
		return nil, "invalid_grant", descAssertion
	}
	if len(claims.Audience) != 1 || claims.Audience[0] != o.Audience {
		return nil, "invalid_grant", descAudience
	}
	now := o.now()
	if claims.ExpiresAt == nil || !claims.ExpiresAt.After(now) || claims.ExpiresAt.After(now.Add(jwtbearer.MaxAssertionLifetime+expSkew)) {
		return nil, "invalid_grant", descExpired
	}
	o.mu.Lock()
	approved := o.preAuthorized[claims.Subject]
	o.mu.Unlock()
	if !approved {
		return nil, "invalid_grant", descNotApproved
	}
	return &claims, "", ""
}

// mutualAuthOK: the call came with a registered Mutual Authentication Certificate.
func (o *Org) mutualAuthOK(r *http.Request) bool {
	return r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && o.registered(r.TLS.PeerCertificates[0])
}

func (o *Org) issueToken(w http.ResponseWriter, user string) {
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	token := sessionIDPrefix + hex.EncodeToString(raw)
	now := o.now()
	o.mu.Lock()
	s := session{user: user}
	if o.lifetime > 0 {
		s.expires = now.Add(o.lifetime)
	}
	o.sessions[token] = s
	o.issued = append(o.issued, token)
	o.mu.Unlock()
	o.tokensIssued.Add(1)
	w.Header().Set("Content-Type", tokenContentType)
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"access_token": token,
		// Never the mutual TLS port: Salesforce's instance_url is the host
		// alone (port 443), where this user's API calls fail (StandardURL).
		"instance_url": o.StandardURL,
		"id":           o.identityURL(user),
		"token_type":   "Bearer",
		"scope":        "api",
		"issued_at":    strconv.FormatInt(now.UnixMilli(), 10),
		"signature":    hex.EncodeToString(raw[:8]),
	})
}

// sessionFor returns the user of a valid session, or false.
func (o *Org) sessionFor(token string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.sessions[token]
	if !ok {
		return "", false
	}
	if !s.expires.IsZero() && o.now().After(s.expires) {
		delete(o.sessions, token)
		return "", false
	}
	return s.user, true
}
