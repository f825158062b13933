package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/internal/jwtbearer"
	"github.com/sfmtls/sfmtls/internal/retry"
	"github.com/sfmtls/sfmtls/internal/tokencodec"
)

// OAuthError is Salesforce's refusal of a token request: the OAuth error and
// description it sent. Fix names the setup step that cures it when the case is
// known. It never holds the assertion.
type OAuthError struct {
	StatusCode  int
	Code        string // e.g. invalid_grant, invalid_client_id
	Description string // Salesforce's error_description
}

func (e *OAuthError) Error() string {
	return fmt.Sprintf("auth: Salesforce refused the token request (%d %s: %s)", e.StatusCode, e.Code, e.Description)
}

// Fixes for the refusals Salesforce documents for the JWT bearer flow.
const (
	fixNotPreAuthorized = "pre-authorize the user: in the app's OAuth policies set Permitted Users to " +
		"\"Admin approved users are pre-authorized\" and add the user's profile or permission set; check the username"
	fixAudience = "the audience must be https://login.salesforce.com for production, https://test.salesforce.com " +
		"for a sandbox, or the Experience Cloud site URL"
	fixInvalidAssertion = "the JWT signing key does not match the certificate uploaded to the app " +
		"(Use digital signatures / JWT bearer flow), or the consumer key belongs to another app"
	fixExpired = "the assertion's exp was refused: check this machine's clock (NTP); " +
		"exp must be in the future and at most 3 minutes ahead"
	fixClientID  = "check the consumer key; a new or changed app can take up to 10 minutes to be usable"
	fixGrant     = "the request must be form-encoded with grant_type=" + jwtbearer.GrantType
	fixMutualTLS = "the user has \"Enforce SSL/TLS Mutual Authentication\": call the My Domain URL on port 8443 " +
		"with the certificate uploaded as Mutual Authentication Certificate"
	fixIPRestrict = "the user's profile restricts login IP ranges or login hours: add this machine's egress IP " +
		"to the profile's Login IP Ranges (or relax the app's IP policy), or call within the login hours"
	fixInactiveUser = "the user (the JWT's sub) is deactivated: reactivate it or use an active integration user"
	fixLoginRate    = "the user logged in too often in the last hour: reuse the access token (one client per process, shared across processes with Config.Store) " +
		"instead of requesting one per call"
)

// Descriptions Salesforce sends with invalid_grant from the token endpoint, as
// its docs and support answers quote them ("OAuth 2.0 JWT Bearer Flow for
// Server-to-Server Integration", "OAuth 2.0 Authorization Errors"). Fix compares
// them whole: a word inside another description must not pick a fix.
const (
	descNotApproved = "user hasn't approved this consumer"
	descAudience    = "audience is invalid"
	descAssertion   = "invalid assertion"
	descExpired     = "expired authorization code"
	descIPRestrict  = "ip restricted or invalid login hours"
	// Salesforce documents no description for a token request without a
	// registered client certificate; this is the one salesforcetest sends.
	descMutualAuth = "mutual authentication failed: the client certificate is not a registered mutual authentication certificate"
)

// Fix names the setup step that cures the refusal, or "" when the case is not
// one Salesforce documents. It decides on the error code, then on the whole
// description (trimmed, any case). MUTUAL_AUTHENTICATION_FAILED has the same
// fix on an API call as on the token request.
func (e *OAuthError) Fix() string {
	switch e.Code {
	case "invalid_client_id":
		return fixClientID
	case "unsupported_grant_type":
		return fixGrant
	case "invalid_app_access":
		return fixNotPreAuthorized
	case "inactive_user":
		return fixInactiveUser
	case "rate_limit_exceeded":
		return fixLoginRate
	case "MUTUAL_AUTHENTICATION_FAILED":
		return fixMutualTLS
	case "invalid_grant":
		return grantFixes[strings.ToLower(strings.TrimSpace(e.Description))]
	}
	return ""
}

// grantFixes maps invalid_grant's documented descriptions to their fix.
var grantFixes = map[string]string{
	descNotApproved: fixNotPreAuthorized,
	descAudience:    fixAudience,
	descAssertion:   fixInvalidAssertion,
	descExpired:     fixExpired,
	descIPRestrict:  fixIPRestrict,
	descMutualAuth:  fixMutualTLS,
}

func newOAuthError(status int, code, description string) *OAuthError {
	return &OAuthError{StatusCode: status, Code: code, Description: description}
}

// ResponseError is an answer from the token endpoint that is not Salesforce's
// OAuth JSON: a proxy's error page, a 5xx, a malformed success. The body is
// never quoted, since a malformed success may still hold a token.
type ResponseError struct {
	URL         string
	StatusCode  int
	ContentType string
	Detail      string
}

func (e *ResponseError) Error() string {
	detail := e.Detail
	if detail == "" {
		detail = "not an OAuth JSON answer"
	}
	return fmt.Sprintf("auth: token endpoint %s answered %d %s (%s, Content-Type %q)",
		e.URL, e.StatusCode, http.StatusText(e.StatusCode), detail, e.ContentType)
}

// Fix says where to look: something other than Salesforce answered, or
// Salesforce answered without a token.
func (e *ResponseError) Fix() string {
	return "the token endpoint did not answer as Salesforce does: check the login URL and any proxy in between"
}

// NetworkError is a failure to reach the token endpoint or read its answer,
// TLS handshake failures included.
type NetworkError struct {
	URL string
	Err error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("auth: token request to %s failed: %v", e.URL, e.Err)
}

// Fix explains a connection the server dropped without a TLS alert, the one
// network failure whose cause is known; else "".
func (e *NetworkError) Fix() string {
	if retry.Dropped(e.Err) {
		return fixDropped
	}
	return ""
}

// fixDropped explains a connection the server dropped without a TLS alert.
const fixDropped = "the server closed the connection: under TLS 1.3 that is how a refused client certificate " +
	"often shows; check the certificate is CA-signed, uploaded as Mutual Authentication Certificate, and sent with its " +
	"intermediates (sfmtls check tells which)"

func (e *NetworkError) Unwrap() error { return e.Err }

// InvalidTokenError is a token answer refused before it was cached or used: an
// access token that is not a valid header value, or an instance URL that is
// not an absolute https URL on the login host or a Salesforce domain. It never
// holds the access token.
type InvalidTokenError struct {
	Field  string // "access_token" or "instance_url"
	Reason string // what is wrong, without the token
	Remedy string // what to do about it; Fix returns it
}

func (e *InvalidTokenError) Error() string {
	return fmt.Sprintf("auth: the token answer's %s is unusable: %s", e.Field, e.Reason)
}

// Fix says what to do about it.
func (e *InvalidTokenError) Fix() string { return e.Remedy }

// StoreFileError is a token file the store will not use: readable by others,
// not a regular file, or not readable at all.
type StoreFileError struct {
	Path   string
	Reason string
	Remedy string // what to do about it, when known; Fix returns it
}

func (e *StoreFileError) Error() string {
	return fmt.Sprintf("auth: token file %s: %s", e.Path, e.Reason)
}

// Fix says what to do about it, or "" when the cause is not known.
func (e *StoreFileError) Fix() string { return e.Remedy }

// LoginRateExceededError is returned, without a request, while logins are
// paused after Salesforce answered "login rate exceeded" (more than 3,600
// logins by one user in an hour).
type LoginRateExceededError struct {
	Until time.Time     // no login is tried before this
	Pause time.Duration // how long the pause is
	Err   *OAuthError   // Salesforce's answer
}

func (e *LoginRateExceededError) Error() string {
	return fmt.Sprintf("auth: Salesforce refused the login: login rate exceeded (more than 3,600 logins by this user in an hour); "+
		"no login is tried for %s, until %s", e.Pause, e.Until.UTC().Format(time.TimeOnly+" MST"))
}

// Fix says what to do about it.
func (e *LoginRateExceededError) Fix() string {
	return "find what logs in as this user so often (Setup → Login History) and share one session, e.g. with a token store"
}

func (e *LoginRateExceededError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// retryable: a failure without an answer that the shared classifier does not
// call final, and 429 and 5xx answers. A token request is safe to send again
// even when it may have been processed: a second login only makes a second
// session.
func retryable(err error) bool {
	var ne *NetworkError
	if errors.As(err, &ne) {
		return retry.Classify(err) != retry.Final
	}
	var re *ResponseError
	if errors.As(err, &re) {
		return re.StatusCode == http.StatusTooManyRequests || re.StatusCode >= 500
	}
	var oe *OAuthError
	if errors.As(err, &oe) {
		return oe.StatusCode == http.StatusTooManyRequests || oe.StatusCode >= 500
	}
	return false
}

// ErrStoreUnavailable marks a Store failure that says nothing about the token:
// the store cannot be reached or did not answer in time. A Store wraps its
// transport errors with it; the client then stops asking the store for a
// while and logs in by itself meanwhile.
var ErrStoreUnavailable = errors.New("auth: token store unavailable")

// ErrStoredToken marks stored bytes that are not a token this SDK can read:
// malformed, oversized, written by another version, or (redisstore) encrypted
// with another key. The client logs in and replaces them.
var ErrStoredToken = tokencodec.ErrStoredToken
