package salesforcetest_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

func start(t *testing.T, cfg salesforcetest.Config) *salesforcetest.Org {
	t.Helper()
	org, err := salesforcetest.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(org.Close)
	return org
}

// login fetches a token the plain way: a mutual TLS client and auth.JWTBearer.
func login(t *testing.T, org *salesforcetest.Org) (*http.Client, string) {
	t.Helper()
	c := org.HTTPClient(nil)
	ts, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: c})
	require.NoError(t, err)
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	return c, string(tok.AccessToken)
}

func call(t *testing.T, c *http.Client, token, method, url, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func TestTLSDemandsARegisteredClientCertificate(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	// No client certificate: the handshake fails.
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: org.RootCAs()}}}
	_, err := noCert.Get(org.URL + "/services/data/")
	require.Error(t, err)

	// A certificate from a CA the org does not trust: refused at the TLS layer.
	stranger, err := salesforcetest.NewPKI()
	require.NoError(t, err)
	_, err = org.HTTPClient(stranger.ClientIdentity).Get(org.URL + "/services/data/")
	require.Error(t, err)

	// The certificate request names no CAs, as Salesforce's does.
	var acceptable [][]byte
	seen := false
	cert := org.PKI.ClientIdentity.TLSCertificate()
	probe := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: org.RootCAs(),
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			seen, acceptable = true, cri.AcceptableCAs
			return &cert, nil
		}}}}
	resp, err := probe.Get(org.URL + "/services/data/v65.0/limits")
	require.NoError(t, err)
	resp.Body.Close()
	assert.True(t, seen)
	assert.Empty(t, acceptable)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "TLS passed; no token yet")

	// A trusted but unregistered certificate passes TLS and fails the login.
	other, err := org.PKI.NewClientIdentity("other@example.com", time.Time{}, time.Time{})
	require.NoError(t, err)
	ts, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: org.HTTPClient(other)})
	require.NoError(t, err)
	_, err = ts.Token(t.Context())
	assert.ErrorContains(t, err, "Mutual Authentication Certificate")
}

func TestTokenEndpointShapes(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	c := org.HTTPClient(nil)
	resp, err := c.PostForm(org.URL+"/services/oauth2/token", url.Values{"grant_type": {"password"}})
	require.NoError(t, err)
	var body map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, map[string]string{"error": "unsupported_grant_type", "error_description": "grant type not supported"}, body)

	resp, err = c.Post(org.URL+"/services/oauth2/token", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "form encoding is required")

	_, token := login(t, org)
	assert.True(t, strings.HasPrefix(token, "00D"), "session ids start with the org id")
	st := org.Stats()
	assert.Equal(t, int64(3), st.TokenRequests)
	assert.Equal(t, int64(1), st.TokensIssued)
}

// testClock is an org clock (Config.Now) a test moves forward instead of
// sleeping, so a loaded machine cannot eat a time window.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func TestSessionsExpire(t *testing.T) {
	clock := &testClock{}
	org := start(t, salesforcetest.Config{Now: clock.Now})
	c, token := login(t, org)
	limits := org.URL + "/services/data/v65.0/limits"
	status, _ := call(t, c, token, http.MethodGet, limits, "")
	require.Equal(t, http.StatusOK, status)

	org.Faults().ExpireAllSessions()
	status, body := call(t, c, token, http.MethodGet, limits, "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.JSONEq(t, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`, string(body))

	// The org's clock, not the wall clock, ends the session: no race with a slow login.
	org.Setup().SetSessionLifetime(time.Hour)
	c, token = login(t, org)
	clock.Advance(59 * time.Minute)
	status, _ = call(t, c, token, http.MethodGet, limits, "")
	require.Equal(t, http.StatusOK, status, "the session lives its lifetime")
	clock.Advance(2 * time.Minute)
	status, _ = call(t, c, token, http.MethodGet, limits, "")
	assert.Equal(t, http.StatusUnauthorized, status, "and ends after it")
	assert.Equal(t, int64(2), org.Stats().Unauthorized)
}

func TestQueryPagesWithNextRecordsURL(t *testing.T) {
	org := start(t, salesforcetest.Config{PageSize: 2})
	for i := range 5 {
		org.Data().Insert(t, "Account", map[string]any{"Name": fmt.Sprintf("Acme %d", i), "Industry": "Energy"})
	}
	org.Data().Insert(t, "Account", map[string]any{"Name": "Other", "Industry": "Retail"})
	c, token := login(t, org)

	next := org.URL + "/services/data/v65.0/query?q=" + url.QueryEscape("SELECT Id, Name FROM Account WHERE Industry = 'Energy' ORDER BY Name")
	var names []string
	pages := 0
	for next != "" {
		status, body := call(t, c, token, http.MethodGet, next, "")
		require.Equal(t, http.StatusOK, status, string(body))
		var page struct {
			TotalSize      int              `json:"totalSize"`
			Done           bool             `json:"done"`
			NextRecordsURL string           `json:"nextRecordsUrl"`
			Records        []map[string]any `json:"records"`
		}
		require.NoError(t, json.Unmarshal(body, &page))
		assert.Equal(t, 5, page.TotalSize)
		pages++
		for _, r := range page.Records {
			names = append(names, r["Name"].(string))
			assert.Equal(t, "Account", r["attributes"].(map[string]any)["type"])
		}
		assert.Equal(t, page.Done, page.NextRecordsURL == "")
		next = ""
		if page.NextRecordsURL != "" {
			next = org.URL + page.NextRecordsURL
		}
	}
	assert.Equal(t, 3, pages)
	assert.Equal(t, []string{"Acme 0", "Acme 1", "Acme 2", "Acme 3", "Acme 4"}, names)

	status, body := call(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/query?q=DELETE+everything", "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, string(body), "MALFORMED_QUERY")
}

func TestSObjectLifecycle(t *testing.T) {
	org := start(t, salesforcetest.Config{Objects: []salesforcetest.SObject{{Name: "Account", Fields: []salesforcetest.Field{
		{Name: "Ext_Id__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true}}}}})
	c, token := login(t, org)
	base := org.URL + "/services/data/v65.0/sobjects/Account"

	status, body := call(t, c, token, http.MethodPost, base, `{"Name":"Acme","Ext_Id__c":"A-1"}`)
	require.Equal(t, http.StatusCreated, status)
	var created struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	require.NoError(t, json.Unmarshal(body, &created))
	assert.True(t, created.Success)
	assert.True(t, strings.HasPrefix(created.ID, "001"))

	status, _ = call(t, c, token, http.MethodPatch, base+"/"+created.ID, `{"Name":"Acme Corp"}`)
	assert.Equal(t, http.StatusNoContent, status)
	status, body = call(t, c, token, http.MethodGet, base+"/"+created.ID+"?fields=Name", "")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(body), `"Name":"Acme Corp"`)
	assert.NotContains(t, string(body), "Ext_Id__c", "only the fields asked for")

	status, body = call(t, c, token, http.MethodPatch, base+"/Ext_Id__c/A-1", `{"Name":"Acme Upserted"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(body), `"created":false`)
	status, body = call(t, c, token, http.MethodPatch, base+"/Ext_Id__c/A-2", `{"Name":"New"}`)
	assert.Equal(t, http.StatusCreated, status)
	assert.Contains(t, string(body), `"created":true`)

	status, body = call(t, c, token, http.MethodGet, base+"/describe", "")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(body), `"name":"Ext_Id__c"`)

	status, _ = call(t, c, token, http.MethodDelete, base+"/"+created.ID, "")
	assert.Equal(t, http.StatusNoContent, status)
	status, body = call(t, c, token, http.MethodGet, base+"/"+created.ID, "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.JSONEq(t, `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`, string(body))

	status, body = call(t, c, token, http.MethodGet, org.URL+"/services/data/", "")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(body), `"version":"`+salesforcetest.APIVersion+`"`)
	status, body = call(t, c, token, http.MethodGet, org.URL+"/services/data/v65.0/limits", "")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(body), "DailyApiRequests")
}

func TestStandardPortEnforcesMutualAuthentication(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	_, token := login(t, org)
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: org.RootCAs()}}}
	status, body := call(t, plain, token, http.MethodGet, org.StandardURL+"/services/data/v65.0/limits", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, string(body), "MUTUAL_AUTHENTICATION_FAILED")
}

func TestWriteFilesLoadWithKeystore(t *testing.T) {
	org := start(t, salesforcetest.Config{})
	files, err := org.PKI.WriteFiles(t.TempDir(), "s3cret!")
	require.NoError(t, err)
	for _, path := range []string{files.MTLSJKS, files.MTLSPKCS12} {
		id, err := keystore.LoadFile(path, keystore.Options{Password: "s3cret!"})
		require.NoError(t, err, path)
		assert.True(t, id.Leaf().Equal(org.PKI.ClientIdentity.Leaf()), path)
		assert.Len(t, id.Chain(), 2, "%s: the intermediate travels with the leaf", path)
	}
	for _, path := range []string{files.JWTJKS, files.JWTPKCS12} {
		id, err := keystore.LoadFile(path, keystore.Options{Password: "s3cret!"})
		require.NoError(t, err, path)
		assert.True(t, id.Leaf().Equal(org.PKI.JWTIdentity.Leaf()), path)
	}
	id, err := keystore.LoadFile(files.MTLSCert, keystore.Options{KeyFile: files.MTLSKey})
	require.NoError(t, err)
	assert.True(t, id.Leaf().Equal(org.PKI.ClientIdentity.Leaf()))
	ca, err := os.ReadFile(files.ServerCA)
	require.NoError(t, err)
	assert.Contains(t, string(ca), "BEGIN CERTIFICATE")
}
