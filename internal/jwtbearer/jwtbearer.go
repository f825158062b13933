// Package jwtbearer holds the values Salesforce documents for its OAuth 2.0
// JWT bearer flow ("OAuth 2.0 JWT Bearer Flow for Server-to-Server
// Integration"), shared by auth, which signs and sends the assertion, and the
// fake org, which checks it.
package jwtbearer

import "time"

const (
	// GrantType is the grant_type of the token request.
	GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// TokenPath is the token endpoint's path.
	TokenPath = "/services/oauth2/token"
	// ProductionAudience and SandboxAudience are the JWT audiences Salesforce
	// accepts for production and sandbox orgs; Experience Cloud sites use
	// their own URL.
	ProductionAudience = "https://login.salesforce.com"
	SandboxAudience    = "https://test.salesforce.com"
	// MaxAssertionLifetime is the longest exp Salesforce accepts ahead of now.
	MaxAssertionLifetime = 3 * time.Minute
)
