package salesforcetest_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// No false pass: Salesforce's token answer names the instance by its host
// alone, so a client that calls instance_url as given reaches port 443,
// where a user with "Enforce SSL/TLS Mutual Authentication" gets 401
// MUTUAL_AUTHENTICATION_FAILED; the API answers on 8443 with the client
// certificate (Salesforce Help, "Configure Your API Client to Use Mutual
// Authentication",
// https://help.salesforce.com/s/articleView?id=sf.security_keys_uploading_mutual_auth_cert_api.htm).
// The body is the one clients report (jsforce issue 27,
// https://github.com/jsforce/jsforce/issues/27). On loopback StandardURL
// plays 443 and Port plays 8443.
func TestInstanceURLNeverNamesTheMutualTLSPort(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c := org.HTTPClient(nil) // presents the registered certificate wherever asked
	ts, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: c})
	require.NoError(t, err)
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)

	inst, err := url.Parse(tok.InstanceURL)
	require.NoError(t, err)
	assert.NotEqual(t, strconv.Itoa(org.Port), inst.Port(), "instance_url must not name the mutual TLS port")
	assert.Equal(t, org.StandardURL, tok.InstanceURL, "instance_url names the port that plays 443")

	// Called as given: 401 with Salesforce's body, for every API resource.
	for _, path := range []string{"/services/data/v65.0/limits", "/services/data/v65.0/query?q=SELECT+Id+FROM+Account", "/services/data/v65.0/sobjects/Account"} {
		status, body := call(t, c, string(tok.AccessToken), http.MethodGet, tok.InstanceURL+path, "")
		assert.Equal(t, http.StatusUnauthorized, status, path)
		assert.JSONEq(t, `[{"message":"This session could not be mutually authenticated for the use with REST API","errorCode":"MUTUAL_AUTHENTICATION_FAILED"}]`, string(body), path)
	}

	// The same call on the host with the mutual TLS port in its place works.
	inst.Host = inst.Hostname() + ":" + strconv.Itoa(org.Port)
	status, body := call(t, c, string(tok.AccessToken), http.MethodGet, inst.String()+"/services/data/v65.0/limits", "")
	assert.Equal(t, http.StatusOK, status, string(body))

	// The SDK, configured as ever (Port is the mutual TLS port), works
	// unchanged: it takes the instance's host and puts in Config.Port.
	cl := org.Client(t)
	base, err := cl.InstanceURL(t.Context())
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(org.Port), base.Port())
	_, err = cl.Limits(t.Context())
	require.NoError(t, err)
}
