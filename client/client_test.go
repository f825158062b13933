package client_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

type account struct {
	ID       string `json:"Id,omitempty"` // a create must not send Id, not even empty
	Name     string `json:"Name"`
	Industry string `json:"Industry,omitempty"`
}

func setup(t *testing.T, cfg salesforcetest.Config, apiVersion string) (*salesforcetest.Org, *client.Client) {
	t.Helper()
	org := salesforcetest.NewOrg(t, cfg)
	c, err := client.New(func() client.Config { cfg := org.ClientConfig(); cfg.APIVersion = apiVersion; return cfg }())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return org, c
}

func TestAPIVersionDefaultsToTheNewest(t *testing.T) {
	_, c := setup(t, salesforcetest.Config{}, "")
	ctx := t.Context()
	v, err := c.APIVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, salesforcetest.APIVersion, v)
	vs, err := c.Versions(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, vs)
	assert.Equal(t, "31.0", vs[0].Version, "REST API Developer Guide, API End-of-Life Policy: 31.0 is the oldest served")
	assert.Equal(t, salesforcetest.APIVersion, vs[len(vs)-1].Version)

	_, pinned := setup(t, salesforcetest.Config{}, "v63.0")
	v, err = pinned.APIVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, "63.0", v)
	_, err = pinned.Limits(ctx)
	require.NoError(t, err)
}

func TestQueryFollowsNextRecordsURLLazily(t *testing.T) {
	org, c := setup(t, salesforcetest.Config{PageSize: 2}, "65.0")
	for i := range 5 {
		org.Data().Insert(t, "Account", map[string]any{"Name": fmt.Sprintf("Acme %d", i), "Industry": "Energy"})
	}
	ctx := t.Context()
	var names []string
	before := org.Stats().APIRequests
	for a, err := range client.Query[account](ctx, c, "SELECT Id, Name FROM Account ORDER BY Name") {
		require.NoError(t, err)
		assert.NotEmpty(t, a.ID)
		names = append(names, a.Name)
	}
	assert.Equal(t, []string{"Acme 0", "Acme 1", "Acme 2", "Acme 3", "Acme 4"}, names)
	assert.Equal(t, int64(3), org.Stats().APIRequests-before, "three pages of two")

	// Stopping early fetches no further page.
	before = org.Stats().APIRequests
	for range client.Query[account](ctx, c, "SELECT Id FROM Account") {
		break
	}
	assert.Equal(t, int64(1), org.Stats().APIRequests-before)

	// Records can be decoded into maps too.
	n := 0
	for rec, err := range client.Query[map[string]any](ctx, c, "SELECT Name FROM Account LIMIT 3") {
		require.NoError(t, err)
		assert.Contains(t, rec, "attributes")
		n++
	}
	assert.Equal(t, 3, n)
}

func TestQueryAllIncludesDeleted(t *testing.T) {
	org, c := setup(t, salesforcetest.Config{}, "65.0")
	ctx := t.Context()
	ids := org.Data().Insert(t, "Account", map[string]any{"Name": "Gone"}, map[string]any{"Name": "Here"})
	require.NoError(t, c.Delete(ctx, "Account", ids[0]))
	count := func(seq func(func(account, error) bool)) int {
		n := 0
		seq(func(_ account, err error) bool { require.NoError(t, err); n++; return true })
		return n
	}
	assert.Equal(t, 1, count(client.Query[account](ctx, c, "SELECT Id FROM Account")))
	assert.Equal(t, 2, count(client.QueryAll[account](ctx, c, "SELECT Id FROM Account")))
}

func TestSObjectCRUD(t *testing.T) {
	_, c := setup(t, salesforcetest.Config{Objects: []salesforcetest.SObject{{Name: "Account", Fields: []salesforcetest.Field{
		{Name: "Ext_Id__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true}}}}}, "")
	ctx := t.Context()
	id, err := c.Create(ctx, "Account", account{Name: "Acme", Industry: "Energy"})
	require.NoError(t, err)

	var got account
	require.NoError(t, c.Get(ctx, "Account", id, []string{"Name", "Industry"}, &got))
	assert.Equal(t, account{ID: id, Name: "Acme", Industry: "Energy"}, got, "the Id comes with the fields asked for")

	require.NoError(t, c.Update(ctx, "Account", id, map[string]any{"Name": "Acme Corp"}))
	require.NoError(t, c.Get(ctx, "Account", id, nil, &got))
	assert.Equal(t, "Acme Corp", got.Name)
	assert.Equal(t, id, got.ID)

	res, err := c.Upsert(ctx, "Account", "Ext_Id__c", "X-1", map[string]any{"Name": "Upserted"})
	require.NoError(t, err)
	assert.True(t, res.Created)
	res2, err := c.Upsert(ctx, "Account", "Ext_Id__c", "X-1", map[string]any{"Name": "Upserted again"})
	require.NoError(t, err)
	assert.False(t, res2.Created)
	assert.Equal(t, res.ID, res2.ID)

	d, err := c.Describe(ctx, "Account")
	require.NoError(t, err)
	assert.Equal(t, "Account", d.Name)
	assert.NotEmpty(t, d.Raw)

	limits, err := c.Limits(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(15000), limits["DailyApiRequests"].Max)

	require.NoError(t, c.Delete(ctx, "Account", id))
	err = c.Get(ctx, "Account", id, nil, &got)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.True(t, apiErr.HasCode("NOT_FOUND"))
	assert.Contains(t, err.Error(), "NOT_FOUND: The requested resource does not exist")
}

func TestRawDoAndErrors(t *testing.T) {
	org, c := setup(t, salesforcetest.Config{}, "")
	ctx := t.Context()
	var echo struct {
		Method string         `json:"method"`
		Path   string         `json:"path"`
		Body   map[string]any `json:"body"`
	}
	require.NoError(t, c.Do(ctx, http.MethodPost, "/services/apexrest/orders", map[string]any{"n": 1}, &echo))
	assert.Equal(t, "POST", echo.Method)
	assert.Equal(t, "/services/apexrest/orders", echo.Path)
	assert.Equal(t, float64(1), echo.Body["n"])

	for _, err := range client.Query[account](ctx, c, "SELEKT nothing") {
		var apiErr *client.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
		assert.True(t, apiErr.HasCode("MALFORMED_QUERY"))
		assert.NotContains(t, apiErr.Path, "SELEKT", "the query string stays out of errors")
	}

	// A write across a session expiry is replayed with a fresh token.
	org.Faults().ExpireAllSessions()
	_, err := c.Create(ctx, "Account", account{Name: "After expiry"})
	require.NoError(t, err)
}

func TestMutualAuthFailureCarriesTheFix(t *testing.T) {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	require.NoError(t, err)
	defer org.Close()
	var port int
	_, err = fmt.Sscanf(org.StandardURL, "https://127.0.0.1:%d", &port)
	require.NoError(t, err)
	cfg := org.ClientConfig()
	cfg.Port = port
	c, err := client.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Limits(t.Context())
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.HasCode("MUTUAL_AUTHENTICATION_FAILED"))
	assert.Contains(t, apiErr.Fix(), "Enforce SSL/TLS Mutual Authentication")
	assert.NotContains(t, apiErr.Error(), apiErr.Fix(), "Error says what went wrong; Fix says how to mend it")
}
