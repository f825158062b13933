package salesforcetest

import (
	"testing"

	"github.com/sfmtls/sfmtls/client"
)

// NewOrg starts a fake org for a test, as httptest.NewServer starts a server:
// a failure to start fails the test, and the org closes when the test ends.
func NewOrg(tb testing.TB, cfg Config) *Org {
	tb.Helper()
	org, err := Start(cfg)
	if err != nil {
		tb.Fatalf("salesforcetest: starting the fake org: %v", err)
	}
	tb.Cleanup(org.Close)
	return org
}

// ClientConfig returns a client.Config ready for the org: its login URL and
// mutual TLS port, consumer key, user and audience, the registered client
// identity, the app's JWT identity, and roots that trust the org's server.
// Change a field to test a misconfiguration.
func (o *Org) ClientConfig() client.Config {
	return client.Config{
		LoginURL:    o.URL,
		Audience:    o.Audience,
		ConsumerKey: o.ConsumerKey,
		Username:    o.Username,
		MTLS:        o.PKI.ClientIdentity,
		JWT:         o.PKI.JWTIdentity,
		RootCAs:     o.RootCAs(),
		Port:        o.Port,
	}
}

// Client returns a ready client for the org, as httptest.Server.Client does,
// closed when the test ends. A failure to build it fails the test.
func (o *Org) Client(tb testing.TB) *client.Client {
	tb.Helper()
	c, err := client.New(o.ClientConfig())
	if err != nil {
		tb.Fatalf("salesforcetest: client for the fake org: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
